package local

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
)

// initClock sets the stack's clock as Config asks: the wall clock; a
// stepped one kept in Config.ClockFile; or, for a fast or shifted clock,
// one standing at its start until the stack is up (see Run), so a schedule
// due at the very start time still fires.
func (s *Stack) initClock() error {
	cfg := s.cfg
	s.clk = &stackClock{c: clock.Real{}} // wallclock: the stack's clock, when none is configured
	if cfg.ClockFile != "" {
		s.clockStart = cmpTime(cfg.ClockStart, time.Now()) // wallclock: the stack's clock starts now unless configured
		var err error
		if s.stepped, err = clock.NewStepped(cfg.ClockFile, s.clockStart); err != nil {
			return err
		}
		s.clk = &stackClock{c: s.stepped}
	} else if cfg.ClockSpeed != 1 || !cfg.ClockStart.IsZero() {
		s.clockStart = cfg.ClockStart
		if s.clockStart.IsZero() {
			s.clockStart = time.Now() // wallclock: the stack's clock starts now unless configured
		}
		s.clk = &stackClock{c: clock.NewManual(s.clockStart)}
	}
	return nil
}

// newClock makes the stack's running clock, at its start time now, and
// records it in e.
func (s *Stack) newClock(e *Endpoints) clock.Clock {
	if s.stepped != nil {
		e.ClockFile = s.cfg.ClockFile
		return s.stepped
	}
	if s.clockStart.IsZero() {
		return clock.Real{} // wallclock: the stack's clock, when none is configured
	}
	sc := clock.NewScaled(s.clockStart, s.cfg.ClockSpeed)
	e.ClockStart = sc.EnvValue()
	e.ClockSpeed = strconv.FormatFloat(s.cfg.ClockSpeed, 'f', -1, 64)
	return sc
}

// stackClock is the clock the bus and sandbox hold: the stack swaps in a
// fresh one at ready (see Run).
type stackClock struct {
	mu sync.Mutex
	c  clock.Clock
}

func (c *stackClock) get() clock.Clock {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c
}

func (c *stackClock) set(n clock.Clock) {
	c.mu.Lock()
	c.c = n
	c.mu.Unlock()
}

func (c *stackClock) Now() time.Time { return c.get().Now() }

// RealDuration lets the scheduler sleep in real time on a fast clock.
func (c *stackClock) RealDuration(virtual time.Duration) time.Duration {
	if sc, ok := c.get().(*clock.Scaled); ok {
		return sc.RealDuration(virtual)
	}
	return virtual
}

// sleep waits until the stack's clock has moved on by d: in real time on
// a fast clock, or until the driver has stepped that far on a stepped one.
func (s *Stack) sleep(ctx context.Context, d time.Duration) error {
	if s.stepped == nil {
		select {
		case <-time.After(s.clk.RealDuration(d)):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	until := s.clk.Now().Add(d)
	for s.clk.Now().Before(until) {
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Step moves a stepped clock (Config.ClockFile) forward to t, fires every
// scheduled time up to t, and waits until they and every bus delivery they
// set off have finished. Each scheduled time fires exactly once, however
// far one step goes. The clock never goes back: an earlier t only waits.
func (s *Stack) Step(ctx context.Context, t time.Time) error {
	if s.stepped == nil {
		return errors.New("step: the stack's clock is not stepped (Config.ClockFile)")
	}
	if err := s.stepped.Set(t); err != nil {
		return err
	}
	s.bus.RunDue(ctx)
	return s.Settle(ctx)
}

// Settle runs what a request to the gateway set off (on a stepped clock
// the bus delivers only when told, one at a time) and waits until no
// scheduled invocation up to the clock's time and no bus delivery is in
// flight.
func (s *Stack) Settle(ctx context.Context) error {
	s.bus.RunDue(ctx)
	for !s.bus.Settled(s.clk.Now()) {
		select {
		case <-time.After(100 * time.Microsecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// countedIDs returns UUID-shaped ids 00000000-0000-4000-8000-000000000001,
// …2 and so on.
func countedIDs() func() string {
	var n atomic.Uint64
	return func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", n.Add(1)) }
}

func cmpTime(t, otherwise time.Time) time.Time {
	if t.IsZero() {
		return otherwise
	}
	return t
}
