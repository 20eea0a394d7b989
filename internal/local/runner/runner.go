// Package runner runs a Lambda function's built bootstrap binary the way
// Lambda does: as a process that polls its own Runtime API
// (internal/local/runtimeapi) for one invocation at a time. A Pool keeps a
// few such processes per function, starts them on demand (a cold start),
// reuses them while they are healthy, and kills and replaces one that
// overruns the function's Timeout.
//
// It must not read template.yaml or decide a function's environment: the
// caller passes the complete environment in Function.Env.
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qunyun/qunyun/internal/local/host"
	"github.com/qunyun/qunyun/internal/local/runtimeapi"
)

// Build compiles the Go package pkg (e.g. "./functions/push", relative to
// the module root dir) into out, for this machine's OS and architecture,
// with CGO off and the lambda.norpc tag, as the Makefile builds for Lambda.
func Build(ctx context.Context, dir, pkg, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".build-")
	if err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	defer os.RemoveAll(tmp)
	bins, err := BuildAll(ctx, dir, tmp, []string{pkg})
	if err != nil {
		return err
	}
	if err := os.Rename(bins[pkg], out); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	return nil
}

// BuildAll compiles several main packages in one go build, so their shared
// dependencies compile once, into outDir/<last element of the package>,
// and returns each package's binary. No -trimpath, and the -gcflags and -ldflags
// this program itself was built with (see BuildFlags): the functions then
// reuse from the build cache every package the running CLI already
// compiled, which halves a cold `make run`.
func BuildAll(ctx context.Context, dir, outDir string, pkgs []string) (map[string]string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	bins, err := binaries(outDir, pkgs)
	if err != nil {
		return nil, err
	}
	args := append([]string{"build", "-tags", "lambda.norpc"}, BuildFlags()...)
	args = append(append(args, "-o", outDir+string(filepath.Separator)), pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s: %w\n%s", strings.Join(pkgs, " "), err, bytes.TrimSpace(output.Bytes()))
	}
	return bins, nil
}

// Built returns the binaries of main packages that an earlier go build -o
// outDir/ produced (as BuildAll names them), without building: for a caller
// that built them together with itself. A missing binary is an error.
func Built(outDir string, pkgs []string) (map[string]string, error) {
	bins, err := binaries(outDir, pkgs)
	if err != nil {
		return nil, err
	}
	for pkg, bin := range bins {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%s is not built (%w): build it with `make local-cli`, or start without --prebuilt", pkg, err)
		}
	}
	return bins, nil
}

// binaries names each package's binary in outDir after the package's last
// element, as go build -o outDir/ does.
func binaries(outDir string, pkgs []string) (map[string]string, error) {
	bins := map[string]string{}
	seen := map[string]string{}
	for _, pkg := range pkgs {
		name := filepath.Base(pkg)
		if other, dup := seen[name]; dup && other != pkg {
			return nil, fmt.Errorf("build: packages %s and %s would both build %s", other, pkg, name)
		}
		seen[name] = pkg
		bins[pkg] = filepath.Join(outDir, name)
	}
	return bins, nil
}

// BuildFlags returns the -gcflags and -ldflags the running program was
// built with (from its embedded build information), or none. Compiler flags
// are part of every package's build cache key and linker flags of every
// binary's, so building the functions with the CLI's flags lets them share
// the standard library and the AWS SDK with it, and lets go build find
// binaries that `make run` built beside the CLI up to date. CGO stays off
// for the functions whatever the CLI used, as for Lambda; `make run` builds
// the CLI with CGO off for the same sharing.
func BuildFlags() []string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	var flags []string
	for _, s := range info.Settings {
		if (s.Key == "-gcflags" || s.Key == "-ldflags") && s.Value != "" {
			flags = append(flags, s.Key+"="+s.Value)
		}
	}
	return flags
}

// Function is what a Pool runs.
type Function struct {
	Name     string        // logical id, e.g. "CallbackFunction"
	Binary   string        // path of the built bootstrap
	Env      []string      // the complete process environment, KEY=VALUE
	Timeout  time.Duration // per invocation; 0 means 3 s
	MaxProcs int           // concurrent processes; 0 means 3
	// MaxStarts caps the processes starting (not yet asking for work) at
	// once; 0 means runtime.NumCPU().
	MaxStarts int
	// Log receives the processes' stdout and stderr, each line prefixed
	// with "[Name] ". nil discards them.
	Log io.Writer
}

