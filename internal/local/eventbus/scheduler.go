package eventbus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
)

// schedule is a Schedule ready to fire.
type schedule struct {
	Schedule
	expr    awscron.Expression
	loc     *time.Location
	arn     string
	due     time.Time   // the next scheduled time not yet started; zero when it never fires again
	running []time.Time // scheduled times whose invocation has not finished, oldest first
}

func newSchedule(s Schedule, start time.Time, region, account string) (*schedule, error) {
	if s.Function == "" {
		return nil, errors.New("no function")
	}
	expr, err := awscron.Parse(s.Expression)
	if err != nil {
		return nil, fmt.Errorf("expression: %w", err)
	}
	loc := time.UTC
	if s.Timezone != "" {
		if loc, err = time.LoadLocation(s.Timezone); err != nil {
			return nil, fmt.Errorf("timezone: %w", err)
		}
	}
	s.Name = cmp(s.Name, s.Function)
	// Without a StartDate, Scheduler starts a rate at once; both kinds
	// fire at times from start on.
	expr = expr.From(start)
	return &schedule{
		Schedule: s,
		expr:     expr,
		loc:      loc,
		arn:      fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule/default/%s", region, account, s.Name),
		due:      expr.Next(start.Add(-time.Nanosecond), loc),
	}, nil
}

// RunDue fires every scheduled time that the clock has reached and that
// has not fired yet, waits for those invocations to finish, and returns how
// many fired. Each schedule fires its times in order; different schedules
// fire at the same time, as Scheduler's do (see Config.Overlap). However
// late it is called, each scheduled time fires exactly once. It stops early
// when ctx is done; the times left fire on the next call.
func (b *Bus) RunDue(ctx context.Context) int {
	at := b.clock.Now()
	fired := 0
	for ctx.Err() == nil {
		n, f := b.dispatch(ctx, at)
		fired += f
		if n == 0 && !b.Busy() && (!b.serial || b.ruleRuns.Load() == 0) {
			break
		}
		if n == 0 {
			select {
			case <-b.wake:
			case <-ctx.Done():
			}
		}
	}
	return fired
}

// dispatch starts the invocation of every time due at now that may start:
// each schedule's times in order, at most Config.Overlap of one schedule
// at once (Serial: see dispatchOne). It returns how many invocations it
// started, and how many of them were scheduled times; they run in the
// background.
func (b *Bus) dispatch(ctx context.Context, now time.Time) (started, fired int) {
	b.schedMu.Lock()
	defer b.schedMu.Unlock()
	if b.serial {
		return b.dispatchOne(ctx, now)
	}
	for _, s := range b.schedules {
		for ctx.Err() == nil && !s.due.IsZero() && !s.due.After(now) && len(s.running) < b.overlap && !b.held(s.due) {
			at := s.due
			s.due = s.expr.Next(at, s.loc)
			s.running = append(s.running, at)
			started++
			b.inflight.Add(1)
			go func() {
				defer b.inflight.Done()
				b.fire(ctx, s, at)
				b.finished(s, at)
			}()
		}
	}
	return started, started
}

// dispatchOne starts, when nothing else runs, the first queued rule
// delivery, or else the earliest time due at now (ties in Schedules'
// order): Config.Serial. schedMu is held.
func (b *Bus) dispatchOne(ctx context.Context, now time.Time) (started, fired int) {
	if ctx.Err() != nil {
		return 0, 0
	}
	for _, s := range b.schedules {
		if len(s.running) > 0 {
			return 0, 0
		}
	}
	b.queueMu.Lock()
	busy := b.delivering
	b.queueMu.Unlock()
	if busy {
		return 0, 0
	}
	if b.startQueued() {
		return 1, 0
	}
	var first *schedule
	for _, s := range b.schedules {
		if !s.due.IsZero() && !s.due.After(now) && !b.held(s.due) && (first == nil || s.due.Before(first.due)) {
			first = s
		}
	}
	if first == nil {
		return 0, 0
	}
	s, at := first, first.due
	s.due = s.expr.Next(at, s.loc)
	s.running = append(s.running, at)
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		b.fire(ctx, s, at)
		b.finished(s, at)
	}()
	return 1, 1
}

// finished records that a schedule's invocation for at has returned and
// wakes the loop, which may start the schedule's next time.
func (b *Bus) finished(s *schedule, at time.Time) {
	b.schedMu.Lock()
	for i, t := range s.running {
		if t.Equal(at) {
			s.running = append(s.running[:i], s.running[i+1:]...)
			break
		}
	}
	b.schedMu.Unlock()
	b.signal()
}

