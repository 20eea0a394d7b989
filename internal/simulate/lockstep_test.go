package simulate

import (
	"context"
	"testing"
	"time"
)

// The scheduler is held at the minute of the oldest unfinished action (or
// the next one), and an action waits, once per minute, for the schedules
// of its minute.
func TestLockstep(t *testing.T) {
	var held []time.Time
	var waitedFor []time.Time
	settled := false
	l := newLockstep(func(h time.Time) { held = append(held, h) }, func(m time.Time) bool {
		waitedFor = append(waitedFor, m)
		return settled
	})
	at := func(h, m, s int) time.Time { return time.Date(2026, 11, 23, h, m, s, 0, time.UTC) }

	l.begin(1, at(8, 0, 30))
	l.next(at(8, 5, 10))
	l.begin(2, at(8, 5, 10)) // sent while 1 is still open
	l.next(time.Time{})
	if got := held[len(held)-1]; !got.Equal(at(8, 0, 0)) {
		t.Fatalf("held at %v with action 1 open, want 08:00", got)
	}
	l.done(1)
	if got := held[len(held)-1]; !got.Equal(at(8, 5, 0)) {
		t.Fatalf("held at %v once 1 finished, want 08:05", got)
	}
	l.done(2)
	if got := held[len(held)-1]; !got.IsZero() {
		t.Fatalf("held at %v with nothing left, want the hold lifted", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.wait(ctx, at(9, 0, 10)); err == nil {
		t.Fatal("wait returned while the schedules were not settled")
	}
	settled = true
	if err := l.wait(context.Background(), at(9, 0, 10)); err != nil {
		t.Fatal(err)
	}
	n := len(waitedFor)
	if err := l.wait(context.Background(), at(9, 0, 50)); err != nil || len(waitedFor) != n {
		t.Fatalf("a second action of the same minute waited again (%d checks, want %d)", len(waitedFor), n)
	}
	if !waitedFor[n-1].Equal(at(9, 0, 0)) {
		t.Fatalf("waited for %v, want the schedules up to 09:00", waitedFor[n-1])
	}
}
