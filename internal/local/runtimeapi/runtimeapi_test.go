package runtimeapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/local/runtimeapi"
)

var bins = map[string]string{} // test program → built binary

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runtimeapi-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, name := range []string{"echo", "initfail"} {
		out := filepath.Join(dir, name, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, "../testdata/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", name, err, b)
			os.Exit(1)
		}
		bins[name] = out
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run starts a built test program against srv, as Lambda starts bootstrap.
// It returns a channel closed when the process has exited, and its exit.
func run(t *testing.T, srv *runtimeapi.Server, name string) (exited <-chan struct{}, exitErr *error) {
	t.Helper()
	addr, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bins[name])
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + addr, "AWS_LAMBDA_FUNCTION_NAME=" + name, "PATH=" + os.Getenv("PATH")}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var werr error
	go func() {
		werr = cmd.Wait()
		srv.Fail(fmt.Errorf("runtime exited: %v", werr))
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		srv.Close()
	})
	return done, &werr
}

func TestInvokeEchoBinary(t *testing.T) {
	srv := runtimeapi.New(runtimeapi.Config{FunctionName: "echo", Timeout: 10 * time.Second})
	run(t, srv, "echo")
	ctx := context.Background()
	for i, event := range []string{`{"a":1}`, `"text"`, `[1,2,3]`} {
		resp, fnErr, err := srv.Invoke(ctx, []byte(event))
		if err != nil || fnErr != nil {
			t.Fatalf("invoke %d: err=%v fnErr=%v", i, err, fnErr)
		}
		if string(resp) != event {
			t.Errorf("invoke %d: response %s, want %s", i, resp, event)
		}
	}
	_, fnErr, err := srv.Invoke(ctx, []byte(`{"echo:fail":"boom"}`))
	if err != nil || fnErr == nil || fnErr.ErrorMessage != "boom" || fnErr.ErrorType != "errorString" {
		t.Fatalf("failing invoke: err=%v fnErr=%+v, want errorString boom", err, fnErr)
	}
	// The process survives a function error and takes the next invocation.
	resp, fnErr, err := srv.Invoke(ctx, []byte(`{"echo:env":["AWS_LAMBDA_FUNCTION_NAME"]}`))
	if err != nil || fnErr != nil || string(resp) != `{"AWS_LAMBDA_FUNCTION_NAME":"echo"}` {
		t.Fatalf("after a function error: resp=%s err=%v fnErr=%v", resp, err, fnErr)
	}
	if srv.InitError() != nil {
		t.Errorf("InitError = %v, want nil", srv.InitError())
	}
}

func TestInitErrorBinary(t *testing.T) {
	srv := runtimeapi.New(runtimeapi.Config{FunctionName: "initfail"})
	exited, exitErr := run(t, srv, "initfail")
	_, fnErr, err := srv.Invoke(context.Background(), []byte(`{}`))
	if err != nil || fnErr == nil {
		t.Fatalf("err=%v fnErr=%v, want the init error", err, fnErr)
	}
	if fnErr.ErrorType != "Runtime.ConfigError" || !strings.Contains(fnErr.ErrorMessage, "QUNYUN_TEST_SETTING is required") {
		t.Errorf("fnErr = %+v", fnErr)
	}
	if ie := srv.InitError(); ie == nil || ie.ErrorMessage != fnErr.ErrorMessage {
		t.Errorf("InitError = %+v", ie)
	}
	<-exited
	if *exitErr == nil {
		t.Errorf("initfail exited cleanly; want status 1")
	}
}

func TestProcessExitFailsInvocation(t *testing.T) {
	srv := runtimeapi.New(runtimeapi.Config{FunctionName: "echo"})
	run(t, srv, "echo")
	_, fnErr, err := srv.Invoke(context.Background(), []byte(`{"echo:exit":3}`))
	if err == nil || fnErr != nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err=%v fnErr=%v, want the exit as err", err, fnErr)
	}
	if _, _, err := srv.Invoke(context.Background(), []byte(`{}`)); err == nil {
		t.Fatal("invoke after the runtime died: no error")
	}
}