// Pool runs invocations of one function, at most MaxProcs at a time.
type Pool struct {
	fn     Function
	slots  chan struct{}
	starts chan struct{} // a token per process starting
	// coldTook is how long the last new process took from its start to
	// its first answer: how long an invocation waits for a busy process
	// before it starts one.
	coldTook atomic.Int64

	mu      sync.Mutex
	idle    []*process
	waiting []chan *process // invocations waiting for a process, oldest first
	all     map[*process]bool
	closed  bool
	log     io.Writer
}

// process is one execution environment: a bootstrap process and its
// Runtime API.
type process struct {
	api  *runtimeapi.Server
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	// began is when it started; answered, whether it has answered an
	// invocation (the Pool's user sets it, one invocation at a time).
	began    time.Time
	answered bool
}

// NewPool returns a Pool; it starts no process until the first Invoke.
func NewPool(fn Function) *Pool {
	if fn.Timeout <= 0 {
		fn.Timeout = 3 * time.Second
	}
	if fn.MaxProcs <= 0 {
		fn.MaxProcs = 3
	}
	if fn.MaxStarts <= 0 {
		fn.MaxStarts = runtime.NumCPU()
	}
	log := fn.Log
	if log == nil {
		log = io.Discard
	}
	return &Pool{fn: fn, slots: make(chan struct{}, fn.MaxProcs), starts: make(chan struct{}, fn.MaxStarts),
		all: map[*process]bool{}, log: log}
}

// maxWaitForBusy bounds how long an invocation waits for a busy process
// before it may start one: when DynamoDB is slow or failing, a new
// process's first answer can take seconds, most of which a busy process
// would take too.
const maxWaitForBusy = 50 * time.Millisecond

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("runner: pool closed")

// Invoke runs one invocation and returns the function's response or the
// FunctionError Lambda would report: the function's own error, its init
// error, a timeout (Sandbox.Timedout, after which the process is killed) or
// the process dying (Runtime.ExitError). err is for the rest: the pool
// closed, a process that cannot start, or ctx done.
func (p *Pool) Invoke(ctx context.Context, payload []byte) (response []byte, fnErr *runtimeapi.FunctionError, err error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-p.slots }()

	proc, err := p.take(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The Runtime API enforces the timeout from when the process takes the
	// invocation, so a cold start's init is not counted, as in Lambda.
	response, fnErr, err = proc.api.Invoke(ctx, payload)
	switch {
	case err == nil && proc.api.InitError() == nil:
		if !proc.answered {
			proc.answered = true
			p.coldTook.Store(int64(time.Since(proc.began)))
		}
		p.put(proc)
		return response, fnErr, nil
	case err == nil: // an init error: the process exits by itself
		p.discard(proc)
		return nil, fnErr, nil
	case ctx.Err() != nil: // the caller gave up; the process may be mid-work
		p.discard(proc)
		return nil, nil, ctx.Err()
	case errors.Is(err, runtimeapi.ErrInitTimeout):
		p.discard(proc)
		return nil, &runtimeapi.FunctionError{ErrorType: "Runtime.InitTimeout", ErrorMessage: err.Error()}, nil
	case errors.Is(err, context.DeadlineExceeded):
		p.discard(proc)
		return nil, &runtimeapi.FunctionError{
			ErrorType:    "Sandbox.Timedout",
			ErrorMessage: fmt.Sprintf("Task timed out after %.2f seconds", p.fn.Timeout.Seconds()),
		}, nil
	default: // the process died during the invocation
		p.discard(proc)
		return nil, &runtimeapi.FunctionError{ErrorType: "Runtime.ExitError", ErrorMessage: err.Error()}, nil
	}
}

// take returns an idle live process, or waits for the first of: a busy
// process finishing, or (once it has waited as long as the last new
// process took to its first answer, at most maxWaitForBusy) a free start.
func (p *Pool) take(ctx context.Context) (*process, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if proc := p.popIdle(); proc != nil {
		p.mu.Unlock()
		return proc, nil
	}
	w := make(chan *process, 1)
	p.waiting = append(p.waiting, w)
	p.mu.Unlock()
	waited := time.NewTimer(min(time.Duration(p.coldTook.Load()), maxWaitForBusy))
	defer waited.Stop()
	var starts chan struct{} // nil, so never ready, until waited fires
	for {
		select {
		case proc := <-w:
			return proc, nil
		case <-waited.C:
			starts = p.starts
		case starts <- struct{}{}:
			proc, closed := p.stopWaiting(w)
			if proc == nil && !closed {
				return p.start()
			}
			<-p.starts
			if closed {
				return nil, ErrClosed
			}
			return proc, nil
		case <-ctx.Done():
			if proc, _ := p.stopWaiting(w); proc != nil {
				p.put(proc)
			}
			return nil, ctx.Err()
		}
	}
}

