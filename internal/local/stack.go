// Package local is the local stack behind `make run` and `qunyun local up`:
// it brings the whole system up on a laptop from template.yaml, the single
// source of truth. It starts dynalite and creates the table, builds each
// function's bootstrap for this machine and runs it the way Lambda does
// (internal/local/runner), serves the HttpApi routes as API Gateway would
// (internal/local/gateway), routes events and fires schedules like
// EventBridge (internal/local/eventbus), and mounts the WeChat/WeCom API
// sandbox (internal/local/sandbox) plus a few developer endpoints.
//
// The functions run unchanged: only their endpoints and clock differ, passed
// through the environment the template declares. This package must never be
// linked into a function.
package local

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo/localtable"
	"github.com/qunyun/qunyun/internal/local/capacity"
	"github.com/qunyun/qunyun/internal/local/dynalite"
	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/local/faultproxy"
	"github.com/qunyun/qunyun/internal/local/gateway"
	"github.com/qunyun/qunyun/internal/local/runner"
	"github.com/qunyun/qunyun/internal/local/runtimeapi"
	"github.com/qunyun/qunyun/internal/local/sandbox"
	"github.com/qunyun/qunyun/internal/sam"
)

// Defaults for the addresses; `qunyun invoke` assumes them when no stack
// state file says otherwise.
const (
	DefaultAddr       = "127.0.0.1:3000"
	DefaultBusAddr    = "127.0.0.1:3001"
	DefaultDynamoAddr = "127.0.0.1:3002"
	Stage             = "local"
	Region            = "us-east-1"

	// DefaultMaxProcs caps each function's processes. Lambda scales out per
	// concurrent request, and a callback waiting out a DynamoDB back-off holds
	// its process for a second or more, so a small cap turns a burst of
	// faults into timeouts the real system would not have. Processes start
	// only when the concurrency needs them.
	DefaultMaxProcs = 32
)

// Config configures a Stack. Only Root is required.
type Config struct {
	Root       string // module root: template.yaml, infra/, functions/
	Template   string // "" means Root/template.yaml
	Accounts   string // "" means Root/infra/local/accounts.json
	Addr       string // gateway and developer endpoints; "" means DefaultAddr
	BusAddr    string // PutEvents endpoint; "" means DefaultBusAddr
	DynamoAddr string // dynalite; "" means DefaultDynamoAddr; port 0 picks one
	// DynamoEndpoint, when set, is a running DynamoDB-compatible engine to
	// use instead of starting dynalite (tests share one this way).
	DynamoEndpoint string
	// DataDir holds dynalite's data; "" means Root/.local/dynalite, "-" in
	// memory (lost at exit, and about 2.5 times faster: for throw-away
	// stacks such as qunyun simulate's).
	DataDir string
	BinDir  string // built bootstraps, <BinDir>/<LogicalId>/bootstrap; "" means Root/.local/bin
	// Prebuilt says the functions are already built into BinDir, named
	// after their packages, by the same build as this program: `make run`
	// builds them with the CLI. The stack then installs them without
	// running go build's check (a second or two of every start).
	Prebuilt   bool
	StateFile  string // where Endpoints go once up; "" means Root/.local/stack.json, "-" none
	ClockSpeed float64
	ClockStart time.Time // zero means now
	// ClockFile, when set, makes the clock stepped (discrete-event): it
	// stands at ClockStart, kept in this file for the functions
	// (QUNYUN_CLOCK_FILE), and moves only when the driver calls Step, which
	// also fires the schedules due; no scheduler loop runs and nothing is
	// paced by real time. ClockSpeed is ignored.
	ClockFile string
	// Package gives the Go package to build for a function; nil means
	// FunctionPackage. Tests substitute a test function this way.
	Package  func(logicalID string) string
	MaxProcs int           // processes per function; 0 means DefaultMaxProcs
	Poll     time.Duration // longest scheduler sleep; 0 means the bus default
	// Faults, when set, puts a fault proxy between the functions and
	// dynalite (faultproxy.ParseSpec: "0.05" or "0.05:throttle,5xx"); the
	// state file keeps the direct endpoint, for checkers.
	Faults string
	Log    io.Writer    // function output; nil means os.Stderr
	Logger *slog.Logger // nil means slog.Default()
}

