package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/loadtest"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/capacity"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
)

// Where the local stack listens and keeps its demo accounts, unless the
// environment the stack itself reads says otherwise.
const (
	localGatewayAddr = "127.0.0.1:3000"
	localAccounts    = "infra/local/accounts.json"
)

func defaultGateway() string {
	if a := os.Getenv("QUNYUN_ADDR"); a != "" {
		return a
	}
	return localGatewayAddr
}

func defaultAccountsFile() string {
	if f := os.Getenv("QUNYUN_ACCOUNTS"); f != "" {
		return f
	}
	return localAccounts
}

// gatewayURL accepts host:port or a URL.
func gatewayURL(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("--addr is empty: give the stack's gateway, e.g. 127.0.0.1:3000")
	}
	if !strings.Contains(addr, "://") {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", fmt.Errorf("--addr %q: want host:port or http://host:port", addr)
		}
		addr = "http://" + addr
	}
	return strings.TrimRight(addr, "/"), nil
}

// checkGateway fails early, and clearly, when nothing answers at url.
func checkGateway(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("gateway %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("no stack answers at %s (start one with `make run` or `qunyun local up`): %w", url, err)
	}
	resp.Body.Close()
	return nil
}

// stackFile is what a running local stack writes about itself
// (internal/local writes .local/stack.json): only the fields the load and
// simulate commands use.
type stackFile struct {
	Gateway      string `json:"gateway"`
	DynamoDB     string `json:"dynamodb"`
	EventBus     string `json:"eventBus"`
	EventBusName string `json:"eventBusName"`
	Accounts     string `json:"accounts"`
	TableName    string `json:"tableName"`
	ClockStart   string `json:"clockStart"`
	ClockSpeed   string `json:"clockSpeed"`
}

const localStackFile = ".local/stack.json"

// readStack reads the stack file; a missing file is not an error (ok false).
func readStack(path string) (st stackFile, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("stack file: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, false, fmt.Errorf("stack file %s: %w", path, err)
	}
	return st, true, nil
}

// stackClock is the running stack's clock, which callbacks are stamped
// with: the callback refuses a timestamp five minutes from its own clock.
func stackClock(st stackFile) (clock.Clock, error) {
	env := map[string]string{clock.EnvStart: st.ClockStart, clock.EnvSpeed: st.ClockSpeed}
	c, err := clock.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("the stack's clock: %w", err)
	}
	return c, nil
}

// useStack fills the flags the user did not set from a running local stack.
func useStack(cmd *cobra.Command, st stackFile) {
	set := func(flag, v string) {
		if f := cmd.Flags().Lookup(flag); f != nil && !f.Changed && v != "" {
			_ = f.Value.Set(v)
		}
	}
	set("addr", st.Gateway)
	set("endpoint", st.DynamoDB)
	set("table", st.TableName)
	set("accounts", st.Accounts)
}

// loadFlags are qunyun load's flags.
type loadFlags struct {
	addr, mix, accountsFile, groups, stackPath, trace string
	rate, dup                                         float64
	duration, timeout, drain                          time.Duration
	seed                                              uint64
}

