// Package local is the local stack behind `make run` and `qunyun local up`:
// it brings the whole system up on a laptop from template.yaml, the single
// source of truth. It starts dynalite and creates the table, builds each
// function's bootstrap for this machine and runs it the way Lambda does
// (internal/local/runner), serves the HttpApi routes as API Gateway would
// (internal/local/gateway), routes events and fires schedules like
// EventBridge (internal/local/eventbus), and mounts the WeChat/WeCom API
// sandbox (internal/local/sandbox), a relay bridge (internal/local/bridge)
// and a few developer endpoints.
//
// The functions run unchanged: only their endpoints and clock differ, passed
// through the environment the template declares. This package must never be
// linked into a function.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/local/capacity"
	"github.com/qunyun/qunyun/internal/local/dynalite"
	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/local/faultproxy"
	"github.com/qunyun/qunyun/internal/local/gateway"
	"github.com/qunyun/qunyun/internal/local/runner"
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
	// WarmEngine has the stack warm up the dynalite it starts before it
	// says it is up (warmEngine): a second or two, so that the first
	// seconds of traffic are not several times slower than the rest.
	WarmEngine bool
	Log        io.Writer    // function output; nil means os.Stderr
	Logger     *slog.Logger // nil means slog.Default()
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
	bridge     *bridge.Server
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

// New checks the configuration and takes the ports: a bad template, a
// missing accounts file, a port in use or a missing dynalite each give one
// clear error. Nothing is started until Run.
func New(cfg Config) (*Stack, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tpl, err := cfg.load()
	if err != nil {
		return nil, err
	}
	s := &Stack{cfg: cfg, log: cfg.Logger, tpl: tpl, ready: make(chan struct{}),
		pools: map[string]*runner.Pool{}, missing: map[string]string{}}
	if err := s.initClock(); err != nil {
		return nil, err
	}
	if err := s.listen(); err != nil {
		return nil, err
	}
	s.sandbox = sandbox.New(s.clk)
	dir, err := accounts.LoadFile(cfg.Accounts) // checked by load
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	s.bridge = newBridge(dir, s.clk)
	all, err := dir.All(context.Background())
	if err != nil {
		s.closeListeners()
		return nil, err
	}
	s.accountKinds = map[string]string{}
	for _, a := range all {
		s.accountKinds[a.ID] = string(a.Kind)
	}
	if err := s.wire(); err != nil {
		s.closeListeners()
		return nil, err
	}
	return s, nil
}

// withDefaults fills in what cfg leaves empty (see Config) and makes Root
// absolute.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Root == "" {
		return cfg, errors.New("local: Config.Root is required")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return cfg, fmt.Errorf("local: root: %w", err)
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
		return cfg, fmt.Errorf("clock speed %v: want a positive number", cfg.ClockSpeed)
	}
	return cfg, nil
}

// load checks the inputs the stack reads before it starts anything: the
// template, the accounts file (made absolute in cfg) and, unless an engine
// is given, dynalite's installation.
func (cfg *Config) load() (*sam.Template, error) {
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
	if _, err := accounts.LoadFile(cfg.Accounts); err != nil {
		return nil, err
	}
	if cfg.DynamoEndpoint == "" {
		if err := dynalite.Installed(cfg.Root); err != nil {
			return nil, err
		}
	}
	return tpl, nil
}

// listen takes the gateway's and the bus's ports, checks DynamoDB's, and
// sets the stack's endpoints.
func (s *Stack) listen() error {
	cfg := s.cfg
	e := Endpoints{Accounts: cfg.Accounts, TableName: "qunyun-" + Stage, EventBusName: "qunyun-" + Stage, Region: Region, Stage: Stage}
	if cfg.DynamoEndpoint != "" {
		e.DynamoDB = cfg.DynamoEndpoint
	} else {
		addr, err := freeAddr(cfg.DynamoAddr)
		if err != nil {
			return fmt.Errorf("DynamoDB address %s: %w (set QUNYUN_DYNAMODB_ADDR or --dynamodb-addr)", cfg.DynamoAddr, err)
		}
		e.DynamoDB = "http://" + addr
	}
	var err error
	if s.gwListener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return fmt.Errorf("gateway address %s: %w (set QUNYUN_ADDR or --addr)", cfg.Addr, unwrapListen(err))
	}
	if s.busListener, err = net.Listen("tcp", cfg.BusAddr); err != nil {
		s.gwListener.Close()
		return fmt.Errorf("event bus address %s: %w (set QUNYUN_BUS_ADDR or --bus-addr)", cfg.BusAddr, unwrapListen(err))
	}
	e.Gateway = "http://" + s.gwListener.Addr().String()
	e.EventBus = "http://" + s.busListener.Addr().String()
	e.SandboxOA = e.Gateway + "/_sandbox/oa"
	e.SandboxWeCom = e.Gateway + "/_sandbox/wecom"
	s.endpoints = e
	return nil
}

// wire makes the event bus and the gateway from the template's triggers,
// both invoking the stack's functions.
func (s *Stack) wire() error {
	rules, schedules, routes, err := triggers(s.tpl, s.endpoints)
	if err != nil {
		return err
	}
	busCfg := eventbus.Config{
		Invoker: busInvoker{s}, Clock: s.clk, Rules: rules, Schedules: schedules,
		Account: AccountID, Region: Region, Poll: s.cfg.Poll, Logger: s.log,
	}
	if s.stepped != nil {
		// One invocation at a time, in a fixed order, with event and
		// execution ids counted rather than random: what the stack does
		// then depends only on what it is given.
		busCfg.Serial, busCfg.NewID = true, countedIDs()
	}
	s.bus, err = eventbus.New(busCfg)
	if err != nil {
		return fmt.Errorf("template %s: %w", s.cfg.Template, err)
	}
	// The request time is the stack's clock, the one the functions read.
	s.gateway = &gateway.Gateway{Routes: routes, Invoker: syncInvoker{s}, Now: s.clk.Now, AccountID: AccountID, Logger: s.log}
	return nil
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
		s.stop(engine, gw, busSrv)
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

	engine, engineDied, err := s.startEngine(ctx)
	if err != nil {
		return err
	}
	if err := s.createTable(ctx); err != nil {
		return err
	}
	warmed := make(chan error, 1)
	if s.cfg.WarmEngine && engine != nil {
		go func() { warmed <- s.warmEngine(ctx) }()
	} else {
		warmed <- nil
	}
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
	if err := <-warmed; err != nil {
		s.log.Warn("dynalite not warmed up: its first seconds will be slow", "err", err)
	}
	// A fast clock starts running at its start time when the stack is up,
	// not when the builds began: QUNYUN_CLOCK_START is the time at ready.
	// It stood still until now, so the schedules' first times stay right.
	s.mu.Lock()
	s.clk.set(s.newClock(&s.endpoints))
	s.mu.Unlock()
	if err := s.startPools(built.binaries); err != nil {
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

// stop stops what Run started, once its context is cancelled: the servers,
// the bus and the retries in flight, the function processes, the engine
// (nil when none was started) and the stepped clock, and removes the
// stack's state file.
func (s *Stack) stop(engine *dynalite.Engine, servers ...*http.Server) {
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	for _, srv := range servers {
		srv.Shutdown(shutdownCtx)
	}
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
}

func (s *Stack) closeListeners() {
	s.gwListener.Close()
	if s.busListener != nil {
		s.busListener.Close()
	}
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