// Stack is the running local system. Create it with New, then Run it.
type Stack struct {
	cfg        Config
	log        *slog.Logger
	tpl        *sam.Template
	clk        *stackClock
	clockStart time.Time      // virtual start of a fast clock; zero for real time
	stepped    *clock.Stepped // set when Config.ClockFile is
	endpoints  Endpoints      // final once ready; see Endpoints
	sandbox    *sandbox.Server
	bus        *eventbus.Bus
	gateway    *gateway.Gateway

	gwListener, busListener net.Listener

	ready     chan struct{}
	readyOnce sync.Once

	pools   map[string]*runner.Pool // set before ready, read-only after
	missing map[string]string       // function → why it cannot run

	runCtx context.Context    // Run's; set before ready
	faults *faultproxy.Server // nil unless Config.Faults
	meter  *capacity.Server   // set before ready
	// accountKinds maps each account to its channel, for the meter.
	accountKinds map[string]string
	retries      sync.WaitGroup // asynchronous retries in flight

	mu          sync.Mutex
	invocations []Invocation

	httpInFlight, asyncInFlight atomic.Int64 // see InFlight
}

// Invocation records one function invocation, for /_local/invocations.
type Invocation struct {
	Function   string    `json:"function"`
	Trigger    string    `json:"trigger"` // "http", "bus" (rules and schedules) or "retry N"
	Start      time.Time `json:"start"`
	DurationMs float64   `json:"durationMs"`
	Status     string    `json:"status"` // "ok", "error" (function error) or "failed" (could not run)
	ErrorType  string    `json:"errorType,omitempty"`
	Error      string    `json:"error,omitempty"`
}

const maxInvocations = 200

