package push

import (
	"context"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// What a warm container remembers between minute ticks, so that a minute
// with nothing due costs one or two DynamoDB requests instead of ten. The
// local stack runs 1,440 ticks a simulated day against a single-threaded
// dynalite, and in AWS every idle request is paid for; nothing here is
// needed for correctness, and a cold container starts empty.
//
// What each piece may get wrong, and for how long:
//   - the plans that say whether a minute can be due are up to CatalogTTL
//     old, so a plan created, changed or resumed takes effect within two
//     minutes; the groups' time zones and quiet hours up to ZonesTTL, so a
//     group in a zone no group had before gets its first slots up to ten
//     minutes late; whenever a minute can be due, the tick reads plans and
//     groups afresh and decides from those (a pause is seen at once);
//   - the cursor this container last knew is a lower bound of the table's:
//     starting from it can only expand minutes again, which the claims make
//     harmless; an idle tick writes the cursor only every CursorEvery;
//   - a sweep partition (yesterday's or today's claims or open tasks) found
//     empty is read again after SweepIdle, or at once when this tick sent
//     something, a group's quiet hours begin or this container held a
//     claim for later (heldClaim) or left one to run again (reclaimed), so
//     a task, stale or held claim made by another container is followed at
//     most SweepIdle late;
//   - of the open tasks a tick reads those due for polling, and follows
//     the reminders and ends it remembers from their last read
//     (tasksweep.go): one another container made is first read at its
//     poll minute, up to ten minutes after it was made.
const (
	CatalogTTL  = 2 * time.Minute
	ZonesTTL    = 10 * time.Minute
	CursorEvery = 10 * time.Minute
	// SweepIdle matches how often an open task is polled (every ten
	// minutes, on its own minute).
	SweepIdle = 10 * time.Minute
)

// tickMemory is a Service's memory between ticks; its zero value is empty.
type tickMemory struct {
	mu sync.Mutex
	// cursor: every minute up to it has been expanded (by this container or
	// before it read the table); saved: the value last written to the table.
	cursor, saved time.Time
	view          *dueView
	emptyAt       map[sweepKey]time.Time // when a sweep partition was last found empty
	expiryWarned  bool                   // TaskExpiry beyond the sweep's reach was logged
	// tasksAt, tasksAllAt: when open tasks were last swept, and last all
	// read; soon: open tasks whose reminder or end comes before their next
	// poll minute, by delivery id (tasksweep.go).
	tasksAt, tasksAllAt time.Time
	soon                map[string]soonTask
	// syncNext is when the nightly group sync next looks at the groups;
	// syncTried the local date each group was last tried (groupsync.go).
	syncNext  time.Time
	syncTried map[string]string
}

type sweepKey struct {
	date  string
	state qunyun.DeliveryState
}

// dueView is enough of the catalog to tell whether a minute can be due.
type dueView struct {
	plansAt, zonesAt time.Time // when plans and groups were read
	groups           int       // how many groups there were
	plans            []duePlan
	zones            []*time.Location
	quiet            []zonedMinute // when groups' quiet hours begin
}

type duePlan struct {
	plan    qunyun.Plan
	cron    awscron.Expression
	hasCron bool
	steps   []int // journey steps' minutes of the day, local time
}

type zonedMinute struct {
	loc    *time.Location
	minute int
}

func newDueView(plans []qunyun.Plan, groups []qunyun.Group, at time.Time) *dueView {
	v := &dueView{plansAt: at}
	v.setGroups(groups, at)
	v.setPlans(plans, at)
	return v
}

func (v *dueView) setGroups(groups []qunyun.Group, at time.Time) {
	v.zonesAt, v.zones, v.quiet, v.groups = at, nil, nil, len(groups)
	seenZone := map[string]bool{}
	seenQuiet := map[zonedMinute]bool{}
	for _, g := range groups {
		loc := g.Location()
		if !seenZone[loc.String()] {
			seenZone[loc.String()] = true
			v.zones = append(v.zones, loc)
		}
		if m, ok := minuteOfDay(g.EffectiveCaps().QuietStart); ok {
			zm := zonedMinute{loc, m}
			if !seenQuiet[zm] {
				seenQuiet[zm] = true
				v.quiet = append(v.quiet, zm)
			}
		}
	}
}

func (v *dueView) setPlans(plans []qunyun.Plan, at time.Time) {
	v.plansAt, v.plans = at, nil
	for _, p := range plans {
		dp := duePlan{plan: p}
		if p.Cron != "" && len(p.Contents) > 0 {
			if e, err := awscron.Parse(cronSyntax(p.Cron)); err == nil {
				dp.cron, dp.hasCron = e, true
			}
		}
		for _, st := range p.Journey {
			if st.Day == 0 && st.At == "" {
				continue // sent on MemberJoined
			}
			at := st.At
			if at == "" {
				at = "10:00"
			}
			if m, ok := minuteOfDay(at); ok {
				dp.steps = append(dp.steps, m)
			}
		}
		if dp.hasCron || len(dp.steps) > 0 {
			v.plans = append(v.plans, dp)
		}
	}
}

// mayBeDue reports whether any plan could have a slot or a journey step at
// minute m in some group's time zone. It errs on the side of yes: the tick
// then reads the catalog and decides.
func (v *dueView) mayBeDue(m time.Time) bool {
	for _, dp := range v.plans {
		if !dp.plan.Active(m) {
			continue
		}
		for _, loc := range v.zones {
			if dp.hasCron && dp.cron.Next(m.Add(-time.Second), loc).Equal(m) {
				return true
			}
			local := m.In(loc)
			mod := local.Hour()*60 + local.Minute()
			for _, s := range dp.steps {
				if s == mod {
					return true
				}
			}
		}
	}
	return false
}

// quietBegins reports whether some group's quiet hours begin in (from, to].
func (v *dueView) quietBegins(from, to time.Time) bool {
	for t := from.Truncate(time.Minute).Add(time.Minute); !t.After(to); t = t.Add(time.Minute) {
		for _, q := range v.quiet {
			local := t.In(q.loc)
			if local.Hour()*60+local.Minute() == q.minute {
				return true
			}
		}
	}
	return false
}

// dueView returns the due view, its plans read again when older than
// CatalogTTL and its groups when older than ZonesTTL.
func (s *Service) dueView(ctx context.Context) (*dueView, error) {
	now := s.now()
	s.memory.mu.Lock()
	old := s.memory.view
	s.memory.mu.Unlock()
	stale := func(at time.Time, ttl time.Duration) bool { return now.Sub(at) >= ttl || now.Before(at) }
	if old != nil && !stale(old.plansAt, CatalogTTL) && !stale(old.zonesAt, ZonesTTL) {
		return old, nil
	}
	v := &dueView{}
	if old != nil {
		*v = *old // a copy: an earlier tick may still hold the old one
	}
	if old == nil || stale(old.zonesAt, ZonesTTL) {
		groups, err := s.Store.Catalog.Groups(ctx)
		if err != nil {
			return nil, err
		}
		v.setGroups(groups, now)
	}
	plans, err := s.plans(ctx)
	if err != nil {
		return nil, err
	}
	v.setPlans(plans, now)
	s.remember(func(m *tickMemory) { m.view = v })
	return v, nil
}

func (s *Service) remember(fn func(m *tickMemory)) {
	s.memory.mu.Lock()
	defer s.memory.mu.Unlock()
	fn(&s.memory)
}

// knownCursor is the cursor this container knows, zero when cold.
func (s *Service) knownCursor() time.Time {
	s.memory.mu.Lock()
	defer s.memory.mu.Unlock()
	return s.memory.cursor
}

// needSweep reports whether a sweep partition must be read now.
func (s *Service) needSweep(k sweepKey, now time.Time, force bool) bool {
	if force {
		return true
	}
	s.memory.mu.Lock()
	defer s.memory.mu.Unlock()
	at, ok := s.memory.emptyAt[k]
	return !ok || now.Sub(at) >= SweepIdle || now.Before(at)
}

// reclaimed forgets that d's partition of claims was found empty: this
// container has just left d claimed, to be run again (deferred, to be
// retried, a task withdrawn for a new owner), so the next sweeps read it.
func (s *Service) reclaimed(d qunyun.Delivery) {
	s.swept(sweepKey{qunyun.DeliveryDate(d), qunyun.DeliveryClaimed}, time.Time{}, false)
}

// sweptEmpty records whether a sweep partition was found empty at now.
func (s *Service) swept(k sweepKey, now time.Time, empty bool) {
	s.memory.mu.Lock()
	defer s.memory.mu.Unlock()
	if s.memory.emptyAt == nil {
		s.memory.emptyAt = map[sweepKey]time.Time{}
	}
	if !empty {
		delete(s.memory.emptyAt, k)
		return
	}
	s.memory.emptyAt[k] = now
	// Only yesterday's and today's partitions are read: forget older ones.
	for old := range s.memory.emptyAt {
		if now.Sub(old.dateTime()) > 72*time.Hour {
			delete(s.memory.emptyAt, old)
		}
	}
}

// heldClaim makes the sweep read d's claims again: d was claimed to be
// run later (a burst's summary).
func (s *Service) heldClaim(d qunyun.Delivery) {
	s.remember(func(m *tickMemory) { delete(m.emptyAt, sweepKey{qunyun.DeliveryDate(d), qunyun.DeliveryClaimed}) })
}

func (k sweepKey) dateTime() time.Time {
	t, _ := time.Parse(time.DateOnly, k.date)
	return t
}
