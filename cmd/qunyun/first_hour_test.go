package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/firsthour"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate"
)

// TestFirstHour runs what infra/local/first-hour.sh checks on make run's
// stack against a local stack on the test's clock: the real functions and
// the demo set up as `local up` sets it up (the community, yesterday
// replayed and scored, the showcase), the demo's opening played on a
// stepped clock to five minutes after start, then each of
// internal/firsthour's checks through the CLI's --json.
func TestFirstHour(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: the whole stack and five demo minutes")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr, err := freeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	acctFile, _, err := simAccounts(filepath.Join(root, "infra", "local", "accounts.json"), dir, addr)
	if err != nil {
		t.Fatal(err)
	}
	// Tuesday 10:00 in Shanghai: outside every demo group's quiet hours.
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, qunyun.LoadLocation(""))
	state := filepath.Join(dir, "stack.json")
	logs := &lockedBuffer{}
	st, err := local.New(local.Config{
		Root: root, Accounts: acctFile, Addr: addr, BusAddr: "127.0.0.1:0", DynamoAddr: "127.0.0.1:0",
		DataDir: "-", BinDir: filepath.Join(dir, "bin"), StateFile: state,
		ClockFile: filepath.Join(dir, "clock"), ClockStart: start, Log: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- st.Run(ctx) }()
	defer func() {
		cancel()
		<-stopped
		if t.Failed() {
			t.Logf("the stack's output:\n%s", logs)
		}
	}()
	select {
	case <-st.Ready():
	case err := <-stopped:
		stopped <- err
		t.Fatalf("the stack did not start: %v", err)
	case <-time.After(5 * time.Minute): // a bound for a broken build only
		t.Fatal("the stack did not start in 5 minutes")
	}

	var out bytes.Buffer
	d, err := setUpDemo(ctx, st, &out, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo:\n%s", out.String())
	sim := d.simulation(st)
	if err := sim.Play(ctx, simulate.Opening(d.world, start), start.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if sent, accepted := sim.Sent(); sent == 0 || accepted != sent {
		t.Errorf("the opening sent %d callbacks, %d accepted", sent, accepted)
	}

	// The commands find the table and the clock as an operator's do on
	// the stack's machine; the bridge through the stack's file.
	e := st.Endpoints()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", e.DynamoDB)
	t.Setenv("TABLE_NAME", e.TableName)
	t.Setenv(clock.EnvStart, st.Clock().Now().Format(time.RFC3339))
	page := filepath.Join(dir, "report.html")
	runner := func(_ context.Context, args ...string) ([]byte, error) {
		switch args[0] {
		case "local":
			args = append(args, "--stack", state)
		case "report":
			args = append(args, "-o", page)
		}
		stdout, stderr, err := run(t, "", args...)
		if err != nil {
			return nil, errors.New(strings.TrimSpace(stderr + " " + err.Error()))
		}
		return []byte(stdout), nil
	}
	for _, r := range firsthour.RunAll(ctx, runner) {
		if !r.OK {
			t.Errorf("%s: %s", r.Name, r.Detail)
			continue
		}
		t.Logf("%s: %s", r.Name, r.Detail)
	}
}

// lockedBuffer collects the stack's output while the functions write it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
