package simulate

import (
	"container/heap"
	"context"
	"hash/fnv"
	"time"
)

func (s *Simulation) loop(ctx context.Context, queues []chan job, end time.Time) error {
	day := -1
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(Event)
		s.step.begin(e.seq, e.At)
		s.step.next(s.nextAt())
		if err := s.waitUntil(ctx, e.At); err != nil {
			return err
		}
		if err := s.step.wait(ctx, e.At); err != nil {
			return err
		}
		s.late(e.At)
		jobs := queues[s.queueOf(e, len(queues))]
		if d := int(e.At.Sub(s.Start) / (24 * time.Hour)); d > day && d < s.Days {
			day = d
			if s.Progress != nil {
				sent, _ := s.Sent()
				s.Progress(day, s.Days, sent)
			}
		}
		switch e.Kind {
		case kindObserveSandbox:
			s.observeSandbox(ctx, e.At)
			s.step.next(s.nextAt())
			s.step.done(e.seq)
		case kindObserveSessions:
			s.observeSessions(ctx, e.At)
			s.step.next(s.nextAt())
			s.step.done(e.seq)
		default:
			j, err := s.jobFor(e)
			if err != nil {
				return err
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// queueOf picks the worker for an event: by group, so one group's events
// reach the stack in order.
func (s *Simulation) queueOf(e Event, n int) int {
	key := e.ID
	if e.Group != nil {
		key = e.Group.ID
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// waitScheduler waits until every schedule up to t has fired and the
// functions it started have had a moment to finish.
func (s *Simulation) waitScheduler(ctx context.Context, t time.Time) error {
	if s.Stack.NextFire == nil {
		return nil
	}
	for {
		next, ok := s.Stack.NextFire()
		if !ok || next.After(t) {
			break
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// The nightly run fans out by bus events; give them a moment.
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// waitUntil sleeps until the stack's clock reaches t.
func (s *Simulation) waitUntil(ctx context.Context, t time.Time) error {
	for {
		ahead := t.Sub(s.Stack.Clock.Now())
		if ahead <= 0 {
			return nil
		}
		wait := realDuration(s.Stack.Clock, ahead)
		if wait > 250*time.Millisecond {
			wait = 250 * time.Millisecond
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
