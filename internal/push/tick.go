package push

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
	"github.com/qunyun/qunyun/internal/qunyun"
)

const (
	function = "push"
	tickKind = "tick"
)

// ReasonAccountMissing: unknown: the account of an open WeCom task is not in
// the accounts directory, so the task could be neither read nor withdrawn
// before it expired; the owner may still post it.
const ReasonAccountMissing = "account_missing"

// TickReport says what one tick did.
type TickReport struct {
	Scheduled   time.Time `json:"scheduled"`
	AlreadyDone bool      `json:"alreadyDone,omitempty"`
	From        time.Time `json:"from,omitzero"` // first minute expanded (catch-up); unset when already done
	Minutes     int       `json:"minutes"`
	Deliveries  int       `json:"deliveries"` // expanded
	*Outcome
}

// Tick runs the minute schedule for scheduled (ScheduleV2's scheduled time):
// expand every minute since the last completed tick (at most MaxCatchUp
// back), claim and send what is due, then look after open WeCom tasks and
// abandoned claims. Running it twice for the same time does nothing new,
// and ticks may overlap (Scheduler invokes asynchronously): a minute
// expanded twice claims the same deliveries, so only one send happens.
//
// The cursor (the last minute expanded) says what is done: a tick for a
// time at or before it has nothing left to do. A warm container keeps what
// it needs to tell an idle minute cheaply (see tickcache.go).
func (s *Service) Tick(ctx context.Context, scheduled time.Time) (TickReport, error) {
	scheduled = scheduled.UTC().Truncate(time.Minute)
	rep := TickReport{Scheduled: scheduled, Outcome: &Outcome{}}
	cursor, err := s.tickCursor(ctx, scheduled)
	if err != nil {
		return rep, err
	}
	if !cursor.Before(scheduled) {
		rep.AlreadyDone = true
		return rep, nil
	}
	from := cursor.Add(time.Minute)
	if earliest := scheduled.Add(-s.maxCatchUp()); from.Before(earliest) {
		s.log().Warn("tick too late: skipping stale minutes", "from", from, "to", earliest)
		from = earliest
	}
	rep.From = from
	rep.Minutes = int(scheduled.Sub(from)/time.Minute) + 1
	view, err := s.dueView(ctx)
	if err != nil {
		return rep, err
	}
	due := false
	for m := from; !m.After(scheduled) && !due; m = m.Add(time.Minute) {
		due = view.mayBeDue(m)
	}
	defer s.emit(rep.Outcome)
	cat := s.newCatalog(nil)
	if due {
		if cat, err = s.runDue(ctx, from, scheduled, &rep); err != nil {
			// The cursor stays put: the next tick expands these minutes
			// again, and the claims make that safe (a dead process writes
			// nothing more).
			return rep, err
		}
	}
	// Following older work must not hold back the cursor: a task WeChat
	// will not answer for is retried on the next sweep, not by re-expanding.
	quiet := view.quietBegins(from.Add(-time.Minute), scheduled)
	if err := s.sweep(ctx, cat, scheduled, rep.Deliveries > 0 || quiet, quiet, view.groups, rep.Outcome); err != nil {
		s.log().Error("sweep of open deliveries failed", "err", err)
	}
	if err := s.syncNight(ctx, cat, scheduled); err != nil {
		s.log().Warn("nightly group sync: some groups were not read", "err", err)
	}
	return rep, s.saveCursor(ctx, scheduled, due)
}

// tickCursor is the last minute expanded: the container's own when warm
// and in step, else the table's; the first tick ever anchors it just
// before itself, so that if it fails halfway the next one expands this
// minute again instead of starting at its own (which would lose the
// unclaimed).
func (s *Service) tickCursor(ctx context.Context, scheduled time.Time) (time.Time, error) {
	cursor := s.knownCursor()
	if cursor.Before(scheduled.Add(-time.Minute)) {
		stored, err := s.Store.Deliveries.Cursor(ctx, function, tickKind)
		if err != nil {
			return cursor, err
		}
		if stored.After(cursor) {
			cursor = stored
		}
		s.remember(func(m *tickMemory) {
			m.cursor = later(m.cursor, stored)
			m.saved = later(m.saved, stored)
		})
	}
	if cursor.IsZero() {
		cursor = scheduled.Add(-time.Minute)
		if err := s.Store.Deliveries.AdvanceCursor(ctx, function, tickKind, cursor); err != nil {
			return cursor, err
		}
		s.remember(func(m *tickMemory) { m.cursor, m.saved = later(m.cursor, cursor), later(m.saved, cursor) })
	}
	return cursor, nil
}

// runDue expands the minutes from..scheduled from the catalog as it is
// now, and claims and runs what is due; it returns that catalog.
func (s *Service) runDue(ctx context.Context, from, scheduled time.Time, rep *TickReport) (*catalog, error) {
	plans, err := s.plans(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := s.Store.Catalog.Groups(ctx)
	if err != nil {
		return nil, err
	}
	s.remember(func(m *tickMemory) { m.view = newDueView(plans, groups, s.now()) })
	cat := s.newCatalog(groups)
	var jobs []job
	for m := from; !m.After(scheduled); m = m.Add(time.Minute) {
		js, err := s.expand(ctx, plans, groups, m)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, js...)
	}
	rep.Deliveries = len(jobs)
	return cat, s.runJobs(ctx, cat, jobs, rep.Outcome)
}

