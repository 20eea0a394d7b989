package simulate

import (
	"container/heap"
	"context"
	"errors"
	"time"
)

// runStepped plays the events on a stepped clock (see loopStepped), then
// the last night's scoring.
func (s *Simulation) runStepped(ctx context.Context, end time.Time) error {
	if s.Stack.Settle == nil || s.Stack.NextFire == nil {
		return errors.New("simulate: a stepped stack needs Settle and NextFire")
	}
	if err := s.loopStepped(ctx); err != nil {
		return err
	}
	// The last night's scoring, then what the stack made of it all.
	return s.stepTo(ctx, end.Add(nightlyAfter))
}

// loopStepped plays the events one at a time on a stepped clock: first
// every scheduled time up to the event's, each at its own time and settled,
// then the event at its own time, then whatever it set off, settled. One
// event at a time: two actions in flight together would race for the
// stack, and which won would depend on the machine.
func (s *Simulation) loopStepped(ctx context.Context) error {
	day := -1
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(Event)
		if err := s.stepTo(ctx, e.At); err != nil {
			return err
		}
		s.late(e.At)
		s.progress(e.At, &day)
		switch e.Kind {
		case kindObserveSandbox:
			s.observeSandbox(ctx, e.At)
			continue
		case kindObserveSessions:
			s.observeSessions(ctx, e.At)
			continue
		default:
			j, err := s.jobFor(e)
			if err != nil {
				return err
			}
			s.do(ctx, s.builder, j)
		}
		if err := s.Stack.Settle(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// stepTo moves the stepped clock to t: to each scheduled time on the way
// first, so every tick runs at its own time, after what came before it
// has settled.
func (s *Simulation) stepTo(ctx context.Context, t time.Time) error {
	for {
		next, ok := s.Stack.NextFire()
		if !ok || next.After(t) {
			break
		}
		if err := s.Stack.Step(ctx, next); err != nil {
			return err
		}
	}
	return s.Stack.Step(ctx, t)
}
