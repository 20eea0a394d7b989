package runtimetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/local/runner"
	"github.com/qunyun/qunyun/internal/local/runtimeapi"
	"github.com/qunyun/qunyun/internal/local/sandbox"
	"github.com/qunyun/qunyun/internal/runtimetest"
	"github.com/qunyun/qunyun/internal/sam"
)

const root = "../.."

// responseCheck judges the answer to particular samples beyond "it
// succeeded".
var responseCheck = map[string]func(request, response []byte) error{
	"callback-verify.json":    echoesEchostr,
	"callback-oa-verify.json": echoesEchostr,
}

// mustSucceed reports whether a sample needs no stored data to succeed: the
// schedules and WeChat's URL verification. Other samples (a DeliveryRequested
// for a demo group, say) may be refused on an empty table; they must still
// be answered, as a success or a reported function error, never a crash,
// a hang or an exit.
func mustSucceed(name string) bool {
	return strings.HasSuffix(name, "-tick.json") || strings.HasSuffix(name, "-nightly.json") || responseCheck[name] != nil
}

// samples are the events/ files for a function (events/<prefix>-*.json).
func samples(t *testing.T, f sam.Function) []string {
	prefix := strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))
	files, err := filepath.Glob(filepath.Join(root, "events", prefix+"-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// echoesEchostr checks WeChat's URL verification: 200 with the echostr.
func echoesEchostr(request, response []byte) error {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(request, &req); err != nil {
		return err
	}
	resp, err := httpResponse(response)
	if err != nil {
		return err
	}
	want := req.QueryStringParameters["echostr"]
	if resp.StatusCode != 200 || resp.Body != want {
		return fmt.Errorf("response %d %q, want 200 %q", resp.StatusCode, resp.Body, want)
	}
	return nil
}

// httpResponse decodes a function's answer to an HttpApi event.
func httpResponse(response []byte) (events.APIGatewayV2HTTPResponse, error) {
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(response, &resp); err != nil || resp.StatusCode == 0 {
		return resp, fmt.Errorf("response is not an API Gateway v2 response with a status code (%v): %s", err, response)
	}
	return resp, nil
}

// notServerError is the check for every other HTTP sample: the answer
// is an HTTP response, and not a 5xx, which tells WeChat that nothing was
// stored and to retry: on valid input that is a bug even on an empty table.
func notServerError(_, response []byte) error {
	resp, err := httpResponse(response)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("answered %d %q", resp.StatusCode, resp.Body)
	}
	return nil
}

// stack is the local stand-in for what a deployed function talks to:
// dynalite with a fresh table, the local EventBridge endpoint and the
// WeChat/WeCom API sandbox, described as the local stack describes itself.
type stack struct {
	endpoints local.Endpoints
	published *published
}

// published records what the local bus would have delivered.
type published struct {
	mu    sync.Mutex
	calls []string
}

func (p *published) Invoke(_ context.Context, function string, payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, function+" "+string(payload))
	return nil
}

func newStack(t testing.TB, tpl *sam.Template) *stack {
	t.Helper()
	table := dynamotest.NewTable(t, clock.Real{}) // wallclock: the built functions run on real time unless a sample sets QUNYUN_CLOCK_START
	stage := tpl.Parameters["Stage"].Default
	busName := "qunyun-" + stage
	pub := &published{}
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
		t.Fatal(err)
	}
	busSrv := httptest.NewServer(bus)
	t.Cleanup(func() { bus.Wait(); busSrv.Close() })
	sb := sandbox.New(clock.Real{}) // wallclock: the built functions run on real time
	oa, wecom := httptest.NewServer(sb.OA()), httptest.NewServer(sb.WeCom())
	t.Cleanup(oa.Close)
	t.Cleanup(wecom.Close)
	accounts, err := filepath.Abs(filepath.Join(root, "infra/local/accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	return &stack{
		endpoints: local.Endpoints{
			Gateway:      "http://127.0.0.1:3000",
			DynamoDB:     dynamotest.Endpoint(t),
			EventBus:     busSrv.URL,
			SandboxOA:    oa.URL,
			SandboxWeCom: wecom.URL,
			Accounts:     accounts, // the demo accounts the samples are signed for
			TableName:    table.Name,
			EventBusName: busName,
			Region:       "us-east-1",
			Stage:        stage,
		},
		published: pub,
	}
}