// popIdle takes a live idle process, or returns nil; p.mu is held.
func (p *Pool) popIdle() *process {
	for len(p.idle) > 0 {
		proc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		select {
		case <-proc.done: // died while idle
			delete(p.all, proc)
			continue
		default:
		}
		return proc
	}
	return nil
}

// stopWaiting takes w off the waiting list, and returns the process put
// handed it meanwhile, if any, and whether the pool is closed.
func (p *Pool) stopWaiting(w chan *process) (*process, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting = slices.DeleteFunc(p.waiting, func(x chan *process) bool { return x == w })
	select {
	case proc := <-w:
		return proc, p.closed
	default:
		return nil, p.closed
	}
}

// put hands proc to the invocation that has waited longest, or keeps it
// idle.
func (p *Pool) put(proc *process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		go p.stop(proc)
		return
	}
	if len(p.waiting) > 0 {
		w := p.waiting[0]
		p.waiting = p.waiting[1:]
		w <- proc
		return
	}
	p.idle = append(p.idle, proc)
}

func (p *Pool) discard(proc *process) {
	p.mu.Lock()
	delete(p.all, proc)
	p.mu.Unlock()
	p.stop(proc)
}

func (p *Pool) stop(proc *process) {
	proc.cmd.Process.Kill()
	<-proc.done
	proc.api.Close()
}

// start starts a process; the caller holds a start token, which start
// gives back once the process asks for work, fails or is gone.
func (p *Pool) start() (*process, error) {
	api := runtimeapi.New(runtimeapi.Config{FunctionName: p.fn.Name, Timeout: p.fn.Timeout})
	addr, err := api.Start()
	if err != nil {
		<-p.starts
		return nil, err
	}
	cmd := exec.Command(p.fn.Binary)
	cmd.Env = append(append([]string(nil), p.fn.Env...), "AWS_LAMBDA_RUNTIME_API="+addr)
	cmd.Dir = filepath.Dir(p.fn.Binary) // Lambda runs bootstrap from its task root
	out := &lineWriter{prefix: "[" + p.fn.Name + "] ", out: p.log}
	cmd.Stdout, cmd.Stderr = out, out
	host.KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		api.Close()
		<-p.starts
		return nil, fmt.Errorf("runner: start %s (%s): %w", p.fn.Name, p.fn.Binary, err)
	}
	proc := &process{api: api, cmd: cmd, done: make(chan struct{}), began: time.Now()} // wallclock: process timing
	go func() {
		select {
		case <-api.Ready():
		case <-proc.done:
		}
		<-p.starts
	}()
	go func() {
		err := cmd.Wait()
		out.flush()
		if err == nil {
			err = errors.New("exit status 0")
		}
		api.Fail(fmt.Errorf("Runtime exited with error: %v", err))
		close(proc.done)
	}()
	p.mu.Lock()
	p.all[proc] = true
	p.mu.Unlock()
	return proc, nil
}

// Close kills every process; Invoke fails afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	procs := make([]*process, 0, len(p.all))
	for proc := range p.all {
		procs = append(procs, proc)
	}
	p.all = map[*process]bool{}
	p.idle = nil
	p.mu.Unlock()
	for _, proc := range procs {
		p.stop(proc)
	}
}

// lineWriter prefixes each complete line; exec calls Write from one
// goroutine at a time when Stdout and Stderr are the same writer.
type lineWriter struct {
	prefix string
	out    io.Writer
	buf    []byte
}

// outMu serialises whole lines from every process onto the shared log.
var outMu sync.Mutex

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(w.buf[:i+1])
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(append(w.buf, '\n'))
		w.buf = nil
	}
}

// emit writes the prefixed line in one Write, so a writer downstream sees
// whole lines (the local stack's console drops metric lines that way).
func (w *lineWriter) emit(line []byte) {
	outMu.Lock()
	defer outMu.Unlock()
	w.out.Write(append([]byte(w.prefix), line...))
}
