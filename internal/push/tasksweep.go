package push

import (
	"context"
	"errors"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Following open WeCom tasks without reading them all every minute.
//
// An open task is polled every ten minutes, at its own minute of ten
// (qunyun.TaskPollMinute), and the store files it under that minute
// (dynamo.Deliveries.OpenTasks), so a tick reads the tasks whose minute
// came since the last sweep: a tenth of them each minute, and what it
// reads it polls (issue #17: 500 open tasks cost 501 requests a minute).
// What must happen between polls — a reminder, a deadline, TaskExpiry, the
// follow edge — a container remembers from the last read of the task
// (soon) and does at its minute, after reading the task again. Quiet
// hours beginning, a container's first sweep, a gap of ten minutes or more
// since the last sweep, and every FullTaskSweep, read them all: a task
// stored before tasks were filed by minute, or one a failed read skipped,
// is followed then.
//
// What this may get wrong, and for how long: a task another container made
// is first read at its poll minute, so a reminder or end due within ten
// minutes of its making comes up to ten minutes late; one a partition
// found empty hides comes up to SweepIdle later (as before).

// FullTaskSweep is how often every open task is read.
const FullTaskSweep = time.Hour

// preloadGroups reports whether a sweep following tasks open tasks in a
// community of about groups groups reads every group in one query rather
// than each task's group on its own: when that costs less. A group read
// alone is about 1 RRU (strongly consistent); listed, about 16 go in one
// (some 500 bytes each, 4 KB per 0.5 RRU).
func preloadGroups(tasks, groups int) bool {
	return tasks > 20 && tasks*16 > groups
}

// taskSweep is what one sweep reads of the open tasks: all of them, or
// those of the poll minutes in minutes.
type taskSweep struct {
	all     bool
	minutes map[int]bool
}

// polls reports whether a task read by this sweep is due for polling: its
// minute came since the last sweep (for a sweep of them all, it is now).
func (p taskSweep) polls(id string, now time.Time) bool {
	m := qunyun.TaskPollMinute(id)
	if p.all {
		return m == now.Minute()%10
	}
	return p.minutes[m]
}

type soonTask struct {
	d  qunyun.Delivery
	at time.Time
}

// planTaskSweep decides what the sweep at now reads of the open tasks.
func (s *Service) planTaskSweep(now time.Time, quietBegins bool) taskSweep {
	s.memory.mu.Lock()
	last, all := s.memory.tasksAt, s.memory.tasksAllAt
	s.memory.mu.Unlock()
	if quietBegins || last.IsZero() || all.IsZero() || now.Sub(all) >= FullTaskSweep || now.Sub(last) >= 10*time.Minute {
		return taskSweep{all: true}
	}
	p := taskSweep{minutes: map[int]bool{now.Minute() % 10: true}}
	for t := last.Add(time.Minute); t.Before(now); t = t.Add(time.Minute) {
		p.minutes[t.Minute()%10] = true
	}
	return p
}

// openTasks reads a date's open tasks as plan says. A date found without
// open tasks is skipped for SweepIdle unless force, then read whole.
func (s *Service) openTasks(ctx context.Context, date string, now time.Time, force bool, plan taskSweep) ([]qunyun.DeliveryRecord, error) {
	k := sweepKey{date, qunyun.DeliveryTaskCreated}
	s.memory.mu.Lock()
	at, empty := s.memory.emptyAt[k]
	s.memory.mu.Unlock()
	if empty && !force && now.Sub(at) < SweepIdle && !now.Before(at) {
		return nil, nil
	}
	if plan.all || empty {
		items, err := s.Store.Deliveries.DayDeliveries(ctx, date, qunyun.DeliveryTaskCreated)
		if err == nil {
			s.swept(k, now, len(items) == 0)
		}
		return items, err
	}
	var out []qunyun.DeliveryRecord
	for m := range plan.minutes {
		items, err := s.Store.Deliveries.OpenTasks(ctx, date, m)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// nextAttention is when an open task next needs more than a poll: its next
// reminder, or its end (deadline, TaskExpiry, follow edge).
func (s *Service) nextAttention(d qunyun.Delivery) time.Time {
	end := followEdge(d)
	if !d.Deadline.IsZero() && d.Deadline.Before(end) {
		end = d.Deadline
	}
	if exp := d.SendStartedAt.Add(s.taskExpiry()); exp.Before(end) {
		end = exp
	}
	if d.Reminders < qunyun.MaxTaskReminders {
		last := d.LastRemindedAt
		if last.IsZero() {
			last = d.SendStartedAt
		}
		if r := last.Add(s.remindEvery()); r.Before(end) {
			return r
		}
	}
	return end
}

// rememberTask notes a task just followed whose reminder or end comes
// before its next poll minute; a task no longer open is forgotten.
func (s *Service) rememberTask(it qunyun.DeliveryRecord, now time.Time) {
	at := s.nextAttention(it.Delivery)
	s.remember(func(m *tickMemory) {
		if it.State != qunyun.DeliveryTaskCreated || !at.Before(now.Add(10*time.Minute)) {
			delete(m.soon, it.ID)
			return
		}
		if m.soon == nil {
			m.soon = map[string]soonTask{}
		}
		m.soon[it.ID] = soonTask{it.Delivery, at}
	})
}

// followRemembered follows the remembered tasks whose minute has come and
// that this sweep did not read, each read again first. A task whose end
// has come and which is still open (its withdrawal failed) stays
// remembered: it is followed again at every tick until it ends.
func (s *Service) followRemembered(ctx context.Context, cat *catalog, now time.Time, followed map[string]bool, out *Outcome) error {
	var due []soonTask
	s.remember(func(m *tickMemory) {
		for id, t := range m.soon {
			if !t.at.After(now) && !followed[id] {
				delete(m.soon, id)
				due = append(due, t)
			}
		}
	})
	var errs []error
	for _, t := range due {
		it, found, err := s.Store.Deliveries.GetDelivery(ctx, t.d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !found || it.State != qunyun.DeliveryTaskCreated {
			continue
		}
		errs = append(errs, s.followTask(ctx, cat, &it, now, false, out))
		s.rememberTask(it, now)
	}
	return errors.Join(errs...)
}

// taskSwept notes a sweep of the open tasks at now.
func (s *Service) taskSwept(now time.Time, plan taskSweep) {
	s.remember(func(m *tickMemory) {
		m.tasksAt = later(m.tasksAt, now)
		if plan.all {
			m.tasksAllAt = later(m.tasksAllAt, now)
		}
	})
}

// loadGroups reads every group into the catalog in one query, once.
func (c *catalog) loadGroups(ctx context.Context) error {
	c.mu.Lock()
	done := c.allGroups
	c.mu.Unlock()
	if done {
		return nil
	}
	groups, err := c.s.Store.Catalog.Groups(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range groups {
		if _, ok := c.groups[groups[i].ID]; !ok {
			c.groups[groups[i].ID] = &groups[i]
		}
	}
	c.allGroups = true
	return nil
}