// New checks the configuration and takes the ports: a bad template, a
// missing accounts file, a port in use or a missing dynalite each give one
// clear error. Nothing is started until Run.
func New(cfg Config) (*Stack, error) {
	if cfg.Root == "" {
		return nil, errors.New("local: Config.Root is required")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("local: root: %w", err)
	}
	cfg.Root = root
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&cfg.Template, filepath.Join(root, "template.yaml"))
	def(&cfg.Accounts, filepath.Join(root, "infra", "local", "accounts.json"))
	def(&cfg.Addr, DefaultAddr)
	def(&cfg.BusAddr, DefaultBusAddr)
	def(&cfg.DynamoAddr, DefaultDynamoAddr)
	def(&cfg.DataDir, filepath.Join(root, ".local", "dynalite"))
	def(&cfg.BinDir, filepath.Join(root, ".local", "bin"))
	def(&cfg.StateFile, filepath.Join(root, ".local", "stack.json"))
	if cfg.Package == nil {
		cfg.Package = FunctionPackage
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClockSpeed == 0 {
		cfg.ClockSpeed = 1
	}
	if cfg.ClockSpeed < 0 {
		return nil, fmt.Errorf("clock speed %v: want a positive number", cfg.ClockSpeed)
	}

	if err := sam.Validate(cfg.Template); err != nil {
		return nil, err
	}
	tpl, err := sam.Load(cfg.Template)
	if err != nil {
		return nil, err
	}
	if len(tpl.Tables) == 0 {
		return nil, fmt.Errorf("template %s declares no DynamoDB table", cfg.Template)
	}
	if cfg.Accounts, err = filepath.Abs(cfg.Accounts); err != nil {
		return nil, fmt.Errorf("accounts file: %w", err)
	}
	dir, err := accounts.LoadFile(cfg.Accounts)
	if err != nil {
		return nil, err
	}
	all, err := dir.All(context.Background())
	if err != nil {
		return nil, err
	}
	accountKinds := map[string]string{}
	for _, a := range all {
		accountKinds[a.ID] = string(a.Kind)
	}
	if cfg.DynamoEndpoint == "" {
		if err := dynalite.Installed(root); err != nil {
			return nil, err
		}
	}

	s := &Stack{cfg: cfg, log: cfg.Logger, tpl: tpl, ready: make(chan struct{}),
		pools: map[string]*runner.Pool{}, missing: map[string]string{}, accountKinds: accountKinds}
	e := Endpoints{Accounts: cfg.Accounts, TableName: "qunyun-" + Stage, EventBusName: "qunyun-" + Stage, Region: Region, Stage: Stage}
	s.clk = &stackClock{c: clock.Real{}} // wallclock: the stack's clock, when none is configured
	if cfg.ClockFile != "" {
		s.clockStart = cmpTime(cfg.ClockStart, time.Now()) // wallclock: the stack's clock starts now unless configured
		if s.stepped, err = clock.NewStepped(cfg.ClockFile, s.clockStart); err != nil {
			return nil, err
		}
		s.clk = &stackClock{c: s.stepped}
	} else if cfg.ClockSpeed != 1 || !cfg.ClockStart.IsZero() {
		s.clockStart = cfg.ClockStart
		if s.clockStart.IsZero() {
			s.clockStart = time.Now() // wallclock: the stack's clock starts now unless configured
		}
		// The clock stands at its start until the stack is up (see Run),
		// so a schedule due at the very start time still fires.
		s.clk = &stackClock{c: clock.NewManual(s.clockStart)}
	}

	if cfg.DynamoEndpoint != "" {
		e.DynamoDB = cfg.DynamoEndpoint
	} else {
		addr, err := freeAddr(cfg.DynamoAddr)
		if err != nil {
			return nil, fmt.Errorf("DynamoDB address %s: %w (set QUNYUN_DYNAMODB_ADDR or --dynamodb-addr)", cfg.DynamoAddr, err)
		}
		e.DynamoDB = "http://" + addr
	}
	if s.gwListener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("gateway address %s: %w (set QUNYUN_ADDR or --addr)", cfg.Addr, unwrapListen(err))
	}
	if s.busListener, err = net.Listen("tcp", cfg.BusAddr); err != nil {
		s.gwListener.Close()
		return nil, fmt.Errorf("event bus address %s: %w (set QUNYUN_BUS_ADDR or --bus-addr)", cfg.BusAddr, unwrapListen(err))
	}
	e.Gateway = "http://" + s.gwListener.Addr().String()
	e.EventBus = "http://" + s.busListener.Addr().String()
	e.SandboxOA = e.Gateway + "/_sandbox/oa"
	e.SandboxWeCom = e.Gateway + "/_sandbox/wecom"
	s.endpoints = e

	s.sandbox = sandbox.New(s.clk)
	rules, schedules, routes, err := triggers(tpl, e)
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	busCfg := eventbus.Config{
		Invoker: busInvoker{s}, Clock: s.clk, Rules: rules, Schedules: schedules,
		Account: AccountID, Region: Region, Poll: cfg.Poll, Logger: s.log,
	}
	if s.stepped != nil {
		// One invocation at a time, in a fixed order, with event and
		// execution ids counted rather than random: what the stack does
		// then depends only on what it is given.
		busCfg.Serial, busCfg.NewID = true, countedIDs()
	}
	s.bus, err = eventbus.New(busCfg)
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("template %s: %w", cfg.Template, err)
	}
	// The request time is the stack's clock, the one the functions read.
	s.gateway = &gateway.Gateway{Routes: routes, Invoker: syncInvoker{s}, Now: s.clk.Now, AccountID: AccountID, Logger: s.log}
	return s, nil
}

