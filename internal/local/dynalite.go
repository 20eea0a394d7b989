package local

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// dynalite is the running local DynamoDB engine.
type dynalite struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func dynaliteCLI(root string) string {
	return filepath.Join(root, "infra", "node_modules", "dynalite", "cli.js")
}

// startDynalite runs dynalite on addr with its data in dataDir ("-": in
// memory) and waits until it answers.
func startDynalite(ctx context.Context, root, addr, dataDir string, log io.Writer) (*dynalite, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	args := []string{dynaliteCLI(root), "--host", host, "--port", port,
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if dataDir != "-" {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("dynalite data dir: %w", err)
		}
		args = append(args, "--path", dataDir)
	}
	cmd := exec.Command("node", args...)
	out := &prefixWriter{prefix: "[dynalite] ", out: log}
	cmd.Stdout, cmd.Stderr = out, out
	killWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite (is node installed?): %w", err)
	}
	d := &dynalite{cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	deadline := time.Now().Add(30 * time.Second) // wallclock: start-up timeout
	for {
		resp, err := http.Get("http://" + addr)
		if err == nil {
			resp.Body.Close()
			return d, nil
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("dynalite exited at start: %v", d.err)
		case <-ctx.Done():
			d.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) { // wallclock: start-up timeout
			d.stop()
			return nil, fmt.Errorf("dynalite not answering on %s after 30 s", addr)
		}
	}
}

func (d *dynalite) wait() error {
	<-d.done
	return d.err
}

func (d *dynalite) stop() {
	d.cmd.Process.Kill()
	<-d.done
}

// prefixWriter prefixes each write (dynalite writes whole lines) with the
// engine's name.
type prefixWriter struct {
	prefix string
	out    io.Writer
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	io.WriteString(w.out, w.prefix)
	return w.out.Write(b)
}
