package simulate_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate"
	"github.com/qunyun/qunyun/internal/simulate/callbacktest"
)

// runSmall simulates one day of three demo groups (relay, WeCom and
// smart-bot accounts) against the real callback on a fast clock and
// returns the printed summary.
func runSmall(t *testing.T, seed uint64) (string, *simulate.Summary) {
	t.Helper()
	return runSmallOn(t, seed, false)
}

// runSmallOn is runSmall, on a stepped clock when stepped: the run moves
// the clock itself (this stack has no scheduler, so nothing ever fires).
func runSmallOn(t *testing.T, seed uint64, stepped bool) (string, *simulate.Summary) {
	t.Helper()
	c := demoCommunity(t)
	var groups []qunyun.Group
	for _, g := range groupsOf(c) {
		switch g.ID {
		case "g-punch", "g-vip-1", "g-learning":
			groups = append(groups, g)
		}
	}
	rnd := rand.New(rand.NewPCG(seed, 0))
	w, err := simulate.NewWorld(rnd, groups, simulate.HostMembers(c.Hosts), simulate.NewAccounts(demoAccounts), 30)
	if err != nil {
		t.Fatal(err)
	}
	timeline := simulate.Plan(rnd, w, seed, start, 1)
	// A day in about six seconds.
	var clk simulate.Clock = clock.NewScaled(start.Add(-time.Minute), 14400)
	var stack simulate.Stack
	if stepped {
		sc, err := clock.NewStepped(filepath.Join(t.TempDir(), "clock"), start.Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sc.Close() })
		clk = sc
		stack.Step = func(_ context.Context, at time.Time) error { return sc.Set(at) }
		stack.Settle = func(context.Context) error { return nil }
		stack.NextFire = func() (time.Time, bool) { return time.Time{}, false }
	}
	st := callbacktest.Start(t, callbacktest.Options{Accounts: demoAccounts, Clock: clk})
	stack.Gateway, stack.Table, stack.Clock = st.URL, st.Table, clk
	sim := &simulate.Simulation{Stack: stack, World: w, Seed: seed, Start: start, Days: 1}
	sum, err := sim.Run(context.Background(), timeline)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sum.Print(&b)
	return b.String(), sum
}

func TestSameSeedSameSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: two simulated days on a fast clock")
	}
	a, sum := runSmall(t, 42)
	b, _ := runSmall(t, 42)
	t.Logf("summary:\n%s", a)
	if a != b {
		t.Errorf("same seed, different summaries:\n%s\n---\n%s", a, b)
	}
	if len(sum.Rejected) != 0 {
		t.Errorf("the callback refused simulated callbacks: %v", sum.Rejected)
	}
	for _, k := range []simulate.Kind{simulate.KindMessage, simulate.KindJoin, simulate.KindCheckin, simulate.KindBot} {
		if sum.Sent[k] == 0 || sum.Accepted[k] != sum.Sent[k] {
			t.Errorf("%s: sent %d, accepted %d; want some, all accepted", k, sum.Sent[k], sum.Accepted[k])
		}
	}
}

// On a stepped clock the run moves the clock itself, event by event, and
// finishes as fast as the callback answers.
func TestSteppedSameSeedSameSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: two simulated days on a stepped clock")
	}
	a, sum := runSmallOn(t, 42, true)
	b, _ := runSmallOn(t, 42, true)
	if a != b {
		t.Errorf("same seed, different summaries:\n%s\n---\n%s", a, b)
	}
	if len(sum.Rejected) != 0 {
		t.Errorf("the callback refused simulated callbacks: %v", sum.Rejected)
	}
	for _, k := range []simulate.Kind{simulate.KindMessage, simulate.KindJoin, simulate.KindCheckin, simulate.KindBot} {
		if sum.Sent[k] == 0 || sum.Accepted[k] != sum.Sent[k] {
			t.Errorf("%s: sent %d, accepted %d; want some, all accepted", k, sum.Sent[k], sum.Accepted[k])
		}
	}
}

func TestLiveChatsInRealTime(t *testing.T) {
	c := demoCommunity(t)
	rnd := rand.New(rand.NewPCG(3, 0))
	w, err := simulate.NewWorld(rnd, groupsOf(c), simulate.HostMembers(c.Hosts), simulate.NewAccounts(demoAccounts), 20)
	if err != nil {
		t.Fatal(err)
	}
	live := clock.Real{} // wallclock: Live paces chat in real time
	st := callbacktest.Start(t, callbacktest.Options{Accounts: demoAccounts, Clock: live})
	sim := &simulate.Simulation{Stack: simulate.Stack{Gateway: st.URL, Table: st.Table, Clock: live}, World: w, Seed: 3}
	// Live runs until stopped; stop it once five chats were accepted. How
	// long that takes depends on the machine, so the test waits for the
	// outcome (the minute is only a bound on a broken run).
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Live(ctx, 100*time.Millisecond) }()
	for bound := time.After(time.Minute); ; {
		if _, accepted := sim.Sent(); accepted >= 5 {
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("live stopped before five chats were accepted: %v", err)
		case <-bound:
			cancel()
			<-done
			sent, accepted := sim.Sent()
			t.Fatalf("live sent %d, accepted %d in a minute; want five accepted", sent, accepted)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sent, accepted := sim.Sent(); accepted != sent {
		t.Errorf("live sent %d, accepted %d; want every chat accepted", sent, accepted)
	}
}
