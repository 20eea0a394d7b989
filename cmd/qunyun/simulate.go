package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/localtable"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/host"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/report"
	"github.com/qunyun/qunyun/internal/simulate"
)

// By default the run is a discrete-event simulation on a stepped clock:
// virtual time moves only when the run moves it, so the same seed gives the
// same summary however loaded the machine is, and the run goes as fast as
// the stack can work (docs/simulate-and-load.md, Speed). --speed N instead
// runs the clock N times real time, the members in step with the stack's
// schedules: a busy stretch makes them late, and the summary varies.
const defaultSpeed = 0

// simStart is day 0 of a run unless --start says otherwise: a fixed Monday,
// so the same seed replays the same weekdays (plans are weekday crons).
const simStart = "2026-11-23"

type simFlags struct {
	file, accountsFile, start, reportOut string
	days, groups, size, workers          int
	speed                                float64
	seed                                 uint64
	keep, verbose                        bool
}

func newSimulateCmd() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "simulate [--days 30] [--seed 1] [--speed 0]",
		Short: "Live a month of community life in minutes through the real system",
		Long: `Simulate starts its own local stack (a temporary data directory, free ports,
a stepped clock that moves only when the simulation moves it, or with
--speed N a clock N times real time), applies community.yaml, and
populates its groups with members who have personas — lurker, chatterer,
asker, expert, host, spammer, newcomer — behaving as the group's purpose
suggests (a quiet shelf group, a noisy fan group, VIP groups with host
sessions, a dying group, a ten-minute pop-up group).

Every message, join, leave, check-in and vote reaches the stack as a real
signed and encrypted callback (WeCom change_external_chat events, relay
bridge messages, smart-bot mentions, Official Account messages); group
owners confirm customer-group tasks in the sandbox and members open tracked
links. The nightly scoring runs on the stack's own schedule.

The same --seed gives the same summary: messages, joins and leaves,
deliveries and sessions by state, each group's latest score, and the
report, written as HTML.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSimulate(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "infra/local/community.yaml", "the community to simulate")
	fl.StringVar(&f.accountsFile, "accounts", "infra/local/accounts.json", "the accounts file (local secrets) the stack serves")
	fl.IntVar(&f.days, "days", 30, "simulated days")
	fl.Float64Var(&f.speed, "speed", defaultSpeed, "0: a stepped clock, as fast as the stack works, repeatable; N: N times real time (1440 = a day a minute), not repeatable under load")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of every random choice: the same seed gives the same summary")
	fl.StringVar(&f.start, "start", simStart, "local date of day 0 (YYYY-MM-DD, the groups' time zone)")
	fl.IntVar(&f.groups, "groups", 0, "simulate only the first N groups of the file (by id); 0 means all")
	fl.IntVar(&f.size, "size", 50, "members per group (the group's size cap wins)")
	fl.IntVar(&f.workers, "workers", 8, "callbacks in flight at once")
	fl.StringVarP(&f.reportOut, "output", "o", "", "HTML report to write (default .local/reports/qunyun-simulate-<seed>-<date>.html)")
	fl.BoolVar(&f.keep, "keep", false, "keep the temporary data directory")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "show the stack's and functions' logs")
	jsonFlag(cmd)
	return cmd
}

func (f simFlags) check() (time.Time, error) {
	switch {
	case f.days < 1:
		return time.Time{}, fmt.Errorf("--days %d: simulate at least one day", f.days)
	case f.speed != 0 && f.speed < 1:
		return time.Time{}, fmt.Errorf("--speed %v: want 0 (stepped clock), 1 (real time) or more", f.speed)
	case f.size < 2:
		return time.Time{}, fmt.Errorf("--size %d: want at least 2 members a group", f.size)
	case f.groups < 0:
		return time.Time{}, fmt.Errorf("--groups %d: want 0 (all) or more", f.groups)
	case f.workers < 1:
		return time.Time{}, fmt.Errorf("--workers %d: want at least 1", f.workers)
	}
	start, err := time.ParseInLocation(time.DateOnly, f.start, qunyun.LoadLocation(""))
	if err != nil {
		return time.Time{}, fmt.Errorf("--start %q: want a date such as %s", f.start, simStart)
	}
	return start, nil
}

// stepped says the run is a discrete-event simulation (--speed 0).
func (f simFlags) stepped() bool { return f.speed == 0 }

// simRun is one qunyun simulate under way: its flags, day 0, where it
// writes and what it has started.
type simRun struct {
	simFlags
	start    time.Time
	errOut   io.Writer // the operator's messages
	logOut   io.Writer // the functions' output
	logger   *slog.Logger
	accts    []qunyun.Account
	stack    *local.Stack
	table    *dynamo.Table
	progress *progress
}

func runSimulate(cmd *cobra.Command, f simFlags) error {
	start, err := f.check()
	if err != nil {
		return err
	}
	c, err := community.Load(f.file)
	if err != nil {
		var ps community.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintln(cmd.ErrOrStderr(), p)
			}
			return fmt.Errorf("%s: %d problem(s)", f.file, len(ps))
		}
		return err
	}
	root, err := host.FindRoot(".")
	if err != nil {
		return fmt.Errorf("simulate runs from the repository (it builds the functions): %w", err)
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	r := &simRun{simFlags: f, start: start, errOut: cmd.ErrOrStderr(),
		logOut: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if f.verbose {
		r.logOut, r.logger = r.errOut, slog.New(slog.NewTextHandler(r.errOut, nil))
	}
	began := time.Now() // wallclock: how long the run took, for the operator

	dir, err := os.MkdirTemp(tempBase(), "qunyun-simulate-")
	if err != nil {
		return err
	}
	if !f.keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintln(r.errOut, "simulate: data in", dir)
	}
	stop, err := r.startStack(ctx, root, dir)
	defer stop()
	if err != nil {
		return err
	}
	if err := r.apply(ctx, c); err != nil {
		return err
	}
	sim, timeline, err := r.simulation(c)
	if err != nil {
		return err
	}
	sum, err := sim.Run(ctx, timeline)
	if err != nil {
		return err
	}
	r.progress.step(f.days, "done")
	if err := r.writeReport(ctx, sum); err != nil {
		return err
	}
	if wantJSON(cmd) {
		return printJSON(cmd.OutOrStdout(), sum)
	}
	sum.Print(cmd.OutOrStdout())
	r.tellTook(sim, time.Since(began))
	return nil
}

// startStack starts the simulation's own local stack (free ports, its data
// in dir, the accounts' webhooks pointed at its sandbox and relay bridge)
// and waits until the stack is up. stop, never nil, stops what started.
func (r *simRun) startStack(ctx context.Context, root, dir string) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	addr, err := freeLoopback()
	if err != nil {
		return stop, err
	}
	// Relay groups post to the stack's own bridge.
	acctFile, accts, err := simAccounts(r.accountsFile, dir, addr)
	if err != nil {
		return stop, err
	}
	r.accts = accts
	stack, err := local.New(r.stackConfig(root, dir, acctFile, addr))
	if err != nil {
		return stop, fmt.Errorf("start the simulation's stack: %w", err)
	}
	r.stack = stack
	ctx, cancel := context.WithCancel(ctx)
	stackErr := make(chan error, 1)
	go func() { stackErr <- stack.Run(ctx) }()
	stops = append(stops, func() {
		cancel()
		<-stackErr
	})
	fmt.Fprintf(r.errOut, "simulate: starting a local stack at %s…\n", stack.Endpoints().Gateway)
	select {
	case <-stack.Ready():
	case err := <-stackErr:
		stackErr <- err // for stop's wait
		return stop, fmt.Errorf("the simulation's stack failed to start: %w", err)
	case <-ctx.Done():
		return stop, ctx.Err()
	}
	e := stack.Endpoints()
	r.table = &dynamo.Table{DB: localtable.Client(e.DynamoDB), Name: e.TableName, Now: stack.Clock().Now}
	return stop, nil
}

// stackConfig configures the simulation's stack: free ports, its data in
// memory (or in dir with --keep) and its clock a little before day 0.
func (r *simRun) stackConfig(root, dir, acctFile, addr string) local.Config {
	// The stack's clock starts at ready; it must not reach day 0 before
	// the community is applied (several real seconds while the functions'
	// first invocations start up), nor idle long before it: a lead of
	// about twelve real seconds.
	lead := max((time.Duration(12*r.speed) * time.Second).Round(time.Minute), 30*time.Minute)
	// dynalite keeps the data in memory, about 2.5 times faster than in
	// files even on /dev/shm; --keep keeps it in dir instead.
	dataDir := "-"
	if r.keep {
		dataDir = filepath.Join(dir, "dynalite")
	}
	cfg := local.Config{
		Root: root, Accounts: acctFile, Addr: addr, BusAddr: "127.0.0.1:0", DynamoAddr: "127.0.0.1:0",
		DataDir: dataDir, StateFile: "-",
		ClockSpeed: r.speed, ClockStart: r.start.Add(-lead), Log: r.logOut, Logger: r.logger,
	}
	if r.stepped() {
		cfg.ClockSpeed, cfg.ClockFile = 0, filepath.Join(dir, "clock")
	}
	return cfg
}

// apply applies the community to the simulation's table, which must be
// done before the stack's clock reaches day 0.
func (r *simRun) apply(ctx context.Context, c *community.Community) error {
	d, err := community.Compute(ctx, r.table, c, false)
	if err != nil {
		return err
	}
	if err := d.Apply(ctx, r.table, nil); err != nil {
		return fmt.Errorf("apply %s: %w", r.file, err)
	}
	if now := r.stack.Clock().Now(); !now.Before(r.start) {
		return fmt.Errorf("the stack took too long to start: its clock is at %s, past day 0 (%s); lower --speed",
			now.Format(time.RFC3339), r.start.Format(time.RFC3339))
	}
	return nil
}

// simulation populates the community's groups (the first --groups) with
// --size members, plans their --days and sets up the run against the stack.
func (r *simRun) simulation(c *community.Community) (*simulate.Simulation, []simulate.Event, error) {
	groups := make([]qunyun.Group, 0, len(c.Groups))
	for _, g := range c.Groups {
		groups = append(groups, g.Group)
	}
	if r.groups > 0 && r.groups < len(groups) {
		groups = groups[:r.groups]
	}
	rnd := rand.New(rand.NewPCG(r.seed, 0))
	world, err := simulate.NewWorld(rnd, groups, simulate.HostMembers(c.Hosts), simulate.NewAccounts(r.accts), r.size)
	if err != nil {
		return nil, nil, err
	}
	timeline := simulate.Plan(rnd, world, r.seed, r.start, r.days)
	hosts := map[string]string{}
	for _, h := range c.Hosts {
		hosts[h.ID] = h.MemberID
	}
	pace := "a stepped clock"
	if !r.stepped() {
		pace = fmt.Sprintf("speed %g (a day every %v)", r.speed, (24 * time.Hour / time.Duration(r.speed)).Round(time.Millisecond))
	}
	fmt.Fprintf(r.errOut, "simulate: %d days, %d groups, %d members, %d planned events, %s\n",
		r.days, len(world.Groups), world.MemberCount(), len(timeline), pace)
	p := newProgress(r.errOut, "simulating", r.days)
	r.progress = p
	stack := r.stack
	sim := &simulate.Simulation{
		Stack: simulate.Stack{Gateway: stack.Endpoints().Gateway, Table: r.table, Clock: stack.Clock(), NextFire: stack.Bus().Unfinished,
			Hold: stack.Bus().HoldAfter, Settled: stack.Bus().Settled},
		World: world, Seed: r.seed, Start: r.start, Days: r.days, Hosts: hosts, Workers: r.workers, Bridge: r.stack.Bridge(),
		Progress: func(day, days, sent int) {
			lag := time.Duration(0)
			if next, ok := stack.Bus().Unfinished(); ok {
				lag = max(0, stack.Clock().Now().Sub(next))
			}
			p.step(day, fmt.Sprintf("day %d, %d callbacks, schedules %v behind", day+1, sent, lag.Round(time.Minute)))
		},
		Log: r.logger,
	}
	if r.stepped() {
		sim.Stack.Hold, sim.Stack.Settled = nil, nil
		sim.Stack.Step, sim.Stack.Settle = stack.Step, stack.Settle
		sim.Progress = func(day, days, sent int) {
			p.step(day, fmt.Sprintf("day %d, %d callbacks", day+1, sent))
		}
	}
	return sim, timeline, nil
}

// writeReport writes the HTML of the last report the run's stack made,
// to -o or the reports folder, and notes where in sum.
func (r *simRun) writeReport(ctx context.Context, sum *simulate.Summary) error {
	if sum.ReportDate == "" {
		return nil
	}
	out := r.reportOut
	if out == "" {
		var err error
		if out, err = reportPath(fmt.Sprintf("qunyun-simulate-%d-%s.html", r.seed, sum.ReportDate)); err != nil {
			return err
		}
	}
	if err := writeSimReport(ctx, r.table, sum.ReportDate, out); err != nil {
		return err
	}
	if abs, err := filepath.Abs(out); err == nil {
		sum.ReportPath = abs
	}
	return nil
}

// tellTook tells the operator how long the run took and, on a fast
// clock, how far the members fell behind the stack's schedules.
func (r *simRun) tellTook(sim *simulate.Simulation, took time.Duration) {
	if r.stepped() {
		fmt.Fprintf(r.errOut, "simulate: took %v on a stepped clock\n", took.Round(time.Second))
		return
	}
	late := sim.Lateness()
	fmt.Fprintf(r.errOut, "simulate: took %v; members acted at most %v (virtual) after their time, waiting for the stack's schedules (%d of %d actions more than a minute late, %d more than ten)\n",
		took.Round(time.Second), sim.MaxLag().Round(time.Second), late.OverMinute, late.Actions, late.OverTenMinutes)
	if sim.MaxLag() > 10*time.Minute {
		fmt.Fprintf(r.errOut, "simulate: warning: at --speed %g the stack's scheduler could not keep up; sessions and pushes ran late. Lower --speed.\n", r.speed)
	}
}

// writeSimReport renders the stored daily report of date as HTML.
func writeSimReport(ctx context.Context, t *dynamo.Table, date, out string) error {
	r, found, err := dynamo.Scores{Table: t}.Report(ctx, date)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("report %s: not found", date)
	}
	dash, err := report.New()
	if err != nil {
		return err
	}
	fh, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := dash.Write(fh, r); err != nil {
		fh.Close()
		return fmt.Errorf("write report %s: %w", out, err)
	}
	return fh.Close()
}

// freeLoopback picks a free loopback port for the simulation's gateway, so
// it never collides with a running `make run`.
func freeLoopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// simAccounts copies the accounts file into dir with the webhooks that
// point at the default local gateway moved to the simulation's own, so its
// pushes land in its own sandbox and bridge, and relay accounts without a
// bridge given the stack's (local.BridgePath).
func simAccounts(path, dir, addr string) (string, []qunyun.Account, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("--accounts: %w", err)
	}
	var list []qunyun.Account
	if err := json.Unmarshal(data, &list); err != nil {
		return "", nil, fmt.Errorf("--accounts %s: want a JSON array of accounts: %w", path, err)
	}
	for i := range list {
		list[i].Webhook = strings.Replace(list[i].Webhook, "127.0.0.1:3000", addr, 1)
		for name, u := range list[i].Webhooks {
			list[i].Webhooks[name] = strings.Replace(u, "127.0.0.1:3000", addr, 1)
		}
		if list[i].Kind == qunyun.ChannelRelay && list[i].Webhook == "" {
			list[i].Webhook = "http://" + addr + local.BridgePath + "/relay/" + list[i].ID
		}
	}
	out, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return "", nil, err
	}
	p := filepath.Join(dir, "accounts.json")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		return "", nil, fmt.Errorf("write the simulation's accounts: %w", err)
	}
	return p, list, nil
}

// tempBase is where the simulation keeps its data: memory (/dev/shm) when
// the machine has it, since dynalite's on-disk store is what limits how
// many scheduled ticks a second the stack can run.
func tempBase() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return ""
}
