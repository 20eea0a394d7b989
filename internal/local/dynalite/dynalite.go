// Package dynalite runs the local DynamoDB engine: the pinned dynalite
// (infra/package.json) started through its launcher, infra/dynalite.js,
// which keeps it serving when a client aborts a request. Both the tests
// (internal/dynamo/dynamotest) and the local stack (internal/local) start
// it here, with one readiness check: the launcher's "listening at" line,
// which names the port it actually took, so a process that merely answers
// on the port (another engine, a leftover) is never mistaken for ours.
//
// It also holds the two pieces every local process starter needs and the
// engine needs first: FindRoot (the checkout holding infra/ and
// template.yaml) and KillWithParent (the runner uses it for function
// processes). It must never be linked into a function.
package dynalite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/local/host"
)

// startTimeout bounds how long Start waits for the readiness line: node
// and LevelDB start in well under a second, a cold disk cache in a few.
const startTimeout = 30 * time.Second

// readyMark precedes the engine's URL on the launcher's readiness line.
const readyMark = "listening at: "

// Options say where the engine listens and keeps its data.
type Options struct {
	Root    string    // the checkout: infra/dynalite.js and infra/node_modules
	Addr    string    // host:port; port 0 lets the engine pick a free one
	DataDir string    // LevelDB directory, created if missing; "" keeps the data in memory
	Log     io.Writer // the engine's output, stdout and stderr; nil discards it
}

// Engine is a running engine.
type Engine struct {
	// Endpoint is the engine's URL, http://host:port, with the port it
	// actually listens on.
	Endpoint string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// launcher is the node script that runs the engine.
func launcher(root string) string { return filepath.Join(root, "infra", "dynalite.js") }

// Installed says why the engine cannot start under root, or nil: the
// launcher is part of the checkout, dynalite comes from `make deps`.
func Installed(root string) error {
	pkg := filepath.Join(root, "infra", "node_modules", "dynalite", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		return fmt.Errorf("dynalite is not installed (%s is missing): run `make deps`", pkg)
	}
	if _, err := os.Stat(launcher(root)); err != nil {
		return fmt.Errorf("dynalite launcher missing from the checkout: %w", err)
	}
	return nil
}

// Start runs the engine and returns once it listens. The engine dies with
// this process; Stop ends it sooner.
func Start(ctx context.Context, o Options) (*Engine, error) {
	if err := Installed(o.Root); err != nil {
		return nil, err
	}
	addrHost, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("dynalite address: %w", err)
	}
	args := []string{launcher(o.Root), "--host", addrHost, "--port", port}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("dynalite data dir: %w", err)
		}
		args = append(args, "--path", o.DataDir)
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	cmd := exec.Command("node", args...)
	out, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, log
	host.KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite (is node installed?): %w", err)
	}
	e := &Engine{cmd: cmd, done: make(chan struct{})}
	go func() {
		e.err = cmd.Wait()
		w.Close()
		close(e.done)
	}()
	ready := make(chan string, 1)
	go watch(out, log, ready)

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case url := <-ready:
		e.Endpoint = url
		return e, nil
	case <-e.done:
		return nil, fmt.Errorf("dynalite exited before listening on %s (port taken? its output says): %v", o.Addr, e.err)
	case <-ctx.Done():
		e.Stop()
		return nil, fmt.Errorf("start dynalite: %w", ctx.Err())
	case <-timer.C:
		e.Stop()
		return nil, fmt.Errorf("dynalite not listening on %s after %v", o.Addr, startTimeout)
	}
}

// watch copies the engine's stdout to log line by line and sends the URL of
// the readiness line to ready. It reads to the end: the engine must never
// block on a full pipe.
func watch(out io.Reader, log io.Writer, ready chan<- string) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(log, line)
		if _, url, ok := strings.Cut(line, readyMark); ok {
			select {
			case ready <- strings.TrimSpace(url):
			default:
			}
		}
	}
	io.Copy(log, out) // after an over-long line
}

// Wait returns when the engine exits, with why.
func (e *Engine) Wait() error {
	<-e.done
	return e.err
}

// Stop kills the engine and waits for it to exit.
func (e *Engine) Stop() {
	e.cmd.Process.Kill()
	<-e.done
}
