package runner_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/local/runner"
	"github.com/qunyun/qunyun/internal/syncbuf"
)

func buildEcho(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	if err := runner.Build(context.Background(), root, "./internal/local/testdata/echo", out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPool(t *testing.T) {
	log := &syncbuf.Buffer{}
	p := runner.NewPool(runner.Function{
		Name: "EchoFunction", Binary: buildEcho(t), Timeout: 2 * time.Second, MaxProcs: 2, Log: log,
		Env: []string{"AWS_LAMBDA_FUNCTION_NAME=EchoFunction", "GREETING=你好"},
	})
	defer p.Close()
	ctx := context.Background()

	resp, fnErr, err := p.Invoke(ctx, []byte(`{"echo:env":["GREETING","AWS_LAMBDA_RUNTIME_API"]}`))
	if err != nil || fnErr != nil || !strings.Contains(string(resp), `"GREETING":"你好"`) || !strings.Contains(string(resp), `"AWS_LAMBDA_RUNTIME_API":"127.0.0.1:`) {
		t.Fatalf("env: resp=%s fnErr=%v err=%v", resp, fnErr, err)
	}

	_, fnErr, err = p.Invoke(ctx, []byte(`{"echo:sleepMs":4000}`))
	if err != nil || fnErr == nil || fnErr.ErrorType != "Sandbox.Timedout" || fnErr.ErrorMessage != "Task timed out after 2.00 seconds" {
		t.Fatalf("timeout: fnErr=%+v err=%v", fnErr, err)
	}
	_, fnErr, err = p.Invoke(ctx, []byte(`{"echo:exit":4}`))
	if err != nil || fnErr == nil || fnErr.ErrorType != "Runtime.ExitError" || !strings.Contains(fnErr.ErrorMessage, "exit status 4") {
		t.Fatalf("exit: fnErr=%+v err=%v", fnErr, err)
	}
	// A fresh process replaces the killed ones.
	resp, fnErr, err = p.Invoke(ctx, []byte(`{"n":1}`))
	if err != nil || fnErr != nil || string(resp) != `{"n":1}` {
		t.Fatalf("after restarts: resp=%s fnErr=%v err=%v", resp, fnErr, err)
	}

	// Two processes at most: four 300 ms invocations take two rounds.
	start := time.Now() // wallclock: a lower bound: load only lengthens it
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, fnErr, err := p.Invoke(ctx, []byte(`{"echo:sleepMs":300}`)); err != nil || fnErr != nil {
				t.Errorf("concurrent: fnErr=%v err=%v", fnErr, err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Errorf("4 invocations on 2 processes took %v, want two rounds (≥600ms)", d)
	}
	if !strings.Contains(log.String(), "[EchoFunction] echo EchoFunction request ") {
		t.Errorf("log lacks prefixed function output:\n%s", log)
	}

	p.Close()
	if _, _, err := p.Invoke(ctx, []byte(`{}`)); err == nil {
		t.Error("Invoke after Close: no error")
	}
}

func TestBuildError(t *testing.T) {
	root, _ := filepath.Abs("../../..")
	dir := t.TempDir()
	err := runner.Build(context.Background(), root, "./internal/local/testdata/nonexistent", filepath.Join(dir, "bootstrap"))
	if err == nil || !strings.Contains(err.Error(), "build ./internal/local/testdata/nonexistent") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err == nil {
		t.Error("a failed build left a binary")
	}
}

func TestBuiltFindsBinariesWithoutBuilding(t *testing.T) {
	dir := t.TempDir()
	pkgs := []string{"./functions/callback", "./functions/push"}
	if _, err := runner.Built(dir, pkgs); err == nil || !strings.Contains(err.Error(), "./functions/callback is not built") && !strings.Contains(err.Error(), "./functions/push is not built") {
		t.Fatalf("nothing built: err = %v", err)
	}
	for _, name := range []string{"callback", "push"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("binary"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bins, err := runner.Built(dir, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if bins["./functions/push"] != filepath.Join(dir, "push") || len(bins) != 2 {
		t.Errorf("bins = %v", bins)
	}
	if _, err := runner.Built(dir, []string{"./a/push", "./b/push"}); err == nil {
		t.Error("two packages named push: no error")
	}
}

// BenchmarkInvokeWarm is the local stack's overhead per invocation: one
// warm echo process, a small event through the Runtime API and back.
func BenchmarkInvokeWarm(b *testing.B) {
	root, _ := filepath.Abs("../../..")
	bin := filepath.Join(b.TempDir(), "bootstrap")
	if err := runner.Build(context.Background(), root, "./internal/local/testdata/echo", bin); err != nil {
		b.Fatal(err)
	}
	p := runner.NewPool(runner.Function{Name: "EchoFunction", Binary: bin, Timeout: 5 * time.Second, MaxProcs: 1})
	defer p.Close()
	event := []byte(`{"kind":"tick","scheduledTime":"2026-11-22T03:00:00Z"}`)
	if _, _, err := p.Invoke(context.Background(), event); err != nil { // cold start outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, fnErr, err := p.Invoke(context.Background(), event); err != nil || fnErr != nil {
			b.Fatal(err, fnErr)
		}
	}
}

// The functions are built with the compiler and linker flags of the program
// building them, so a CLI built with -gcflags shares its compiled packages
// with them (and binaries built beside it with -ldflags stay up to date).
func TestBuildFlagsFollowTheRunningBinary(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ flags, want string }{
		{"", ""},
		// Only the main package, so the test does not recompile the standard library.
		{"-gcflags=-l", "-gcflags=-l"},
		{"-gcflags=-l -dwarf=false", "-gcflags=-l -dwarf=false"},
		{"-ldflags=-w", "-ldflags=-w"},
	} {
		bin := filepath.Join(t.TempDir(), "gcflags")
		args := []string{"build", "-o", bin}
		if tc.flags != "" {
			args = append(args, tc.flags)
		}
		cmd := exec.Command("go", append(args, "./internal/local/testdata/gcflags")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", tc.flags, err, out)
		}
		out, err := exec.Command(bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := string(out); got != tc.want {
			t.Errorf("built with %q: BuildFlags = %q, want %q", tc.flags, got, tc.want)
		}
	}
}

// Eight invocations at once into a cold pool whose processes take a second
// to start: Lambda would start eight. The pool starts one, then (when it
// is ready) another, and the first serves the rest while the second
// starts.
func TestBurstIntoAColdPoolStartsFewProcesses(t *testing.T) {
	log := &syncbuf.Buffer{}
	p := runner.NewPool(runner.Function{
		Name: "EchoFunction", Binary: buildEcho(t), Timeout: 5 * time.Second, MaxProcs: 8, MaxStarts: 1, Log: log,
		Env: []string{"AWS_LAMBDA_FUNCTION_NAME=EchoFunction", "ECHO_INIT_SLEEP_MS=1000"},
	})
	defer p.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			payload := fmt.Appendf(nil, `{"n":%d}`, i)
			if resp, fnErr, err := p.Invoke(context.Background(), payload); err != nil || fnErr != nil || string(resp) != string(payload) {
				t.Errorf("invocation %d: %s %v %v", i, resp, fnErr, err)
			}
		})
	}
	wg.Wait()
	if n := strings.Count(log.String(), "echo: starting"); n < 1 || n > 3 {
		t.Errorf("%d processes started for a burst of 8, want 1 to 3:\n%s", n, log)
	}
}
