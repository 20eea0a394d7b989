package push_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// An idle minute costs a warm container about one or two DynamoDB requests (the
// catalog every CatalogTTL, an empty sweep partition every SweepIdle, the
// cursor every CursorEvery), not the ten of reading everything each time.
func TestIdleTicksReadLittle(t *testing.T) {
	e := newEnv(t, local(2026, 11, 24, 3, 1))
	demoCatalog(e)
	e.tick(local(2026, 11, 24, 3, 1)) // cold: reads the cursor and the catalog
	db := &countingDB{API: e.tb.DB}
	e.tb.DB = db
	const ticks = 60
	for m := local(2026, 11, 24, 3, 2); m.Before(local(2026, 11, 24, 3, 2+ticks)); m = m.Add(time.Minute) {
		if rep := e.tick(m); rep.Deliveries != 0 || rep.AlreadyDone {
			t.Fatalf("tick %v: %+v, want an idle minute", m, rep)
		}
	}
	if n := db.n.Load(); n > 2*ticks {
		t.Fatalf("%d requests for %d idle ticks, want at most 2 a tick", n, ticks)
	}
	// The cursor was still written now and then, so a cold container does
	// not start an hour back.
	cursor, err := dynamo.Deliveries{Table: e.tb}.Cursor(e.ctx, "push", "tick")
	if err != nil {
		t.Fatal(err)
	}
	if last := local(2026, 11, 24, 4, 1); last.Sub(cursor) >= 10*time.Minute {
		t.Fatalf("stored cursor %v, more than ten minutes behind %v", cursor, last)
	}
}

// A plan added while a container is warm is sent from its first slot two
// minutes (CatalogTTL) after the change; a pause is seen at once.
func TestPlanChangesReachAWarmContainer(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 10, 50))
	e.groups(2, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	for m := local(2026, 11, 23, 10, 50); !m.After(local(2026, 11, 23, 10, 55)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	// 10:55:30: an operator applies a plan with a slot at 10:58.
	e.clk.Set(local(2026, 11, 23, 10, 55).Add(30 * time.Second))
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "58 10 * * ? *"})
	for m := local(2026, 11, 23, 10, 56); !m.After(local(2026, 11, 23, 10, 58)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 2 {
		t.Fatalf("%d sends at the new plan's first slot, want 2", n)
	}
	// Paused a second before a slot the container expects: nothing is sent.
	if err := (dynamo.Catalog{Table: e.tb}).PutPlan(e.ctx, qunyun.Plan{ID: "q", Contents: []string{"c"}, Cron: "5 11 * * ? *"}); err != nil {
		t.Fatal(err)
	}
	for m := local(2026, 11, 23, 10, 59); !m.After(local(2026, 11, 23, 11, 4)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	e.clk.Set(local(2026, 11, 23, 11, 4).Add(59 * time.Second))
	if _, err := (dynamo.Catalog{Table: e.tb}).UpdatePlan(e.ctx, "q", func(p *qunyun.Plan, _ bool) error { p.Paused = true; return nil }); err != nil {
		t.Fatal(err)
	}
	e.tick(local(2026, 11, 23, 11, 5))
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 2 {
		t.Fatalf("%d sends, want still 2: a plan paused before its slot was sent", n)
	}
}

// Scheduler invokes asynchronously: the tick for 11:01 may run (in another
// process) before the one for 11:00 has, or at the same time. Each slot is
// still posted once per group, and the late tick finds its minute done.
func TestOverlappingTicksPostEachSlotOnce(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 10, 58))
	e.groups(5, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0-2 11 * * ? *"})
	a, b := e.svc, e.newService()
	e.clk.Set(local(2026, 11, 23, 10, 59))
	if _, err := a.Tick(e.ctx, local(2026, 11, 23, 10, 59)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Tick(e.ctx, local(2026, 11, 23, 10, 59)); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(local(2026, 11, 23, 11, 1).Add(10 * time.Second))
	// b runs 11:01 first; it expands 11:00 as well.
	rep, err := b.Tick(e.ctx, local(2026, 11, 23, 11, 1))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 10 {
		t.Fatalf("11:01 tick sent %d, want 10 (its slot and 11:00's)", rep.Sent)
	}
	late, err := a.Tick(e.ctx, local(2026, 11, 23, 11, 0))
	if err != nil {
		t.Fatal(err)
	}
	if late.Sent != 0 {
		t.Fatalf("late 11:00 tick sent %d more", late.Sent)
	}
	// Both at once, for the next minute.
	e.clk.Set(local(2026, 11, 23, 11, 2))
	done := make(chan error, 2)
	go func() { _, err := a.Tick(e.ctx, local(2026, 11, 23, 11, 2)); done <- err }()
	go func() { _, err := b.Tick(e.ctx, local(2026, 11, 23, 11, 2)); done <- err }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		gid := "g00" + string(rune('0'+i))
		if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"`+gid+`"`); n != 3 {
			t.Errorf("group %s got %d posts, want 3 (11:00, 11:01, 11:02)", gid, n)
		}
	}
}
