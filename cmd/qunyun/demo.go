package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/localtable"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/host"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
	"github.com/qunyun/qunyun/internal/simulate"
)

// The demo life of `make run`: once the stack is up, apply the demo
// community (with a plan due in two minutes and a host session opening in
// three), give it a yesterday (the demo members' day replayed through the
// callback, then the night's scoring: yesterday's scores and report are
// there at start) and, unless --no-demo, let the members live in real
// time: newcomers join, members ask the smart bot and check in, and chat.

// noDemo is `qunyun local up --no-demo` (QUNYUN_NO_DEMO).
var noDemo bool

// demoEvery is the pace of the demo chat: light, a message every few seconds.
const demoEvery = 4 * time.Second

// demoGroupSize is how many members the demo gives each group.
const demoGroupSize = 30

// demoLink is the tracked link events/callback-link-open.json opens, so
// that sample redirects on the demo stack as a link from a push would.
var demoLink = qunyun.Link{Code: "demo-link-1", URL: "https://example.com/articles/winter-soup",
	GroupID: "g-shelf", ContentID: "c-weekly-article", Source: "p-weekly-shelf"}

func demoHook(ctx context.Context, st *local.Stack) error {
	d, err := setUpDemo(ctx, st, os.Stdout, !noDemo)
	if err != nil {
		return err
	}
	e := st.Endpoints()
	if noDemo {
		fmt.Println("demo: --no-demo: no yesterday and no simulated members")
		return nil
	}
	sim := d.simulation(st)
	now := st.Clock().Now()
	sim.Opening = simulate.Opening(d.world, now)
	fmt.Printf("demo: %d members chat in %d groups, about one message every %v; newcomers join until %s; watch %s/_local/sandbox/calls and %s/_local/bridge (--no-demo turns this off)\n",
		d.world.MemberCount(), len(d.world.Groups), demoEvery, openingEnd(sim.Opening, now).In(qunyun.LoadLocation("")).Format("15:04:05"), e.Gateway, e.Gateway)
	go func() {
		if err := sim.Live(ctx, demoEvery); err != nil {
			slog.Error("demo: the demo simulation stopped", "err", err)
		}
	}()
	return nil
}

// demo is the demo community on a running stack.
type demo struct {
	table    *dynamo.Table
	c        *community.Community
	accounts []qunyun.Account
	world    *simulate.World
	seed     uint64
}

// setUpDemo applies the demo community and, with lively, gives it its
// members and a yesterday and sends the showcase; it tells out what it
// did. On a stepped stack it settles what each step set off.
func setUpDemo(ctx context.Context, st *local.Stack, out io.Writer, lively bool) (*demo, error) {
	e := st.Endpoints()
	root, err := host.FindRoot(".")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	file := filepath.Join(root, "infra", "local", "community.yaml")
	base, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	now := st.Clock().Now()
	c, err := simulate.DemoCommunity(base, file, now)
	if err != nil {
		return nil, err
	}
	table := &dynamo.Table{DB: localtable.Client(e.DynamoDB), Name: e.TableName, Now: st.Clock().Now}
	diff, err := community.Compute(ctx, table, c, false)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := diff.Apply(ctx, table, nil); err != nil {
		return nil, fmt.Errorf("demo: apply %s: %w", file, err)
	}
	if err := (dynamo.Links{Table: table}).PutLink(ctx, demoLink); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := promoteDemoLeader(ctx, table, now); err != nil {
		return nil, err
	}
	loc := qunyun.LoadLocation("")
	soon := now.In(loc).Truncate(time.Minute)
	fmt.Fprintf(out, "demo: applied %s (%d created, %d changed) with a demo push at %s and a host session at %s\n",
		file, diff.Count(community.Create), diff.Count(community.Update), soon.Add(2*time.Minute).Format("15:04"), soon.Add(3*time.Minute).Format("15:04"))
	for _, w := range diff.Warnings {
		fmt.Fprintln(out, "demo: warning:", w)
	}
	d := &demo{table: table, c: c, seed: demoSeed(now.In(loc))}
	if !lively {
		return d, nil
	}
	dir, err := accounts.LoadFile(e.Accounts)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if d.accounts, err = dir.All(ctx); err != nil {
		return nil, err
	}
	groups := make([]qunyun.Group, 0, len(c.Groups))
	for _, g := range c.Groups {
		groups = append(groups, g.Group)
	}
	d.world, err = simulate.NewWorld(rand.New(rand.NewPCG(d.seed, 0)), groups, simulate.HostMembers(c.Hosts), simulate.NewAccounts(d.accounts), demoGroupSize)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := d.yesterday(ctx, st, out, now.In(loc)); err != nil {
		// The stack is still worth running without a yesterday.
		slog.Error("demo: yesterday", "err", err)
	}
	for _, a := range d.accounts {
		if a.Kind == qunyun.ChannelRelay {
			if err := showcase(ctx, e.Gateway, a, st.Clock(), out); err != nil {
				slog.Error("demo: showcase", "err", err)
			}
			break
		}
	}
	return d, settle(ctx, st)
}