// saveCursor moves the cursor to scheduled. An idle minute needs no
// record: a container that starts from an older cursor finds the same
// minutes idle. It is written after work, and now and then, so a cold
// start has little to look through.
func (s *Service) saveCursor(ctx context.Context, scheduled time.Time, worked bool) error {
	s.memory.mu.Lock()
	saved := s.memory.saved
	s.memory.mu.Unlock()
	if worked || scheduled.Sub(saved) >= CursorEvery {
		if err := s.Store.Deliveries.AdvanceCursor(ctx, function, tickKind, scheduled); err != nil {
			return err
		}
		s.remember(func(m *tickMemory) { m.saved = later(m.saved, scheduled) })
	}
	s.remember(func(m *tickMemory) { m.cursor = later(m.cursor, scheduled) })
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// expand lists the deliveries due at minute m (UTC): plan cron slots per
// group, in the group's time zone, and journey steps due at m.
func (s *Service) expand(ctx context.Context, plans []qunyun.Plan, groups []qunyun.Group, m time.Time) ([]job, error) {
	var jobs []job
	for _, p := range plans {
		if !p.Active(m) {
			continue
		}
		var expr awscron.Expression
		if p.Cron != "" {
			e, err := awscron.Parse(cronSyntax(p.Cron))
			if err != nil {
				s.log().Error("plan has a bad cron; skipped", "plan", p.ID, "cron", p.Cron, "err", err)
				continue
			}
			expr = e
		}
		// Per time zone: whether the cron fires at m, and the content it
		// picks (computed once, not per group).
		fires := map[string]bool{}
		picks := map[string]string{}
		for i := range groups {
			g := &groups[i]
			if !Selects(p.Select, *g, m) {
				continue
			}
			loc := g.Location()
			if p.Cron != "" && len(p.Contents) > 0 {
				fire, ok := fires[loc.String()]
				if !ok {
					fire = expr.Next(m.Add(-time.Second), loc).Equal(m)
					fires[loc.String()] = fire
					if fire {
						picks[loc.String()] = rotate(p.Contents, expr, m, loc)
					}
				}
				if fire {
					slot := m.Format(time.RFC3339)
					d := qunyun.Delivery{
						ID: DeliveryID(p.ID, slot, qunyun.TargetGroup, g.ID), Source: p.ID, Slot: slot, Class: qunyun.ClassContent,
						TargetKind: qunyun.TargetGroup, TargetID: g.ID, GroupID: g.ID, AccountID: g.AccountID,
						ContentID: picks[loc.String()], At: m,
					}
					jobs = append(jobs, job{item: qunyun.DeliveryRecord{Delivery: d}})
				}
			}
			js, err := s.journeyDue(ctx, p, g, m)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, js...)
		}
	}
	return jobs, nil
}

// cronSyntax accepts a plan cron with or without the cron(...) wrapper.
func cronSyntax(c string) string {
	c = strings.TrimSpace(c)
	if strings.HasPrefix(c, "cron(") {
		return c
	}
	return "cron(" + c + ")"
}

