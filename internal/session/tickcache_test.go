package session_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

// countingStore counts the tick's session-list queries.
type countingStore struct {
	session.Sessions
	lists atomic.Int64
}

func (c *countingStore) SessionsStarting(ctx context.Context, from, to time.Time) ([]qunyun.Session, error) {
	c.lists.Add(1)
	return c.Sessions.SessionsStarting(ctx, from, to)
}

// A warm container lists the current sessions every ListTTL, not every
// minute, and still sees a session created elsewhere within ListTTL.
func TestTickListsSessionsEveryListTTL(t *testing.T) {
	f := newFixture(t)
	store := &countingStore{Sessions: dynamo.Sessions{Table: f.tb}}
	f.svc.Sessions = store
	t0 := start.Add(-40 * time.Minute)
	// The week is planned already: planning reads sessions too, once.
	if _, err := (dynamo.Sessions{Table: f.tb}).MarkWeekPlanned(f.ctx, session.WeekStart(t0), 0, nil); err != nil {
		t.Fatal(err)
	}
	f.tickAt(t0)
	// Another process (the CLI) plans a session whose reminder is due at
	// the very next minute.
	f.createSession("s", t0.Add(31*time.Minute))
	f.tickAt(t0.Add(time.Minute))
	f.tickAt(t0.Add(2 * time.Minute))
	if got := f.state("s").State; got != qunyun.SessionReminded {
		t.Fatalf("two minutes after it was created: %s, want reminded", got)
	}
	for m := 3; m < 10; m++ {
		f.tickAt(t0.Add(time.Duration(m) * time.Minute))
	}
	if n := store.lists.Load(); n > 5 {
		t.Fatalf("%d list queries in 10 ticks, want at most 5 (one every ListTTL)", n)
	}
}
