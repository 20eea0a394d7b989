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
	expr awscron.Expression
	loc  *time.Location
	arn  string
	due  time.Time // the next scheduled time; zero when it never fires again
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

// RunDue fires, in time order, every scheduled time that the clock has
// reached and that has not fired yet, and returns how many fired. However
// late it is called, each scheduled time fires exactly once. It stops early
// when ctx is done; the times left fire on the next call.
func (b *Bus) RunDue(ctx context.Context) int {
	b.schedMu.Lock()
	defer b.schedMu.Unlock()
	now := b.clock.Now()
	fired := 0
	for ctx.Err() == nil {
		var next *schedule
		for _, s := range b.schedules {
			if s.due.IsZero() || s.due.After(now) {
				continue
			}
			if next == nil || s.due.Before(next.due) {
				next = s
			}
		}
		if next == nil {
			break
		}
		at := next.due
		next.due = next.expr.Next(at, next.loc)
		b.fire(ctx, next, at)
		fired++
	}
	return fired
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

// NextFire returns the earliest time a schedule fires next, or false when
// none will.
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

// realDurationer is implemented by scaled clocks (clock.Scaled): it converts
// a virtual duration into the real time it takes.
type realDurationer interface {
	RealDuration(virtual time.Duration) time.Duration
}

// Run fires the schedules as the clock reaches their times, until ctx is
// done; it returns ctx's error. It sleeps until the next fire (converted to
// real time when the clock can do so), but never longer than Config.Poll, so
// a clock that jumps is noticed.
func (b *Bus) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		b.RunDue(ctx)
		timer.Reset(b.wait())
	}
}

// wait is how long Run sleeps before looking at the clock again.
func (b *Bus) wait() time.Duration {
	next, ok := b.NextFire()
	if !ok {
		return b.poll
	}
	d := next.Sub(b.clock.Now())
	if rd, ok := b.clock.(realDurationer); ok {
		d = rd.RealDuration(d)
	}
	return min(max(d, time.Millisecond), b.poll)
}
