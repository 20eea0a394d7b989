package push

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
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
	cursor := s.knownCursor()
	if cursor.Before(scheduled.Add(-time.Minute)) {
		// Cold, or the tick before this one ran elsewhere: the table knows
		// better. (Warm and in step, the container's own cursor is enough.)
		stored, err := s.Store.Deliveries.Cursor(ctx, function, tickKind)
		if err != nil {
			return rep, err
		}
		if stored.After(cursor) {
			cursor = stored
		}
		s.remember(func(m *tickMemory) {
			m.cursor = later(m.cursor, stored)
			m.saved = later(m.saved, stored)
		})
	}
	if !cursor.Before(scheduled) {
		rep.AlreadyDone = true
		return rep, nil
	}
	if cursor.IsZero() {
		// The first tick ever: anchor the cursor just before it, so that if
		// this tick fails halfway the next one expands this minute again
		// instead of starting at its own (which would lose the unclaimed).
		cursor = scheduled.Add(-time.Minute)
		if err := s.Store.Deliveries.AdvanceCursor(ctx, function, tickKind, cursor); err != nil {
			return rep, err
		}
		s.remember(func(m *tickMemory) { m.cursor, m.saved = later(m.cursor, cursor), later(m.saved, cursor) })
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
		// Something may be due: decide from the catalog as it is now.
		plans, err := s.plans(ctx)
		if err != nil {
			return rep, err
		}
		groups, err := s.Store.Catalog.Groups(ctx)
		if err != nil {
			return rep, err
		}
		s.remember(func(m *tickMemory) { m.view = newDueView(plans, groups, s.now()) })
		cat = s.newCatalog(groups)
		var jobs []job
		for m := from; !m.After(scheduled); m = m.Add(time.Minute) {
			js, err := s.expand(ctx, plans, groups, m)
			if err != nil {
				return rep, err
			}
			jobs = append(jobs, js...)
		}
		rep.Deliveries = len(jobs)
		runErr := s.runJobs(ctx, cat, jobs, rep.Outcome)
		if errors.Is(runErr, errCrashed) {
			return rep, runErr // a dead process writes nothing more
		}
		if runErr != nil {
			// The cursor stays put: the next tick expands these minutes
			// again, and the claims make that safe.
			return rep, runErr
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
	// An idle minute needs no record: a container that starts from an
	// older cursor finds the same minutes idle. Write it after work, and
	// now and then, so a cold start has little to look through.
	s.memory.mu.Lock()
	saved := s.memory.saved
	s.memory.mu.Unlock()
	if due || scheduled.Sub(saved) >= CursorEvery {
		if err := s.Store.Deliveries.AdvanceCursor(ctx, function, tickKind, scheduled); err != nil {
			return rep, err
		}
		s.remember(func(m *tickMemory) { m.saved = later(m.saved, scheduled) })
	}
	s.remember(func(m *tickMemory) { m.cursor = later(m.cursor, scheduled) })
	return rep, nil
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

// followTask checks an open customer-group task. To spread the calls, each
// task is polled every ten minutes (on its own minute), except when a
// reminder or the end is due. An unconfirmed task ends at its deadline or
// after TaskExpiry (at the latest at its follow edge, before the sweep
// stops reading its day), or when the group's quiet hours begin: the owner could otherwise post it
// at midnight. Reminders are not sent in quiet hours. A task whose account
// is not in the directory is a configuration error until it expires, then
// unknown (accountMissing).
//
// poll says whether the task is due for polling (its minute came since the
// last sweep); it is polled then, or when a reminder, the end or quiet
// hours bring it here.
func (s *Service) followTask(ctx context.Context, cat *catalog, it *qunyun.DeliveryRecord, now time.Time, poll bool, out *Outcome) error {
	g, err := cat.group(ctx, it.GroupID)
	if err != nil {
		return err
	}
	clock := s.now()
	quiet := g != nil && InQuietHours(clock.In(g.Location()), g.EffectiveCaps())
	// A task ends at its deadline (a closing notice confirmed after the
	// session is worse than none), at TaskExpiry, and no later than its
	// follow edge: past it the sweep would soon stop reading the task's day
	// (see followEdge).
	pastDeadline := expired(it.Delivery, clock)
	expiring := pastDeadline || clock.Sub(it.SendStartedAt) >= s.taskExpiry() || !clock.Before(followEdge(it.Delivery))
	last := it.LastRemindedAt
	if last.IsZero() {
		last = it.SendStartedAt
	}
	remindDue := !quiet && it.Reminders < qunyun.MaxTaskReminders && clock.Sub(last) >= s.remindEvery()
	// Only the member a task was made for can post it: a group that has
	// changed hands (groupsync.go) gets its open tasks made again for its
	// new owner.
	moved := it.TargetKind == qunyun.TargetGroup && g != nil && it.Sender != "" && g.OwnerID != "" && g.OwnerID != it.Sender
	if !expiring && !remindDue && !quiet && !moved && !poll {
		return nil
	}
	a, err := cat.account(ctx, it.AccountID)
	if err != nil {
		if !clock.Before(followEdge(it.Delivery)) {
			// At its follow edge, the sweep about to forget it: ending it is
			// better than leaving it open and unfollowed for ever.
			s.log().Error("task's account unreadable as its day leaves the sweep; the owner may still post it", "delivery", it.ID, "err", err)
			return s.markUnknown(ctx, it, qunyun.ReasonWithdrawFailed, out)
		}
		return fmt.Errorf("follow task %s: account %s: %w", it.ID, it.AccountID, err)
	}
	if a == nil {
		return s.accountMissing(ctx, it, expiring, poll, out)
	}
	sender := it.Sender
	if sender == "" && g != nil {
		sender = g.OwnerID // a task made before tasks kept their sender
	}
	if expiring || quiet {
		var reason string
		var resume time.Time
		switch {
		case pastDeadline:
			reason = qunyun.ReasonExpired
		case expiring:
			// TaskExpiry: the state says it all
		default:
			// Quiet hours: made again when they end if still worth it then.
			reason, resume = qunyun.ReasonQuietHours, QuietEnd(clock.In(g.Location()), g.EffectiveCaps())
			if it.Deadline.IsZero() || !resume.Before(it.Deadline) {
				reason, resume = qunyun.ReasonExpired, time.Time{}
				if it.Deadline.IsZero() {
					reason = qunyun.ReasonQuietHours // stored before deadlines existed
				}
			}
		}
		return s.withdrawTask(ctx, it, *a, sender, reason, resume, out) // withdraw.go
	}
	if moved {
		// Made again for the new owner as soon as the old task is read back
		// unposted; posted meanwhile, it is sent.
		return s.withdrawTask(ctx, it, *a, sender, qunyun.ReasonOwnerChanged, clock, out)
	}
	results, err := s.Tasks.GroupMsgSendResult(ctx, *a, it.TaskID, sender)
	if err != nil {
		return fmt.Errorf("follow task %s: %w", it.ID, err)
	}
	state := taskState(results)
	switch {
	case state != "":
		return s.finish(ctx, it, state, "", out)
	case remindDue:
		// Record the reminder first: a reminder lost to a crash is better
		// than a fourth one.
		changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) {
			d.Reminders++
			d.LastRemindedAt = clock
		})
		if err != nil || !changed {
			return err
		}
		if err := s.Tasks.RemindGroupMsgSend(ctx, *a, it.TaskID); err != nil {
			s.log().Warn("task reminder refused", "delivery", it.ID, "err", err)
		}
	}
	return nil
}

