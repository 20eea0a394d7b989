// Package dynamotest gives integration tests a real DynamoDB API: the pinned
// dynalite engine (infra/package.json), started once per test process on a
// free loopback port, and a fresh table per test created from template.yaml.
// Set QUNYUN_TEST_DYNAMODB=http://127.0.0.1:PORT to reuse a running engine.
//
// It is for tests only; it must never be imported by a function.
package dynamotest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/sam"
)

var (
	once     sync.Once
	endpoint string
	startErr error
)

// Endpoint returns the URL of the shared engine, starting it if needed.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		if e := os.Getenv("QUNYUN_TEST_DYNAMODB"); e != "" {
			endpoint = e
			return
		}
		endpoint, startErr = start()
	})
	if startErr != nil {
		tb.Fatalf("dynamotest: %v", startErr)
	}
	return endpoint
}

// Client returns a DynamoDB client for the engine (static local credentials).
func Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return NewClient(Endpoint(tb))
}

// NewClient returns a client for a local endpoint.
func NewClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// NewTable creates a fresh, uniquely named table with the design in
// template.yaml and returns a dynamo.Table for it that tells time by clk,
// the test's own clock: give the same clock to every component the test
// builds, so no result depends on today's date.
func NewTable(tb testing.TB, clk clock.Clock) *dynamo.Table {
	tb.Helper()
	if clk == nil {
		tb.Fatal("dynamotest.NewTable: a clock is required (the test's own, e.g. clock.NewManual)")
	}
	c := Client(tb)
	name := "test-" + randomHex(6)
	if err := CreateFromTemplate(context.Background(), c, name); err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
	return &dynamo.Table{DB: c, Name: name, Now: clk.Now}
}

// CreateFromTemplate creates the template's table under name.
func CreateFromTemplate(ctx context.Context, c *dynamodb.Client, name string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	tpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	if len(tpl.Tables) == 0 {
		return fmt.Errorf("template.yaml declares no table")
	}
	return dynamo.CreateTable(ctx, c, tpl.Tables[0], name)
}

// RepoRoot finds the directory holding go.mod, walking up from the working
// directory (go test runs in the package directory).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func start() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cli := filepath.Join(root, "infra", "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return "", fmt.Errorf("dynalite is not installed: run `make deps` (npm ci in infra/): %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		cmd := exec.Command("node", cli, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		out, err := cmd.StdoutPipe()
		if err != nil {
			return "", err
		}
		cmd.Stderr = os.Stderr
		killWithParent(cmd)
		if err := cmd.Start(); err != nil {
			return "", fmt.Errorf("start dynalite (is node installed?): %w", err)
		}
		// Wait for dynalite's own "listening" line: another process may have
		// taken the free port in between, and its answers must not count.
		if lastErr = waitListening(out, 20*time.Second); lastErr == nil {
			go io.Copy(io.Discard, out)
			return fmt.Sprintf("http://127.0.0.1:%d", port), nil
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	return "", fmt.Errorf("dynalite did not start: %w", lastErr)
}

func waitListening(out io.Reader, limit time.Duration) error {
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening at") {
				ready <- nil
				return
			}
		}
		ready <- fmt.Errorf("dynalite exited before listening (port taken?)")
	}()
	select {
	case err := <-ready:
		return err
	case <-time.After(limit):
		return fmt.Errorf("dynalite not listening after %v", limit)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