// signal wakes the scheduler loop (and a waiting RunDue).
func (b *Bus) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// HoldAfter keeps scheduled times after t from starting, and, while a hold
// is set, keeps any from starting while a rule delivery is in flight; the
// zero time lifts the hold. Nothing in AWS does this: it lets a driver
// that runs beside a fast clock (qunyun simulate) interleave its own
// actions with the schedules in a repeatable order — the ticks of a minute,
// then what the driver does in that minute, then the next minute's ticks.
func (b *Bus) HoldAfter(t time.Time) {
	b.schedMu.Lock()
	b.hold = t
	b.schedMu.Unlock()
	b.signal()
}

// held reports whether the hold keeps scheduled time at from starting;
// schedMu is held.
func (b *Bus) held(at time.Time) bool {
	return !b.hold.IsZero() && (at.After(b.hold) || b.ruleRuns.Load() > 0)
}

// Settled reports whether every scheduled time up to t has fired and
// finished and no rule delivery is in flight.
func (b *Bus) Settled(t time.Time) bool {
	if b.ruleRuns.Load() > 0 {
		return false
	}
	next, ok := b.Unfinished()
	return !ok || next.After(t)
}

// Busy reports whether a scheduled invocation is running.
func (b *Bus) Busy() bool {
	b.schedMu.Lock()
	defer b.schedMu.Unlock()
	for _, s := range b.schedules {
		if len(s.running) > 0 {
			return true
		}
	}
	return false
}

// fire invokes a schedule's function for its scheduled time at.
func (b *Bus) fire(ctx context.Context, s *schedule, at time.Time) {
	execID := b.newID()
	input := cmp(s.Input, "{}")
	payload := strings.NewReplacer(
		"<aws.scheduler.scheduled-time>", at.UTC().Format(time.RFC3339),
		"<aws.scheduler.execution-id>", execID,
		"<aws.scheduler.attempt-number>", "1",
		"<aws.scheduler.schedule-arn>", s.arn,
	).Replace(input)
	d := Delivery{Kind: "schedule", Function: s.Function, ID: execID, Schedule: s.Name, ScheduledTime: at.UTC()}
	b.invoke(ctx, d, []byte(payload))
}

// NextFire returns the earliest time a schedule fires next (the earliest
// scheduled time not yet started), or false when none will.
func (b *Bus) NextFire() (time.Time, bool) {
	b.schedMu.Lock()
	defer b.schedMu.Unlock()
	var next time.Time
	for _, s := range b.schedules {
		if !s.due.IsZero() && (next.IsZero() || s.due.Before(next)) {
			next = s.due
		}
	}
	return next, !next.IsZero()
}

// Unfinished returns the earliest scheduled time whose invocation has not
// finished yet, started or not, or false when none is left: how far the
// schedules' work, not just their starts, lags behind the clock.
func (b *Bus) Unfinished() (time.Time, bool) {
	b.schedMu.Lock()
	defer b.schedMu.Unlock()
	var next time.Time
	for _, s := range b.schedules {
		t := s.due
		if len(s.running) > 0 {
			t = s.running[0]
		}
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next, !next.IsZero()
}

// nextStartable is the earliest due time of a schedule with room for
// another invocation; a full schedule wakes the loop when one finishes.
func (b *Bus) nextStartable() (time.Time, bool) {
	b.schedMu.Lock()
	defer b.schedMu.Unlock()
	var next time.Time
	for _, s := range b.schedules {
		if !s.due.IsZero() && len(s.running) < b.overlap && !b.held(s.due) && (next.IsZero() || s.due.Before(next)) {
			next = s.due
		}
	}
	return next, !next.IsZero()
}

// realDurationer is implemented by scaled clocks (clock.Scaled): it converts
// a virtual duration into the real time it takes.
type realDurationer interface {
	RealDuration(virtual time.Duration) time.Duration
}

// Run fires the schedules as the clock reaches their times, until ctx is
// done; it returns ctx's error. Invocations run in the background (Scheduler
// invokes asynchronously), so a slow function delays only its own
// schedule. The loop sleeps until the next fire (converted to real time
// when the clock can do so), or until an invocation finishes, but never
// longer than Config.Poll, so a clock that jumps is noticed. Wait lets the
// invocations in flight finish.
func (b *Bus) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-b.wake:
		}
		b.dispatch(ctx, b.clock.Now())
		timer.Reset(b.wait())
	}
}

// wait is how long Run sleeps before looking at the clock again.
func (b *Bus) wait() time.Duration {
	next, ok := b.nextStartable()
	if !ok {
		return b.poll
	}
	d := next.Sub(b.clock.Now())
	if rd, ok := b.clock.(realDurationer); ok {
		d = rd.RealDuration(d)
	}
	return min(max(d, time.Millisecond), b.poll)
}
