package simulate

import (
	"context"
	"sync"
	"time"
)

// lockstep interleaves the run with the stack's scheduler (Stack.Hold and
// Stack.Settled): before the run acts at time t, every scheduled time up
// to t's minute has finished; and the scheduler starts no time after the
// minute of the oldest action the run has begun and not finished, nor
// after the next action's minute. Without Hold and Settled it does nothing.
type lockstep struct {
	hold    func(time.Time)
	settled func(time.Time) bool

	mu       sync.Mutex
	open     map[int]time.Time // actions begun and not finished, by seq
	upcoming time.Time         // the next action's time; zero: none
	held     time.Time         // what hold was last told
	minute   time.Time         // the minute wait last waited for
}

func newLockstep(hold func(time.Time), settled func(time.Time) bool) *lockstep {
	if hold == nil || settled == nil {
		return &lockstep{open: map[int]time.Time{}}
	}
	return &lockstep{hold: hold, settled: settled, open: map[int]time.Time{}}
}

// begin notes an action at t.
func (l *lockstep) begin(seq int, t time.Time) {
	l.mu.Lock()
	l.open[seq] = t
	l.mu.Unlock()
	l.update()
}

// done notes that an action has finished.
func (l *lockstep) done(seq int) {
	l.mu.Lock()
	delete(l.open, seq)
	l.mu.Unlock()
	l.update()
}

// next notes the time of the next action, zero when none is left.
func (l *lockstep) next(t time.Time) {
	l.mu.Lock()
	l.upcoming = t
	l.mu.Unlock()
	l.update()
}

// update moves the scheduler's hold to the minute of the oldest open or
// next action.
func (l *lockstep) update() {
	if l.hold == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.upcoming
	for _, t := range l.open {
		if h.IsZero() || t.Before(h) {
			h = t
		}
	}
	h = h.Truncate(time.Minute)
	if h.Equal(l.held) {
		return
	}
	l.held = h
	l.hold(h) // zero lifts the hold
}

// wait blocks, before the first action of t's minute, until every
// scheduled time up to that minute has finished and the bus is quiet. The
// actions of one minute then go out together: what one of them sets off
// on the bus does not hold up the others.
func (l *lockstep) wait(ctx context.Context, t time.Time) error {
	if l.settled == nil {
		return nil
	}
	m := t.Truncate(time.Minute)
	if m.Equal(l.minute) {
		return nil
	}
	for !l.settled(m) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Microsecond):
		}
	}
	l.minute = m
	return nil
}

// release lifts the hold for good.
func (l *lockstep) release() {
	if l.hold != nil {
		l.hold(time.Time{})
	}
}