// env is f's complete process environment on the stack, as the local stack
// builds it, with the clock starting at clockStart ("" for real time).
func (s *stack) env(t testing.TB, tpl *sam.Template, f sam.Function, clockStart string) []string {
	t.Helper()
	e := s.endpoints
	e.ClockStart = clockStart
	env, err := local.FunctionEnv(tpl, f, e)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// checkAnswers starts the binary and invokes it with event: it must answer
// with a success (and pass check), within the function's timeout.
func checkAnswers(bin string, f sam.Function, env []string, event []byte, check func(req, resp []byte) error) error {
	return answer(bin, f, env, event, check, true, nil)
}

// answer runs one event; with strict false a function error that the
// handler itself returned counts as an answer and is only logged.
func answer(bin string, f sam.Function, env []string, event []byte, check func(req, resp []byte) error, strict bool, logf func(string, ...any)) error {
	rt, err := runtimetest.Start(bin, f, env)
	if err != nil {
		return err
	}
	defer rt.Stop()
	// A cold start plus the function's own timeout; the first call also
	// warms dynalite.
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(f.Timeout)*time.Second+20*time.Second)
	defer cancel()
	resp, fnErr, err := rt.Invoke(ctx, event)
	switch {
	case err != nil:
		return fmt.Errorf("invoke: %w\noutput:\n%s", err, rt.Output())
	case fnErr != nil && (strict || crashed(fnErr)):
		return fmt.Errorf("the function failed: %v\noutput:\n%s", fnErr, rt.Output())
	case fnErr != nil:
		logf("answered with a function error (allowed for this sample on an empty table): %v", fnErr)
		check = nil
	}
	if check != nil {
		if err := check(event, resp); err != nil {
			return fmt.Errorf("%w\noutput:\n%s", err, rt.Output())
		}
	}
	if exitErr, exited := rt.Exited(0); exited {
		return fmt.Errorf("the process ended after answering (%v); Lambda keeps it for the next event", exitErr)
	}
	return nil
}

// checkConfigFailure starts the binary without TABLE_NAME: it must report
// the problem, by name, to the init-error endpoint and exit non-zero
// instead of waiting for events.
func checkConfigFailure(bin string, f sam.Function, env []string) error {
	var broken []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "TABLE_NAME=") {
			kv = "TABLE_NAME=" // declared in the template, so set, but empty
		}
		broken = append(broken, kv)
	}
	rt, err := runtimetest.Start(bin, f, broken)
	if err != nil {
		return err
	}
	defer rt.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, fnErr, err := rt.Invoke(ctx, []byte(`{}`))
	initErr := rt.Server.InitError()
	switch {
	case initErr == nil && fnErr != nil:
		return fmt.Errorf("no init error; the invocation failed instead: %v\noutput:\n%s", fnErr, rt.Output())
	case initErr == nil:
		return fmt.Errorf("no init error reported (invoke: %v)\noutput:\n%s", err, rt.Output())
	case !strings.Contains(initErr.ErrorMessage, "TABLE_NAME"):
		return fmt.Errorf("init error %q does not name TABLE_NAME", initErr.ErrorMessage)
	}
	exitErr, exited := rt.Exited(10 * time.Second)
	if !exited {
		return errors.New("reported the init error but kept running")
	}
	if exitErr == nil {
		return errors.New("reported the init error but exited with status 0")
	}
	return nil
}