// accountMissing handles an open task whose account is not in the accounts
// directory: a configuration error, since the task can be neither read nor
// withdrawn. Each poll (every ten minutes) counts it (TaskAccountMissing)
// and logs it, in case the directory is fixed in time; at expiry the task
// ends unknown, keeping its caps (the owner may have posted it or still
// may), and the announcement alerts the group's moderators.
func (s *Service) accountMissing(ctx context.Context, it *qunyun.DeliveryRecord, expiring, poll bool, out *Outcome) error {
	if !expiring && !poll {
		return nil // not its minute: quiet hours or a reminder brought it here
	}
	s.Metrics.Emit(metrics.Metric{Name: "TaskAccountMissing", Value: 1})
	if !expiring {
		return fmt.Errorf("follow task %s: account %q is not in the accounts directory; the task cannot be followed or withdrawn", it.ID, it.AccountID)
	}
	s.log().Error("task's account is not in the accounts directory at its expiry; ending it unknown, the owner may still post it",
		"delivery", it.ID, "group", it.GroupID, "account", it.AccountID)
	return s.markUnknown(ctx, it, ReasonAccountMissing, out)
}

// followEdge is the latest time task d stays open, whatever TaskExpiry
// says: sweepMargin before the sweep stops reading it (it reads d's UTC day,
// qunyun.DeliveryDate, and the one after). withdrawDeadline (withdraw.go)
// stops retrying a failing withdrawal at the same edge, so the task ends
// there, expired or unknown, rather than open and unfollowed for ever. The
// edge is at least 23 h 50 min after d's slot: the default TaskExpiry
// (24 h, counted from the send) is cut short only for tasks sent in the
// last ten minutes of their slot's UTC day or later (a send resumed past
// midnight).
func followEdge(d qunyun.Delivery) time.Time {
	day, err := time.Parse(time.DateOnly, qunyun.DeliveryDate(d))
	if err != nil {
		return d.At // cannot happen for a stored delivery; end it at once
	}
	return day.AddDate(0, 0, 2).Add(-sweepMargin)
}

// maxTaskExpiry is the longest TaskExpiry accepted without a warning. The
// follow edge comes 23 h 50 min to 47 h 50 min after a task's slot,
// depending on its time of day, so a longer expiry would hold for some
// tasks and not others; it is still safe (cut at the edge), but misleading.
const maxTaskExpiry = 24 * time.Hour

// taskState maps get_groupmsg_send_result to a final state ("" while the
// owner has not acted).
func taskState(results []wechatapi.TaskResult) qunyun.DeliveryState {
	sawFail := false
	for _, r := range results {
		switch r.Status {
		case wechatapi.TaskSent:
			return qunyun.DeliverySent
		case wechatapi.TaskNotFriend, wechatapi.TaskAlreadyReceived:
			sawFail = true
		}
	}
	if sawFail {
		return qunyun.DeliveryNotSent
	}
	return ""
}
