// Package runtimetest runs the functions' real bootstrap binaries the way
// Lambda runs them: one process started with AWS_LAMBDA_RUNTIME_API pointing
// at a Runtime API server (internal/local/runtimeapi) and the environment
// the local stack gives it (internal/local FunctionEnv). Unlike the local
// stack's process pool it keeps the process in view, so a test can see it
// exit. Tests use it to prove that a binary starts, reads its configuration,
// answers an event and reports a configuration failure to the init-error
// endpoint (issue 2 §5). Stack is what such a binary talks to (a fresh
// table, the bus endpoint, the API sandbox), for these tests and for the
// replay of every sample through `qunyun invoke` (cmd/qunyun).
//
// It is for tests only: it starts processes, and must
// never be imported by a function or the local stack.
package runtimetest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/local/runtimeapi"
	"github.com/qunyun/qunyun/internal/local/sandbox"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/sam"
	"github.com/qunyun/qunyun/internal/syncbuf"
)

// Runtime is one bootstrap process serving one execution environment.
type Runtime struct {
	Server *runtimeapi.Server
	exited chan struct{}
	err    error // the process's exit error, valid once exited is closed
	output *syncbuf.Buffer
	cmd    *exec.Cmd
}

// Start runs bin with exactly env, KEY=VALUE (nothing inherited from the
// test process, as in Lambda), plus AWS_LAMBDA_RUNTIME_API for a fresh
// Runtime API server.
func Start(bin string, f sam.Function, env []string) (*Runtime, error) {
	srv := runtimeapi.New(runtimeapi.Config{FunctionName: f.LogicalID, Timeout: time.Duration(f.Timeout) * time.Second})
	addr, err := srv.Start()
	if err != nil {
		return nil, err
	}
	r := &Runtime{Server: srv, exited: make(chan struct{}), output: &syncbuf.Buffer{}}
	r.cmd = exec.Command(bin)
	r.cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+addr)
	r.cmd.Dir = filepath.Dir(bin)
	r.cmd.Stdout, r.cmd.Stderr = r.output, r.output
	if err := r.cmd.Start(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		srv.Fail(fmt.Errorf("%s exited: %v", f.LogicalID, r.err))
		close(r.exited)
	}()
	return r, nil
}

// Invoke sends one event and waits for the answer (see runtimeapi.Server.Invoke).
func (r *Runtime) Invoke(ctx context.Context, event []byte) ([]byte, *runtimeapi.FunctionError, error) {
	return r.Server.Invoke(ctx, event)
}

// Exited waits up to d for the process to end and returns its exit error
// (nil for status 0); ok is false if it is still running.
func (r *Runtime) Exited(d time.Duration) (exitErr error, ok bool) {
	select {
	case <-r.exited:
		return r.err, true
	case <-time.After(d):
		return nil, false
	}
}

// Output returns what the process wrote to stdout and stderr so far.
func (r *Runtime) Output() string { return strings.TrimSpace(r.output.String()) }

// Stop kills the process if it still runs and closes the server.
func (r *Runtime) Stop() {
	select {
	case <-r.exited:
	default:
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.Server.Close()
}

// Stack is the local stand-in for what a deployed function talks to:
// dynalite with a fresh table, the local EventBridge endpoint (recording
// what its rules would deliver), the WeChat/WeCom API sandbox and a relay
// bridge, described as the local stack describes itself. No scheduler
// runs: a test invokes.
type Stack struct {
	Endpoints local.Endpoints
	Table     *dynamo.Table
	Published *Published
	Sandbox   *sandbox.Server
	// Bridge takes the relay accounts' posts. It checks their timestamps on
	// real time: a test whose function runs on a sample's clock sets Now
	// to that clock before it invokes.
	Bridge *bridge.Server
}

// Published records what the local bus would have delivered, as
// "<function> <payload>".
type Published struct {
	mu    sync.Mutex
	calls []string
}

func (p *Published) Invoke(_ context.Context, function string, payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, function+" "+string(payload))
	return nil
}

