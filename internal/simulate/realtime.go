package simulate

import (
	"container/heap"
	"context"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/simulate/callbacks"
)

// runRealTime plays the events as the stack's clock reaches them, on
// s.Workers workers, then lets the stack score the last day.
func (s *Simulation) runRealTime(ctx context.Context, end time.Time) error {
	// One queue per worker, and a group's events always on the same one:
	// a question reaches the stack before the "+1" quoting it.
	queues := make([]chan job, s.Workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan job, 4)
		wg.Add(1)
		// Each worker rebuilds stale requests with its own builder: nonces
		// and AES padding do not change what the stack records.
		b := &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(s.Seed + uint64(i) + 1)), Now: s.Stack.Clock.Now}
		go func() {
			defer wg.Done()
			for j := range queues[i] {
				s.do(ctx, b, j)
				s.step.done(j.e.seq)
			}
		}()
	}
	s.step = newLockstep(s.Stack.Hold, s.Stack.Settled)
	err := s.loop(ctx, queues, end)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	s.step.release()
	if err != nil {
		return err
	}
	// Let the stack score the last day, then read what it made of it all.
	if err := s.waitUntil(ctx, end.Add(nightlyAfter)); err != nil {
		return err
	}
	return s.waitScheduler(ctx, end.Add(nightlyAfter))
}

// loop hands each event to its worker once the stack's clock and
// scheduler have reached it (see lockstep); it observes the stack itself.
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
		s.progress(e.At, &day)
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