// rotate picks the plan's content for the slot at m: the n-th firing since
// the local day began, counted across days, so a daily plan walks through
// its contents one a day.
func rotate(contents []string, expr awscron.Expression, m time.Time, loc *time.Location) string {
	local := m.In(loc)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	perDay, index := 0, 0
	for t := expr.Next(dayStart.Add(-time.Second), loc); !t.IsZero() && t.Before(dayStart.AddDate(0, 0, 1)); t = expr.Next(t, loc) {
		if t.Before(m) {
			index++
		}
		perDay++
	}
	days := int(time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
	return contents[(days*max(perDay, 1)+index)%len(contents)]
}

// journeyDue lists the journey steps of plan p due at m in group g: step
// Day d at its local time ("10:00" when unset) for members who joined d
// days before. Day 0 without a time is sent on MemberJoined instead.
func (s *Service) journeyDue(ctx context.Context, p qunyun.Plan, g *qunyun.Group, m time.Time) ([]job, error) {
	local := m.In(g.Location())
	var due []qunyun.JourneyStep
	for _, st := range p.Journey {
		if st.Day == 0 && st.At == "" {
			continue
		}
		at := st.At
		if at == "" {
			at = "10:00"
		}
		if mod, ok := minuteOfDay(at); ok && mod == local.Hour()*60+local.Minute() {
			due = append(due, st)
		}
	}
	if len(due) == 0 {
		return nil, nil
	}
	members, err := s.Store.Catalog.Members(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	var jobs []job
	for _, st := range due {
		joinDate := local.AddDate(0, 0, -st.Day).Format(time.DateOnly)
		for _, mem := range members {
			if !mem.Active() || mem.Role.Staff() || mem.JoinedAt.IsZero() || mem.JoinedAt.In(g.Location()).Format(time.DateOnly) != joinDate {
				continue
			}
			jobs = append(jobs, journeyJob(p, st, *g, mem, m))
		}
	}
	return jobs, nil
}

func journeyJob(p qunyun.Plan, st qunyun.JourneyStep, g qunyun.Group, mem qunyun.Member, at time.Time) job {
	slot := fmt.Sprintf("%sday%d:%s", journeySlot, st.Day, g.ID)
	d := qunyun.Delivery{
		ID: DeliveryID(p.ID, slot, qunyun.TargetMember, mem.ID), Source: p.ID, Slot: slot, Class: qunyun.ClassWelcome,
		TargetKind: qunyun.TargetMember, TargetID: mem.ID, GroupID: g.ID, AccountID: g.AccountID,
		ContentID: st.Content, At: at,
	}
	// The name is kept on the item so a resumed claim renders the same text.
	it := qunyun.DeliveryRecord{Delivery: d, Data: map[string]string{"memberName": mem.Name}}
	return job{item: it, member: MemberVars{ID: mem.ID, Name: mem.Name}}
}

// Selects reports whether the selector picks group g at time now; empty
// fields match every group.
func Selects(sel qunyun.GroupSelector, g qunyun.Group, now time.Time) bool {
	if len(sel.Groups) > 0 && !hasTag(sel.Groups, g.ID) {
		return false
	}
	if len(sel.Tags) > 0 {
		any := false
		for _, t := range sel.Tags {
			if hasTag(g.Tags, t) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	if len(sel.Purposes) > 0 {
		match := false
		for _, p := range sel.Purposes {
			if p == g.Purpose {
				match = true
			}
		}
		if !match {
			return false
		}
	}
	size := g.MemberCount
	if sel.MinSize > 0 && size < sel.MinSize || sel.MaxSize > 0 && size > sel.MaxSize {
		return false
	}
	if sel.MinAgeDays > 0 || sel.MaxAgeDays > 0 {
		if g.CreatedAt.IsZero() {
			return false
		}
		age := int(now.Sub(g.CreatedAt) / (24 * time.Hour))
		if sel.MinAgeDays > 0 && age < sel.MinAgeDays || sel.MaxAgeDays > 0 && age > sel.MaxAgeDays {
			return false
		}
	}
	return true
}

// sweep runs after the due deliveries: it resolves claims whose process
// died (unknown or resumed) and follows open WeCom tasks (poll, remind,
// expire). It reads today's and yesterday's deliveries by state (GSI2), so
// every task ends by its follow edge (followEdge), whatever TaskExpiry; a
// partition found empty is read again after SweepIdle unless force (see
// tickcache.go). Of the open tasks it reads only those due for polling
// since the last sweep, plus those it knows a reminder or an end is due
// for, and all of them now and then (tasksweep.go); quietBegins reads them
// all, to withdraw the tasks of groups whose quiet hours begin.
//
// groups is about how many groups there are: a sweep that follows many
// tasks reads them all at once rather than each task's (preloadGroups).
func (s *Service) sweep(ctx context.Context, cat *catalog, now time.Time, force, quietBegins bool, groups int, out *Outcome) error {
	if s.taskExpiry() > maxTaskExpiry {
		s.remember(func(m *tickMemory) {
			if !m.expiryWarned {
				m.expiryWarned = true
				s.log().Warn("TaskExpiry is longer than the sweep follows a task: tasks end at their follow edge instead",
					"taskExpiry", s.taskExpiry(), "max", maxTaskExpiry)
			}
		})
	}
	plan := s.planTaskSweep(now, quietBegins)
	followed := map[string]bool{}
	var errs []error
	for _, date := range []string{now.AddDate(0, 0, -1).Format(time.DateOnly), now.Format(time.DateOnly)} {
		k := sweepKey{date, qunyun.DeliveryClaimed}
		if s.needSweep(k, now, force) {
			items, err := s.Store.Deliveries.DayDeliveries(ctx, date, qunyun.DeliveryClaimed)
			if err != nil {
				return err
			}
			s.swept(k, now, len(items) == 0)
			for _, it := range items {
				errs = append(errs, s.resolveStale(ctx, cat, it, out))
			}
		}
		items, err := s.openTasks(ctx, date, now, force, plan)
		if err != nil {
			return err
		}
		if preloadGroups(len(items), groups) {
			errs = append(errs, cat.loadGroups(ctx))
		}
		for i := range items {
			it := &items[i]
			followed[it.ID] = true
			errs = append(errs, s.followTask(ctx, cat, it, now, plan.polls(it.ID, now), out))
			s.rememberTask(*it, now)
		}
	}
	errs = append(errs, s.followRemembered(ctx, cat, now, followed, out))
	s.taskSwept(now, plan)
	return errors.Join(errs...)
}

// maxTaskExpiry is the longest TaskExpiry accepted without a warning. The
// follow edge comes 23 h 50 min to 47 h 50 min after a task's slot,
// depending on its time of day, so a longer expiry would hold for some
// tasks and not others; it is still safe (cut at the edge), but misleading.
const maxTaskExpiry = 24 * time.Hour