// triggers reads the functions' events: EventBridge rules, ScheduleV2
// schedules and HttpApi routes.
func triggers(tpl *sam.Template, e Endpoints) ([]eventbus.Rule, []eventbus.Schedule, []gateway.Route, error) {
	var rules []eventbus.Rule
	var schedules []eventbus.Schedule
	var routes []gateway.Route
	resolve := refs(tpl, e)
	for _, fn := range tpl.Functions {
		for _, ev := range fn.Events {
			switch ev.Type {
			case "HttpApi":
				method := ev.Method
				if method == "" {
					method = "ANY"
				}
				routes = append(routes, gateway.Route{Method: method, Path: ev.Path, Function: fn.LogicalID})
			case "ScheduleV2":
				schedules = append(schedules, eventbus.Schedule{
					Name: fn.LogicalID + "-" + ev.Name, Function: fn.LogicalID,
					Expression: ev.ScheduleExpression, Timezone: ev.Timezone, Input: ev.Input,
				})
			case "EventBridgeRule":
				bus, err := ev.EventBusName.Resolve(resolve)
				if err != nil {
					return nil, nil, nil, fmt.Errorf("function %s event %s: EventBusName: %w", fn.LogicalID, ev.Name, err)
				}
				rules = append(rules, eventbus.Rule{Function: fn.LogicalID, EventBusName: bus, Pattern: ev.Pattern})
			}
		}
	}
	return rules, schedules, routes, nil
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

// Endpoints returns where the stack serves. The addresses are set by New;
// the clock values are final once Ready is closed.
func (s *Stack) Endpoints() Endpoints {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpoints
}

// Ready is closed once everything is up: the hook for loading demo data.
func (s *Stack) Ready() <-chan struct{} { return s.ready }

// Sandbox is the WeChat/WeCom API sandbox the functions call.
func (s *Stack) Sandbox() *sandbox.Server { return s.sandbox }

// Bus is the local EventBridge.
func (s *Stack) Bus() *eventbus.Bus { return s.bus }

// Clock is the stack's (possibly fast) clock.
func (s *Stack) Clock() clock.Clock { return s.clk }

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

// InFlight counts the invocations started and not yet finished, waiting
// for a process included, by how they came.
type InFlight struct {
	// HTTP are the gateway's: they run on after their client has given up
	// (see syncInvoker), so only this count tells when every request sent
	// has been dealt with (qunyun load waits for it).
	HTTP int64 `json:"http"`
	// Async are the bus's and the scheduler's, retries included.
	Async int64 `json:"async"`
}

// InFlight returns the invocations in flight now.
func (s *Stack) InFlight() InFlight {
	return InFlight{HTTP: s.httpInFlight.Load(), Async: s.asyncInFlight.Load()}
}

// Invocations returns the most recent invocations, oldest first.
func (s *Stack) Invocations() []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Invocation(nil), s.invocations...)
}

