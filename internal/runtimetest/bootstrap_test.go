package runtimetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/runner"
	"github.com/qunyun/qunyun/internal/runtimetest"
	"github.com/qunyun/qunyun/internal/sam"
)

const root = "../.."

// firstSample is the event each function answers here: the schedule tick,
// or URL verification for the callback, which need no stored data. Every
// sample, with the answer the README documents, is replayed through
// `qunyun invoke` (cmd/qunyun TestInvokeReplaysEverySample).
var firstSample = map[string]string{
	"CallbackFunction": "callback-verify.json",
	"PushFunction":     "push-tick.json",
	"SessionFunction":  "session-tick.json",
	"ScoringFunction":  "scoring-nightly.json",
}

// responseCheck judges the answer to particular samples beyond "it
// succeeded".
var responseCheck = map[string]func(request, response []byte) error{
	"callback-verify.json": echoesEchostr,
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

// checkAnswers starts the binary and invokes it with event: it must answer
// with a success (and pass check), within the function's timeout, and keep
// running for the next event.
func checkAnswers(bin string, f sam.Function, env []string, event []byte, check func(req, resp []byte) error) error {
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
	case fnErr != nil:
		return fmt.Errorf("the function failed: %v\noutput:\n%s", fnErr, rt.Output())
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
			st := runtimetest.NewStack(t, root, tpl)

			name := firstSample[f.LogicalID]
			t.Run("answers "+name+" and keeps running", func(t *testing.T) {
				event, err := os.ReadFile(filepath.Join(root, "events", name))
				if err != nil {
					t.Fatal(err)
				}
				at, _ := local.EventTime(event)
				if err := checkAnswers(bin, f, st.Env(t, tpl, f, at.Format(time.RFC3339)), event, responseCheck[name]); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("reports missing TABLE_NAME at init", func(t *testing.T) {
				if err := checkConfigFailure(bin, f, st.Env(t, tpl, f, "")); err != nil {
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
	st := runtimetest.NewStack(t, root, tpl)
	env := st.Env(t, tpl, f, "")
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
	}
	for _, tt := range tests {
		if err := tt.check(req, []byte(tt.resp)); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}