// demoSeed is the seed of the demo's members and of its yesterday: today's
// date, so a restart on the same day meets the same members and replays
// the same yesterday, which the callback has recorded once already.
func demoSeed(today time.Time) uint64 {
	return uint64(today.Year()*10000 + int(today.Month())*100 + today.Day())
}

// yesterday replays the demo members' yesterday (all but the newcomers,
// who join today) and runs the night's scoring over it, unless that
// night's report is there already.
func (d *demo) yesterday(ctx context.Context, st *local.Stack, out io.Writer, today time.Time) error {
	start := time.Date(today.Year(), today.Month(), today.Day()-1, 0, 0, 0, 0, today.Location())
	date := start.Format(time.DateOnly)
	if _, found, err := (dynamo.Scores{Table: d.table}).Report(ctx, date); err != nil || found {
		if found {
			fmt.Fprintf(out, "demo: yesterday's report (%s) is there already: qunyun report\n", date)
		}
		return err
	}
	var timeline []simulate.Event
	for _, e := range simulate.Plan(rand.New(rand.NewPCG(d.seed, 1)), d.world, d.seed, start, 1) {
		if e.Member == nil || e.Member.Persona != simulate.Newcomer {
			timeline = append(timeline, e)
		}
	}
	sent, accepted, err := simulate.Past{Table: d.table, Accounts: d.accounts, World: d.world, Seed: d.seed}.Replay(ctx, timeline)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(scoring.Scheduled{Kind: "nightly", Date: date})
	if err != nil {
		return err
	}
	if _, err := st.Invoke(ctx, "ScoringFunction", payload); err != nil {
		return fmt.Errorf("score %s: %w", date, err)
	}
	total, ok := 0, 0
	for k, n := range sent {
		total, ok = total+n, ok+accepted[k]
	}
	fmt.Fprintf(out, "demo: yesterday (%s) replayed through the callback, %d of %d callbacks accepted (%s), and scored: qunyun get scores, qunyun report\n",
		date, ok, total, sent)
	return settle(ctx, st)
}

// simulation is the demo's members on the stack.
func (d *demo) simulation(st *local.Stack) *simulate.Simulation {
	hosts := map[string]string{}
	for _, h := range d.c.Hosts {
		hosts[h.ID] = h.MemberID
	}
	e := st.Endpoints()
	sim := &simulate.Simulation{
		Stack: simulate.Stack{Gateway: e.Gateway, Table: d.table, Clock: st.Clock()},
		World: d.world, Seed: d.seed, Hosts: hosts, Bridge: st.Bridge(), Log: slog.Default(),
	}
	if e.ClockFile != "" {
		sim.Stack.Step, sim.Stack.Settle, sim.Stack.NextFire = st.Step, st.Settle, st.Bus().Unfinished
	}
	return sim
}

// settle waits, on a stepped stack, for what the last requests set off.
func settle(ctx context.Context, st *local.Stack) error {
	if st.Endpoints().ClockFile == "" {
		return nil
	}
	return st.Settle(ctx)
}

// openingEnd is when the last event of the opening is due.
func openingEnd(events []simulate.Event, now time.Time) time.Time {
	for _, e := range events {
		if e.At.After(now) {
			now = e.At
		}
	}
	return now
}