// Run starts everything, serves until ctx is done, then stops everything it
// started (function processes, dynalite) and returns. It returns an error
// when start-up fails or dynalite dies.
func (s *Stack) Run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gw := &http.Server{Handler: s.mux(), ReadHeaderTimeout: 10 * time.Second}
	busSrv := &http.Server{Handler: s.whenReady(s.bus), ReadHeaderTimeout: 10 * time.Second}
	go gw.Serve(s.gwListener)
	go busSrv.Serve(s.busListener)

	var engine *dynalite.Engine
	s.runCtx = ctx
	defer func() {
		cancel() // ends the scheduler loop and pending retries
		shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		gw.Shutdown(shutdownCtx)
		busSrv.Shutdown(shutdownCtx)
		s.bus.Wait()
		s.retries.Wait()
		for _, p := range s.pools {
			p.Close()
		}
		if engine != nil {
			engine.Stop()
		}
		if s.stepped != nil {
			s.stepped.Close()
		}
		// Only our own state: another stack may have written the file since.
		if saved, err := ReadState(s.cfg.StateFile); err == nil && saved.Gateway == s.Endpoints().Gateway {
			os.Remove(s.cfg.StateFile)
		}
		s.log.Info("local stack stopped")
	}()

	// Building is the slow part: it runs while dynalite starts.
	type buildResult struct {
		binaries map[string]string
		err      error
	}
	builds := make(chan buildResult, 1)
	go func() {
		b, err := s.build(ctx)
		builds <- buildResult{b, err}
	}()

	engineDied := make(chan error, 1)
	if s.cfg.DynamoEndpoint == "" {
		engine, err = dynalite.Start(ctx, dynalite.Options{
			Root: s.cfg.Root, Addr: strings.TrimPrefix(s.endpoints.DynamoDB, "http://"),
			DataDir: dataDir(s.cfg.DataDir), Log: &prefixWriter{prefix: "[dynalite] ", out: s.cfg.Log},
		})
		if err != nil {
			return err
		}
		go func() { engineDied <- engine.Wait() }()
	}
	db := dynamodb.New(dynamodb.Options{
		Region: Region, BaseEndpoint: aws.String(s.endpoints.DynamoDB),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	if err := localtable.CreateTable(ctx, db, s.tpl.Tables[0], s.endpoints.TableName); err != nil {
		return fmt.Errorf("create table %s on %s: %w", s.endpoints.TableName, s.endpoints.DynamoDB, err)
	}
	s.log.Info("table ready; TTL and point-in-time recovery skipped (dynalite lacks them)",
		"table", s.endpoints.TableName, "ttlAttribute", s.tpl.Tables[0].TTLAttribute)

	if err := s.startMeter(ctx); err != nil {
		return err
	}
	if err := s.startFaults(ctx); err != nil {
		return err
	}
	built := <-builds
	if built.err != nil {
		return built.err
	}
	binaries := built.binaries
	// A fast clock starts running at its start time when the stack is up,
	// not when the builds began: QUNYUN_CLOCK_START is the time at ready.
	// It stood still until now, so the schedules' first times stay right.
	s.mu.Lock()
	s.clk.set(s.newClock(&s.endpoints))
	s.mu.Unlock()
	if err := s.startPools(binaries); err != nil {
		return err
	}
	if s.stepped == nil {
		go s.bus.Run(ctx)
	}
	if err := s.writeState(); err != nil {
		return err
	}
	s.readyOnce.Do(func() { close(s.ready) })
	s.log.Info("local stack up", "gateway", s.endpoints.Gateway, "dynamodb", s.endpoints.DynamoDB, "bus", s.endpoints.EventBus, "clock", s.clk.Now())

	select {
	case <-ctx.Done():
		return nil
	case err := <-engineDied:
		return fmt.Errorf("dynalite stopped: %v", err)
	}
}

// build builds every function's bootstrap, all in one go build, into
// BinDir/<LogicalId>/bootstrap and returns the binaries by function.
func (s *Stack) build(ctx context.Context) (map[string]string, error) {
	pkgOf := map[string]string{}
	var pkgs []string
	for _, fn := range s.tpl.Functions {
		pkg := s.cfg.Package(fn.LogicalID)
		if files, _ := filepath.Glob(filepath.Join(s.cfg.Root, pkg, "*.go")); len(files) == 0 {
			s.missing[fn.LogicalID] = fmt.Sprintf("function %s has no code yet (%s)", fn.LogicalID, pkg)
			s.log.Warn("function not built: no Go files; its invocations fail", "function", fn.LogicalID, "package", pkg)
			continue
		}
		if !slices.Contains(pkgs, pkg) {
			pkgs = append(pkgs, pkg)
		}
		pkgOf[fn.LogicalID] = pkg
	}
	if len(pkgs) == 0 {
		return nil, nil
	}
	start := time.Now() // wallclock: start-up duration, for the log
	if err := os.MkdirAll(s.cfg.BinDir, 0o755); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	// Into BinDir itself, the same folder every time: go build then relinks
	// only what changed, and `make run` has already built the functions
	// there together with the CLI, so this is a check of a second or less.
	// The lock makes another stack building into the same BinDir wait.
	unlock, err := runner.LockDir(s.cfg.BinDir)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer unlock()
	var built map[string]string
	if s.cfg.Prebuilt {
		built, err = runner.Built(s.cfg.BinDir, pkgs)
	} else {
		built, err = runner.BuildAll(ctx, s.cfg.Root, s.cfg.BinDir, pkgs)
	}
	if err != nil {
		return nil, err
	}
	binaries := map[string]string{}
	for id, pkg := range pkgOf {
		bin := filepath.Join(s.cfg.BinDir, id, "bootstrap")
		if err := installBinary(built[pkg], bin); err != nil {
			return nil, fmt.Errorf("install %s: %w", id, err)
		}
		binaries[id] = bin
	}
	s.log.Info("functions built", "packages", len(pkgs), "seconds", time.Since(start).Round(time.Millisecond).Seconds())
	return binaries, nil
}

// installBinary installs a built binary as a fresh file (not an overwrite),
// so a process still running the old one is not disturbed: a hard link
// where the file system allows (go build replaces its outputs rather than
// rewriting them, so the link keeps this build's bytes), else a copy. The
// session and scoring binaries carry the segmenter's dictionaries (60 MB
// each): linking saves about a second of every start.
func installBinary(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".new"
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(tmp, data, 0o755); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dst)
}

