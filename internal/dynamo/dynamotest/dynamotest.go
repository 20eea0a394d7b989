// Package dynamotest gives integration tests a real DynamoDB API: the pinned
// dynalite engine, started once per test process on a free loopback port
// through internal/local/dynalite (as the local stack starts it), and a
// fresh table per test created from template.yaml.
// Set QUNYUN_TEST_DYNAMODB=http://127.0.0.1:PORT to reuse a running engine.
//
// It is for tests only; it must never be imported by a function.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/localtable"
	"github.com/qunyun/qunyun/internal/local/dynalite"
	"github.com/qunyun/qunyun/internal/local/host"
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
func NewClient(endpoint string) *dynamodb.Client { return localtable.Client(endpoint) }

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
	root, err := host.FindRoot(".")
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
	return localtable.CreateTable(ctx, c, tpl.Tables[0], name)
}

func start() (string, error) {
	root, err := host.FindRoot(".")
	if err != nil {
		return "", err
	}
	// In memory and on a port the engine picks: nothing to clean up, and no
	// race for a port chosen beforehand. It dies with the test process.
	e, err := dynalite.Start(context.Background(), dynalite.Options{Root: root, Addr: "127.0.0.1:0", Log: os.Stderr})
	if err != nil {
		return "", err
	}
	return e.Endpoint, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
