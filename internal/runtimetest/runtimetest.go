// Package runtimetest runs the functions' real bootstrap binaries the way
// Lambda runs them: one process started with AWS_LAMBDA_RUNTIME_API pointing
// at a Runtime API server (internal/local/runtimeapi) and the environment
// the local stack gives it (internal/local FunctionEnv). Unlike the local
// stack's process pool it keeps the process in view, so a test can see it
// exit. Tests use it to prove that a binary starts, reads its configuration,
// answers an event and reports a configuration failure to the init-error
// endpoint (issue 2 §5).
//
// It is for tests only: it starts processes, and must
// never be imported by a function or the local stack.
package runtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
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

// Runtime is one bootstrap process serving one execution environment.
type Runtime struct {
	Server *runtimeapi.Server
	exited chan struct{}
	err    error // the process's exit error, valid once exited is closed
	output *syncBuffer
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
	r := &Runtime{Server: srv, exited: make(chan struct{}), output: &syncBuffer{}}
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
