package simulate_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/simulate"
)

// Past records a day gone by through the callback, each event at its own
// time: every event is accepted, the joins count as members, and a second
// replay records nothing new.
func TestPastRecordsADayOnce(t *testing.T) {
	ctx := context.Background()
	c := demoCommunity(t)
	tb := dynamotest.NewTable(t, clock.NewManual(start.AddDate(0, 0, 1))) // the next morning
	d, err := community.Compute(ctx, tb, c, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Apply(ctx, tb, nil); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(5, 0))
	w, err := simulate.NewWorld(rnd, groupsOf(c), simulate.HostMembers(c.Hosts), simulate.NewAccounts(demoAccounts), 10)
	if err != nil {
		t.Fatal(err)
	}
	timeline := simulate.Plan(rnd, w, 5, start, 1)
	p := simulate.Past{Table: tb, Accounts: demoAccounts, World: w, Seed: 5}
	sent, accepted, err := p.Replay(ctx, timeline)
	if err != nil {
		t.Fatal(err)
	}
	if sent[simulate.KindJoin] == 0 || sent[simulate.KindMessage] == 0 {
		t.Fatalf("sent %v: want joins and messages", sent)
	}
	for k, n := range sent {
		if accepted[k] != n {
			t.Errorf("%s: %d sent, %d accepted", k, n, accepted[k])
		}
	}
	g, _, err := dynamo.Catalog{Table: tb}.Group(ctx, "g-fan")
	if err != nil || g.MemberCount == 0 {
		t.Fatalf("g-fan counts %d members (%v)", g.MemberCount, err)
	}
	day := func() int {
		log, err := dynamo.Log{Table: tb}.GroupLog(ctx, "g-fan", start, start.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return len(log.Messages) + len(log.Events)
	}
	before := day()
	if _, _, err := p.Replay(ctx, timeline); err != nil {
		t.Fatal(err)
	}
	if after := day(); after != before || before == 0 {
		t.Errorf("g-fan's day holds %d records, then %d after a second replay", before, after)
	}
}

// The opening asks the bot, checks in twice, asks a relay group, and has
// each newcomer of a group with a membership channel (not a pop-up) join
// and, where the bridge hears, greet; all within a few minutes.
func TestOpening(t *testing.T) {
	c := demoCommunity(t)
	w, err := simulate.NewWorld(rand.New(rand.NewPCG(1, 0)), groupsOf(c), simulate.HostMembers(c.Hosts), simulate.NewAccounts(demoAccounts), 20)
	if err != nil {
		t.Fatal(err)
	}
	events := simulate.Opening(w, start)
	kinds := map[simulate.Kind]int{}
	newcomers := 0
	for _, g := range w.Groups {
		for _, m := range g.Members {
			if m.Persona == simulate.Newcomer && g.Membership.ID != "" && g.ID != "g-popup" {
				newcomers++
			}
		}
	}
	ids := map[string]bool{}
	for _, e := range events {
		kinds[e.Kind]++
		if ids[e.ID] {
			t.Errorf("id %s twice", e.ID)
		}
		ids[e.ID] = true
		if e.At.Before(start) || e.At.After(start.Add(5*time.Minute)) {
			t.Errorf("%s %s at %v: not within five minutes of start", e.Kind, e.ID, e.At)
		}
		if e.Kind == simulate.KindJoin && (e.Member.Persona != simulate.Newcomer || e.Group.ID == "g-popup") {
			t.Errorf("%s joins %s", e.Member.ID, e.Group.ID)
		}
	}
	if kinds[simulate.KindBot] != 2 || kinds[simulate.KindCheckin] != 1 || kinds[simulate.KindJoin] != newcomers || newcomers == 0 {
		t.Errorf("opening %v, want 2 bot asks, 1 relay check-in and %d joins", kinds, newcomers)
	}
}
