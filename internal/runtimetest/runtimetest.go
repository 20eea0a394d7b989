// Package runtimetest runs the functions' real bootstrap binaries the way
// Lambda runs them: a process started with AWS_LAMBDA_RUNTIME_API pointing at
// a Runtime API server (internal/local/runtimeapi), the template's
// environment, and local endpoints for DynamoDB, EventBridge and the WeChat
// APIs. Tests use it to prove that a binary starts, reads its configuration,
// answers an event and reports a configuration failure to the init-error
// endpoint (issue 2 §5).
//
// It is for tests only: it builds binaries and starts processes, and must
// never be imported by a function or the local stack.
package runtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/local/runtimeapi"
	"github.com/qunyun/qunyun/internal/sam"
)

// Build compiles the Go package pkg (e.g. ./functions/push, relative to
// root, the module root) for this machine into dir/bootstrap, with the
// Lambda build tag, and returns the binary's path.
func Build(ctx context.Context, root, pkg, dir string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// Resources names what the template's !Ref, !GetAtt and ${...} point at in
// a local run: parameter defaults are used for parameters not listed here.
type Resources map[string]string

// Environment resolves f's template environment (Globals merged) the way
// the deployed stack would, with resources standing in for the AWS ones.
// overrides then replaces values, but only of variables the template
// declares, as `sam local invoke --env-vars` does: an override of an
// undeclared variable is an error, because in AWS it would not exist.
func Environment(tpl *sam.Template, f sam.Function, resources Resources, overrides map[string]string) (map[string]string, error) {
	refs := func(name string) (string, bool) {
		if v, ok := resources[name]; ok {
			return v, true
		}
		if p, ok := tpl.Parameters[name]; ok {
			return p.Default, true
		}
		return "", false
	}
	env := map[string]string{}
	for name, v := range f.Environment {
		s, err := v.Resolve(refs)
		if err != nil {
			return nil, fmt.Errorf("%s environment %s: %w", f.LogicalID, name, err)
		}
		env[name] = s
	}
	for name, v := range overrides {
		if _, declared := env[name]; !declared {
			return nil, fmt.Errorf("%s: override %s is not declared in template.yaml", f.LogicalID, name)
		}
		env[name] = v
	}
	return env, nil
}

// LambdaEnvironment is what the Lambda service adds to a function's own
// variables: the Runtime API address, the function's identity, log settings,
// the region and (locally) static credentials and endpoints.
func LambdaEnvironment(f sam.Function, runtimeAPI string, endpoints map[string]string) map[string]string {
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": fmt.Sprint(f.MemorySize),
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "INFO",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"_HANDLER":                        f.Handler,
		"TZ":                              ":UTC",
	}
	maps.Copy(env, endpoints)
	return env
}

// Runtime is one bootstrap process serving one execution environment.
type Runtime struct {
	Server *runtimeapi.Server
	exited chan struct{}
	err    error // the process's exit error, valid once exited is closed
	output *syncBuffer
	cmd    *exec.Cmd
}

// Start runs bin with exactly env (nothing inherited from the test process,
// as in Lambda) against a fresh Runtime API server.
func Start(bin string, f sam.Function, env map[string]string, endpoints map[string]string) (*Runtime, error) {
	srv := runtimeapi.New(runtimeapi.Config{FunctionName: f.LogicalID, Timeout: time.Duration(f.Timeout) * time.Second})
	addr, err := srv.Start()
	if err != nil {
		return nil, err
	}
	all := LambdaEnvironment(f, addr, endpoints)
	maps.Copy(all, env)
	r := &Runtime{Server: srv, exited: make(chan struct{}), output: &syncBuffer{}}
	r.cmd = exec.Command(bin)
	r.cmd.Env = flatten(all)
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
func (r *Runtime) Output() string { return r.output.String() }

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

func flatten(env map[string]string) []string {
	keys := slices.Sorted(maps.Keys(env))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// syncBuffer collects a process's output; the process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}

// EventTime is the time a sample event happened: a schedule's scheduledTime,
// an EventBridge event's time, a WeChat callback's timestamp query
// parameter or a relay bridge's timestamp header. Running a function on a
// clock set to it (QUNYUN_CLOCK_START) makes a stored sample current, as
// the callbacks' 5-minute timestamp window and the ticks' catch-up require.
// ok is false for events that carry no time (a tracked-link click).
func EventTime(event []byte) (at time.Time, ok bool) {
	var e struct {
		ScheduledTime  time.Time         `json:"scheduledTime"`
		Time           time.Time         `json:"time"`
		RawQueryString string            `json:"rawQueryString"`
		Headers        map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(event, &e); err != nil {
		return time.Time{}, false
	}
	switch {
	case !e.ScheduledTime.IsZero():
		return e.ScheduledTime, true
	case !e.Time.IsZero():
		return e.Time, true
	}
	unix := func(s string) (time.Time, bool) {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(sec, 0).UTC(), true
	}
	if q, err := url.ParseQuery(e.RawQueryString); err == nil && q.Get("timestamp") != "" {
		return unix(q.Get("timestamp"))
	}
	return unix(e.Headers["x-qunyun-timestamp"]) // wechat.RelayTimestampHeader, lower-cased as API Gateway sends it
}