func newLoadCmd() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Send callbacks at a rate to a running stack and check none was lost or stored twice",
		Long: `Load sends real signed and encrypted callbacks (OA, WeCom, smart bot, relay)
to a running stack at --rate requests a second for --duration, with a --mix of
channels and a --dup share of duplicates (WeChat's retries: the identical
request again, some while the first is in flight, some seconds later). Each
request is retried as WeChat does: up to 3 tries on a non-200 answer or a 5 s
timeout.

It then reads back every group-day (and account-day) log partition it wrote
to and prints lost, duplicated and error counts and first-try latency
percentiles. A try that timed out may still be queued in the stack, so it
first waits, up to --drain, until the local stack has no request in flight
(its /_local/inflight; another stack: until no timed-out callback is
missing). A callback missing then that the stack answered 200, or that
cannot arrive any more, is lost; one never answered while the stack still
works is reported as still in flight. It exits 1 if anything was lost,
stored twice or still in flight.

Against the local stack it also prints what the run cost in DynamoDB, from
the stack's meter (/_local/capacity): requests, WRU and RRU per handled
event by kind (oa, wecom, wecom-bot, relay, and the background invocations
the run's minutes set off), as on-demand DynamoDB bills them, index writes
included.

Faults in the DynamoDB path are the stack's: start it with
'qunyun local up --faults 0.05' (or QUNYUN_FAULTS=0.05) to put the fault
proxy in front of dynalite.`,
		Example: `  qunyun load --rate 200 --duration 60s --dup 0.2
  qunyun load --mix relay=1 --rate 50 --duration 10s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLoad(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.stackPath, "stack", localStackFile, "a running local stack's file: its gateway, table, accounts and clock are the defaults")
	fl.StringVar(&f.addr, "addr", defaultGateway(), "the stack's gateway, host:port or URL (env QUNYUN_ADDR)")
	fl.Float64Var(&f.rate, "rate", 200, "requests a second, duplicates included")
	fl.DurationVar(&f.duration, "duration", 60*time.Second, "how long to send")
	fl.StringVar(&f.mix, "mix", "relay=0.6,wecom=0.15,bot=0.15,oa=0.1", "share of each channel: oa, wecom, bot, relay")
	fl.Float64Var(&f.dup, "dup", 0.2, "share of requests that repeat an earlier one (WeChat retries)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the traffic's random choices")
	fl.StringVar(&f.accountsFile, "accounts", defaultAccountsFile(), "the stack's accounts file (env QUNYUN_ACCOUNTS)")
	fl.StringVar(&f.groups, "groups", "", "comma-separated group ids to write to (default: the table's groups, by account)")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Second, "how long a try waits for an answer (WeChat waits 5 s)")
	fl.DurationVar(&f.drain, "drain", 2*time.Minute, "after sending, how long to wait for requests the stack is still working on")
	fl.StringVar(&f.trace, "trace", "", "write each request (when sent, channel, key, tries, statuses, first try's latency) to this CSV file")
	tableFlags(cmd)
	jsonFlag(cmd)
	return cmd
}

func runLoad(cmd *cobra.Command, f *loadFlags) error {
	now, err := f.fromStack(cmd)
	if err != nil {
		return err
	}
	base, mix, err := f.check()
	if err != nil {
		return err
	}
	dir, err := accounts.LoadFile(f.accountsFile)
	if err != nil {
		return fmt.Errorf("--accounts: %w", err)
	}
	ctx := cmd.Context()
	if err := checkGateway(ctx, base); err != nil {
		return err
	}
	var trace *os.File // created now, so a bad path fails before sending
	if f.trace != "" {
		if trace, err = os.Create(f.trace); err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
		defer trace.Close()
	}
	t, err := openTable(ctx, cmd)
	if err != nil {
		return err
	}
	targets, err := f.targets(ctx, dir, t)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(cmd.ErrOrStderr(), "load: %g req/s for %v, mix %s, %.0f%% duplicates, against %s\n", f.rate, f.duration, mix, f.dup*100, base)
	sender := &callbacks.Sender{Base: base, Client: &http.Client{
		Timeout:   f.timeout,
		Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second},
	}}
	meter := localCapacity(base)
	before, metered := meter(ctx)
	p := newProgress(cmd.ErrOrStderr(), "sending", int(f.rate*f.duration.Seconds()))
	run, err := loadtest.Start(ctx, sender, loadtest.Options{
		Rate: f.rate, Duration: f.duration, Mix: mix, Dup: f.dup, Seed: f.seed, Targets: targets, Now: now,
		Progress: func(sent, total int) { p.step(sent, "") },
	})
	if err != nil {
		return err
	}
	if trace != nil {
		if err := run.WriteTrace(trace); err != nil {
			return fmt.Errorf("--trace %s: %w", f.trace, err)
		}
		if err := trace.Close(); err != nil {
			return fmt.Errorf("--trace %s: %w", f.trace, err)
		}
	}
	rep, err := f.settle(ctx, cmd.ErrOrStderr(), t, run, base)
	if err != nil {
		return err
	}
	if metered {
		if after, ok := meter(ctx); ok {
			rep.Capacity = capacityReport(after.Sub(before))
		}
	}
	if wantJSON(cmd) {
		if err := printJSON(out, rep); err != nil {
			return err
		}
	} else {
		rep.Print(out)
	}
	if !rep.OK() {
		return fmt.Errorf("%d lost, %d duplicated, %d still in flight after --drain %v",
			len(rep.Lost), len(rep.Duplicated), len(rep.InFlight), f.drain)
	}
	return nil
}

// fromStack fills the flags not given from a running local stack's file,
// if there is one, and returns the clock to stamp callbacks with: the
// stack's, else real time.
func (f *loadFlags) fromStack(cmd *cobra.Command) (func() time.Time, error) {
	st, running, err := readStack(f.stackPath)
	if err != nil {
		return nil, err
	}
	now := time.Now // wallclock: real time unless a local stack runs its own clock
	if running {
		useStack(cmd, st)
		clk, err := stackClock(st)
		if err != nil {
			return nil, err
		}
		now = clk.Now
	}
	return now, nil
}

// check checks the flags and returns the gateway's URL and the mix.
func (f *loadFlags) check() (base string, mix loadtest.Mix, err error) {
	if base, err = gatewayURL(f.addr); err != nil {
		return "", nil, err
	}
	if mix, err = loadtest.ParseMix(f.mix); err != nil {
		return "", nil, fmt.Errorf("--mix: %w", err)
	}
	if f.rate <= 0 || f.duration <= 0 {
		return "", nil, errors.New("--rate and --duration must be above 0")
	}
	if f.dup < 0 || f.dup >= 1 {
		return "", nil, fmt.Errorf("--dup %v: want a share from 0 up to (not including) 1", f.dup)
	}
	return base, mix, nil
}

// targets are where each channel's traffic goes: the groups --groups
// names, else the table's.
func (f *loadFlags) targets(ctx context.Context, dir *accounts.Static, t *dynamo.Table) (map[qunyun.Channel]loadtest.Target, error) {
	all, err := dir.All(ctx)
	if err != nil {
		return nil, err
	}
	var groups []qunyun.Group
	if f.groups != "" {
		for _, id := range strings.Split(f.groups, ",") {
			groups = append(groups, qunyun.Group{ID: strings.TrimSpace(id)})
		}
	} else if groups, err = (dynamo.Catalog{Table: t}).Groups(ctx); err != nil {
		return nil, fmt.Errorf("read the groups to load (or pass --groups): %w", err)
	}
	return loadTargets(all, groups), nil
}

// settle waits, up to --drain, for the stack to finish the run's requests
// and reads back what it stored, saying on stderr what it waits for.
func (f *loadFlags) settle(ctx context.Context, stderr io.Writer, t *dynamo.Table, run *loadtest.Run, base string) (loadtest.Report, error) {
	waiting := -1
	return loadtest.Settle(ctx, t, run, loadtest.Drain{
		Limit: f.drain, Idle: localIdle(ctx, base),
		Progress: func(n int) {
			if n > 0 && n != waiting {
				fmt.Fprintf(stderr, "load: %d callbacks not stored yet; waiting up to %v for the stack\n", n, f.drain)
			}
			waiting = n
		},
	})
}

// localIdle returns a probe of the local stack's in-flight HTTP
// invocations, or nil when the gateway does not serve /_local/inflight (a
// deployed stack): then only the table tells when the stack is done.
func localIdle(ctx context.Context, base string) func(context.Context) bool {
	client := &http.Client{Timeout: 3 * time.Second}
	inFlight := func(ctx context.Context) (int64, bool) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_local/inflight", nil)
		if err != nil {
			return 0, false
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var n local.InFlight
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&n) != nil {
			return 0, false
		}
		return n.HTTP, true
	}
	if _, ok := inFlight(ctx); !ok {
		return nil
	}
	return func(ctx context.Context) bool {
		n, ok := inFlight(ctx)
		return ok && n == 0
	}
}

// localCapacity returns a reader of the local stack's DynamoDB meter
// (/_local/capacity); ok is false where the gateway has none (a deployed
// stack, or an older local one).
func localCapacity(base string) func(context.Context) (capacity.Snapshot, bool) {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(ctx context.Context) (capacity.Snapshot, bool) {
		var s capacity.Snapshot
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_local/capacity", nil)
		if err != nil {
			return s, false
		}
		resp, err := client.Do(req)
		if err != nil {
			return s, false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&s) != nil || s.ByKind == nil {
			return s, false
		}
		return s, true
	}
}

// capacityReport is the load report's view of what the meter counted.
func capacityReport(s capacity.Snapshot) *loadtest.Capacity {
	var kinds []loadtest.KindCost
	for _, k := range s.Kinds() {
		u := s.ByKind[k]
		kinds = append(kinds, loadtest.KindCost{
			Kind: k, Events: u.Invocations, Requests: u.Requests, WRU: u.WriteUnits, RRU: u.ReadUnits,
			IndexWRU: u.IndexWriteUnits, ConditionalFailures: u.ConditionalFailures, Operations: u.Operations,
		})
	}
	return loadtest.NewCapacity(kinds)
}

// loadTargets gives each channel its first account (by id) and the groups
// whose account it is; a channel with an account but no group of its own
// writes to every group, as a bridge or bot serving all groups would.
func loadTargets(all []qunyun.Account, groups []qunyun.Group) map[qunyun.Channel]loadtest.Target {
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	out := map[qunyun.Channel]loadtest.Target{}
	for _, a := range all {
		if _, ok := out[a.Kind]; ok {
			continue
		}
		t := loadtest.Target{Account: a}
		for _, g := range groups {
			if g.AccountID == a.ID {
				t.Groups = append(t.Groups, g.ID)
			}
		}
		if len(t.Groups) == 0 {
			for _, g := range groups {
				t.Groups = append(t.Groups, g.ID)
			}
		}
		out[a.Kind] = t
	}
	return out
}