// NewStack starts a Stack for the template of the module at root, with the
// demo accounts the samples are signed for.
func NewStack(tb testing.TB, root string, tpl *sam.Template) *Stack {
	tb.Helper()
	table := dynamotest.NewTable(tb, clock.Real{}) // wallclock: the built functions run on real time unless a sample sets QUNYUN_CLOCK_START
	stage := tpl.Parameters["Stage"].Default
	busName := "qunyun-" + stage
	pub := &Published{}
	var rules []eventbus.Rule
	for _, f := range tpl.Functions {
		for _, ev := range f.Events {
			if ev.Type == "EventBridgeRule" {
				rules = append(rules, eventbus.Rule{Function: f.LogicalID, EventBusName: busName, Pattern: ev.Pattern})
			}
		}
	}
	bus, err := eventbus.New(eventbus.Config{Invoker: pub, Clock: clock.Real{}, Rules: rules}) // wallclock: the built functions run on real time
	if err != nil {
		tb.Fatal(err)
	}
	busSrv := httptest.NewServer(bus)
	tb.Cleanup(func() { bus.Wait(); busSrv.Close() })
	sb := sandbox.New(clock.Real{}) // wallclock: the built functions run on real time
	oa, wecom := httptest.NewServer(sb.OA()), httptest.NewServer(sb.WeCom())
	tb.Cleanup(oa.Close)
	tb.Cleanup(wecom.Close)
	br := &bridge.Server{Now: clock.Real{}.Now} // wallclock: the built functions run on real time unless a sample sets QUNYUN_CLOCK_START
	brSrv := httptest.NewServer(http.StripPrefix(local.BridgePath, br))
	tb.Cleanup(brSrv.Close)
	accounts := relayAccounts(tb, filepath.Join(root, "infra/local/accounts.json"), brSrv.URL+local.BridgePath, br)
	return &Stack{
		Endpoints: local.Endpoints{
			Gateway:      "http://127.0.0.1:3000",
			DynamoDB:     dynamotest.Endpoint(tb),
			EventBus:     busSrv.URL,
			SandboxOA:    oa.URL,
			SandboxWeCom: wecom.URL,
			Accounts:     accounts, // the demo accounts the samples are signed for
			TableName:    table.Name,
			EventBusName: busName,
			Region:       "us-east-1",
			Stage:        stage,
		},
		Table:     table,
		Published: pub,
		Sandbox:   sb,
		Bridge:    br,
	}
}

// relayAccounts copies the accounts file into a temporary folder with the
// relay accounts' webhooks pointed at the test's bridge (base/relay/<id>),
// whose keys it sets; the rest is as the samples were signed for.
func relayAccounts(tb testing.TB, path, base string, br *bridge.Server) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var list []qunyun.Account
	if err := json.Unmarshal(data, &list); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	br.Keys = map[string][]byte{}
	for i, a := range list {
		if a.Kind == qunyun.ChannelRelay {
			list[i].Webhook = base + "/relay/" + a.ID
			br.Keys[a.ID] = []byte(a.HMACKey)
		}
	}
	out, err := json.Marshal(list)
	if err != nil {
		tb.Fatal(err)
	}
	copied := filepath.Join(tb.TempDir(), "accounts.json")
	if err := os.WriteFile(copied, out, 0o600); err != nil {
		tb.Fatal(err)
	}
	return copied
}

// Env is f's complete process environment on the stack, as the local stack
// builds it, with the clock starting at clockStart ("" for real time).
func (s *Stack) Env(tb testing.TB, tpl *sam.Template, f sam.Function, clockStart string) []string {
	tb.Helper()
	e := s.Endpoints
	e.ClockStart = clockStart
	env, err := local.FunctionEnv(tpl, f, e)
	if err != nil {
		tb.Fatal(err)
	}
	return env
}