func TestInitTimeout(t *testing.T) {
	srv := runtimeapi.New(runtimeapi.Config{InitTimeout: 100 * time.Millisecond})
	defer srv.Close()
	// Nothing ever asks for work.
	if _, _, err := srv.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, runtimeapi.ErrInitTimeout) {
		t.Fatalf("err = %v, want ErrInitTimeout", err)
	}
}

func TestInvokeTimesOut(t *testing.T) {
	srv := runtimeapi.New(runtimeapi.Config{FunctionName: "echo", Timeout: 200 * time.Millisecond})
	run(t, srv, "echo")
	_, _, err := srv.Invoke(context.Background(), []byte(`{"echo:sleepMs":2000}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
}

// TestProtocol drives the endpoints by hand, checking headers and the
// answers to misuse.
func TestProtocol(t *testing.T) {
	// The caller's 5 s deadline comes before the 10 s timeout: it wins.
	srv := runtimeapi.New(runtimeapi.Config{FunctionName: "F", Region: "ap-east-1", Account: "111122223333", Timeout: 10 * time.Second})
	addr, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + addr + "/2018-06-01/runtime"
	select {
	case <-srv.Ready():
		t.Fatal("Ready before the runtime asked for work")
	default:
	}

	type answer struct {
		resp  []byte
		fnErr *runtimeapi.FunctionError
		err   error
	}
	done := make(chan answer, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		r, f, e := srv.Invoke(ctx, []byte(`{"x":1}`))
		done <- answer{r, f, e}
	}()

	resp, err := http.Get(base + "/invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	deadline, _ := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	want, _ := ctx.Deadline()
	if string(body) != `{"x":1}` || id == "" || deadline != want.UnixMilli() ||
		resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn") != "arn:aws:lambda:ap-east-1:111122223333:function:F" ||
		!strings.HasPrefix(resp.Header.Get("Lambda-Runtime-Trace-Id"), "Root=1-") {
		t.Fatalf("next: body %s headers %v", body, resp.Header)
	}
	select {
	case <-srv.Ready():
	default:
		t.Error("not Ready after the runtime asked for work")
	}

	post := func(path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Custom.Type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/invocation/nope/response", `{}`); code != http.StatusBadRequest {
		t.Errorf("unknown id: %d, want 400", code)
	}
	if code := post("/invocation/"+id+"/error", `not json`); code != http.StatusAccepted {
		t.Errorf("error post: %d, want 202", code)
	}
	a := <-done
	if a.err != nil || a.fnErr == nil || a.fnErr.ErrorMessage != "not json" || a.fnErr.ErrorType != "Custom.Type" {
		t.Fatalf("answer %+v %+v", a, a.fnErr)
	}
	if code := post("/invocation/"+id+"/response", `{}`); code != http.StatusBadRequest {
		t.Errorf("answer after the invocation ended: %d, want 400", code)
	}
	resp, err = http.Get(base + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown route: %d", resp.StatusCode)
	}
}

// The trace id a caller gives an invocation is the one the function sees
// (and its AWS SDK sends with every call); without one, each invocation
// gets a fresh id.
func TestInvokeTraceID(t *testing.T) {
	srv := runtimeapi.New(runtimeapi.Config{FunctionName: "echo", Timeout: 10 * time.Second})
	run(t, srv, "echo")
	event := []byte(`{"echo:env":["_X_AMZN_TRACE_ID"]}`)
	trace := runtimeapi.NewTraceID(time.Unix(1_765_000_000, 0))
	resp, fnErr, err := srv.Invoke(runtimeapi.WithTraceID(context.Background(), trace), event)
	if err != nil || fnErr != nil {
		t.Fatalf("err=%v fnErr=%v", err, fnErr)
	}
	if want := `{"_X_AMZN_TRACE_ID":"` + trace + `"}`; string(resp) != want {
		t.Errorf("the function saw %s, want %s", resp, want)
	}
	if !strings.HasPrefix(trace, "Root=1-6933c340-") {
		t.Errorf("trace %q: want the X-Ray shape with the time in hex", trace)
	}
	seen := map[string]bool{}
	for range 2 {
		resp, _, err := srv.Invoke(context.Background(), event)
		if err != nil || seen[string(resp)] || strings.Contains(string(resp), trace) {
			t.Fatalf("an invocation without a trace id saw %s (%v)", resp, err)
		}
		seen[string(resp)] = true
	}
}