func TestBootstraps(t *testing.T) {
	tpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tpl.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			pkg := local.FunctionPackage(f.LogicalID)
			if _, err := os.Stat(filepath.Join(root, pkg, "main.go")); err != nil {
				t.Skipf("%s: %s/main.go does not exist yet", f.LogicalID, pkg)
			}
			t.Parallel()
			bin := filepath.Join(t.TempDir(), "bootstrap")
			if err := runner.Build(context.Background(), root, pkg, bin); err != nil {
				t.Fatal(err)
			}
			st := newStack(t, tpl)

			files := samples(t, f)
			if len(files) == 0 {
				t.Run("answers a sample", func(t *testing.T) {
					t.Skipf("events/ has no %s-*.json sample yet", strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function")))
				})
			}
			for _, file := range files {
				name := filepath.Base(file)
				t.Run("answers "+name, func(t *testing.T) {
					event, err := os.ReadFile(file)
					if err != nil {
						t.Fatal(err)
					}
					var start string
					if at, ok := runtimetest.EventTime(event); ok {
						start = at.Format(time.RFC3339)
					}
					env := st.env(t, tpl, f, start)
					check := responseCheck[name]
					if check == nil && isHTTPEvent(event) {
						check = notServerError
					}
					if err := answer(bin, f, env, event, check, mustSucceed(name), t.Logf); err != nil {
						t.Fatal(err)
					}
				})
			}
			t.Run("reports missing TABLE_NAME at init", func(t *testing.T) {
				if err := checkConfigFailure(bin, f, st.env(t, tpl, f, "")); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestHarnessCatchesMisbehaviour runs the same checks on two broken
// functions from testdata: one that fails every event, one that ignores its
// configuration. Both checks must fail, or TestBootstraps proves nothing.
func TestHarnessCatchesMisbehaviour(t *testing.T) {
	tpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := tpl.Function("PushFunction")
	f.Timeout = 2
	st := newStack(t, tpl)
	env := st.env(t, tpl, f, "")
	event, err := os.ReadFile(filepath.Join(root, "events", "push-tick.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, wantFail := range map[string]string{
		"./internal/runtimetest/testdata/failing":       "answers",
		"./internal/runtimetest/testdata/ignoresconfig": "config",
	} {
		bin := filepath.Join(t.TempDir(), "bootstrap")
		if err := runner.Build(context.Background(), root, name, bin); err != nil {
			t.Fatal(err)
		}
		answerErr := checkAnswers(bin, f, env, event, nil)
		configErr := checkConfigFailure(bin, f, env)
		switch wantFail {
		case "answers":
			if answerErr == nil {
				t.Errorf("%s: a function that fails every event passed checkAnswers", name)
			}
		case "config":
			if answerErr != nil {
				t.Errorf("%s: checkAnswers: %v", name, answerErr)
			}
			if configErr == nil {
				t.Errorf("%s: a function that ignores a missing TABLE_NAME passed checkConfigFailure", name)
			}
		}
		t.Logf("%s: answers: %v; config: %v", name, firstLine(answerErr), firstLine(configErr))
	}
}

// isHTTPEvent reports whether a sample is an API Gateway HTTP API (payload
// 2.0) request, decided per sample: a function with a schedule as well
// (CallbackFunction) has both kinds.
func isHTTPEvent(event []byte) bool {
	var probe struct {
		RouteKey       string `json:"routeKey"`
		RequestContext struct {
			HTTP *struct{} `json:"http"`
		} `json:"requestContext"`
	}
	return json.Unmarshal(event, &probe) == nil && probe.RouteKey != "" && probe.RequestContext.HTTP != nil
}

// crashed tells a panic, which aws-lambda-go reports as an error too, from
// an error the handler returned.
func crashed(fe *runtimeapi.FunctionError) bool {
	return strings.Contains(strings.ToLower(fe.ErrorType), "panic") || strings.HasPrefix(fe.ErrorType, "Runtime.")
}

func firstLine(err error) string {
	if err == nil {
		return "ok"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func TestResponseChecks(t *testing.T) {
	req := []byte(`{"queryStringParameters":{"echostr":"123"}}`)
	tests := []struct {
		name  string
		check func(req, resp []byte) error
		resp  string
		ok    bool
	}{
		{"echo", echoesEchostr, `{"statusCode":200,"body":"123"}`, true},
		{"echo wrong body", echoesEchostr, `{"statusCode":200,"body":"success"}`, false},
		{"echo refused", echoesEchostr, `{"statusCode":401,"body":"123"}`, false},
		{"not HTTP", notServerError, `{"status":"ok"}`, false},
		{"5xx", notServerError, `{"statusCode":503,"body":"retry"}`, false},
		{"4xx is an answer", notServerError, `{"statusCode":404,"body":"unknown link"}`, true},
	}
	for _, tt := range tests {
		if err := tt.check(req, []byte(tt.resp)); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

func TestIsHTTPEvent(t *testing.T) {
	for file, want := range map[string]bool{
		"callback-oa-text.json": true,
		"session-page.json":     true,
		"callback-tick.json":    false,
		"push-tick.json":        false,
	} {
		event, err := os.ReadFile(filepath.Join(root, "events", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := isHTTPEvent(event); got != want {
			t.Errorf("isHTTPEvent(%s) = %v, want %v", file, got, want)
		}
	}
}