// startPools makes each built function's process pool with its local
// environment.
func (s *Stack) startPools(binaries map[string]string) error {
	for _, fn := range s.tpl.Functions {
		bin, ok := binaries[fn.LogicalID]
		if !ok {
			continue
		}
		e := s.Endpoints()
		e.DynamoDB = s.functionsDynamoDB()
		env, err := FunctionEnv(s.tpl, fn, e)
		if err != nil {
			return err
		}
		s.pools[fn.LogicalID] = runner.NewPool(runner.Function{
			Name: fn.LogicalID, Binary: bin, Env: env, Timeout: time.Duration(fn.Timeout) * time.Second,
			MaxProcs: cmp.Or(s.cfg.MaxProcs, DefaultMaxProcs), Log: s.cfg.Log,
		})
	}
	return nil
}

func (s *Stack) writeState() error {
	if s.cfg.StateFile == "-" {
		return nil
	}
	data, err := json.MarshalIndent(s.Endpoints(), "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.cfg.StateFile), 0o755); err != nil {
		return fmt.Errorf("write stack state: %w", err)
	}
	if err := os.WriteFile(s.cfg.StateFile, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write stack state: %w", err)
	}
	return nil
}

// ReadState reads the Endpoints a running stack wrote.
func ReadState(path string) (Endpoints, error) {
	var e Endpoints
	data, err := os.ReadFile(path)
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("stack state %s: %w", path, err)
	}
	return e, nil
}

func (s *Stack) closeListeners() {
	s.gwListener.Close()
	if s.busListener != nil {
		s.busListener.Close()
	}
}

// mux serves the developer endpoints, the sandbox and the gateway.
func (s *Stack) mux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.ready:
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		default:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		}
	})
	mux.Handle("GET /_local/bus", s.bus.DeliveriesHandler())
	mux.HandleFunc("GET /_local/invocations", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"invocations": s.Invocations()})
	})
	mux.HandleFunc("GET /_local/inflight", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.InFlight())
	})
	mux.HandleFunc("GET /_local/capacity", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Capacity())
	})
	mux.HandleFunc("GET /_local/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"endpoints": s.Endpoints(), "developer": []string{
			"/healthz", "/_local/bus", "/_local/invocations", "/_local/inflight", "/_local/capacity", "/_local/sandbox/calls", "/_local/sandbox/tasks",
			"/_local/sandbox/fail", "/_local/sandbox/confirm", "/_local/sandbox/reset"}})
	})
	mux.Handle("/_local/sandbox/", http.StripPrefix("/_local/sandbox", s.sandbox.Control()))
	mux.Handle("/_sandbox/oa/", http.StripPrefix("/_sandbox/oa", s.sandbox.OA()))
	mux.Handle("/_sandbox/wecom/", http.StripPrefix("/_sandbox/wecom", s.sandbox.WeCom()))
	mux.Handle("/", s.whenReady(s.gateway))
	return mux
}

// whenReady answers 503, as an overloaded AWS endpoint would, until the
// stack is up.
func (s *Stack) whenReady(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.ready:
			h.ServeHTTP(w, r)
		default:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "Service Unavailable"})
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// invoke runs a function and records the invocation. A function error is
// returned as a *runtimeapi.FunctionError.
func (s *Stack) invoke(ctx context.Context, trigger, function string, payload []byte) ([]byte, error) {
	inFlight := &s.asyncInFlight
	if trigger == "http" {
		inFlight = &s.httpInFlight
	}
	inFlight.Add(1)
	defer inFlight.Add(-1)
	rec := Invocation{Function: function, Trigger: trigger, Start: time.Now()} // wallclock: invocation duration, for the log
	pool := s.pools[function]
	var resp []byte
	var err error
	if pool == nil {
		why := s.missing[function]
		if why == "" {
			why = "no function " + function + " in the template"
		}
		err = errors.New(why)
		rec.Status = "failed"
	} else {
		var fnErr error
		ctx, done := s.track(ctx, trigger, function, payload)
		r, fe, ierr := pool.Invoke(ctx, payload)
		done()
		switch {
		case ierr != nil:
			err, rec.Status = ierr, "failed"
		case fe != nil:
			fnErr, rec.Status, rec.ErrorType = fe, "error", fe.ErrorType
		default:
			resp, rec.Status = r, "ok"
		}
		if fnErr != nil {
			err = fnErr
		}
	}
	rec.DurationMs = float64(time.Since(rec.Start).Microseconds()) / 1000
	if err != nil {
		rec.Error = err.Error()
	}
	s.mu.Lock()
	s.invocations = append(s.invocations, rec)
	if over := len(s.invocations) - maxInvocations; over > 0 {
		s.invocations = append([]Invocation(nil), s.invocations[over:]...)
	}
	s.mu.Unlock()
	return resp, err
}

// syncInvoker is the gateway's view of the stack: a RequestResponse invoke.
type syncInvoker struct{ s *Stack }

func (i syncInvoker) InvokeSync(ctx context.Context, function string, payload []byte) ([]byte, error) {
	// A client that hangs up does not stop the function in Lambda, and
	// killing it mid-write here would invent failures AWS never has.
	return i.s.invoke(context.WithoutCancel(ctx), "http", function, payload)
}

// busInvoker is EventBridge's and Scheduler's view: an asynchronous invoke
// whose result only matters as success or failure.
type busInvoker struct{ s *Stack }

func (i busInvoker) Invoke(ctx context.Context, function string, payload []byte) error {
	_, err := i.s.invoke(ctx, "bus", function, payload)
	var fe *runtimeapi.FunctionError
	if errors.As(err, &fe) {
		i.s.retryLater(function, payload)
	}
	return err
}

// asyncRetryDelays are Lambda's retries of a failed asynchronous
// invocation (rules and Scheduler invoke functions asynchronously; the
// template sets no EventInvokeConfig, so Lambda's defaults apply): two,
// about one and then two minutes apart, on the stack's clock. Locally they
// exercise the functions' idempotency as AWS would.
var asyncRetryDelays = []time.Duration{time.Minute, 2 * time.Minute}

// retryLater retries a failed asynchronous invocation in the background
// until it succeeds or the retries run out, then logs what AWS would send
// to the dead-letter queue.
func (s *Stack) retryLater(function string, payload []byte) {
	s.retries.Add(1)
	go func() {
		defer s.retries.Done()
		for n, d := range asyncRetryDelays {
			if err := s.sleep(s.runCtx, d); err != nil {
				return
			}
			_, err := s.invoke(s.runCtx, fmt.Sprintf("retry %d", n+1), function, payload)
			var fe *runtimeapi.FunctionError
			if !errors.As(err, &fe) {
				return
			}
		}
		s.log.Error("async invocation failed after Lambda's retries; in AWS it goes to the dead-letter queue",
			"function", function, "payload", string(payload))
	}()
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

// freeAddr checks that addr can be listened on and returns it, with a free
// port chosen when its port is 0.
func freeAddr(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", unwrapListen(err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// unwrapListen shortens "listen tcp 127.0.0.1:3000: bind: address already
// in use" to its cause.
func unwrapListen(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		msg := op.Err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return errors.New(msg)
	}
	return err
}

// FunctionNames lists the template's functions, sorted.
func FunctionNames(tpl *sam.Template) []string {
	var out []string
	for _, f := range tpl.Functions {
		out = append(out, f.LogicalID)
	}
	sort.Strings(out)
	return out
}
