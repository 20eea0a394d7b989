package session_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/fuzzseed"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

// FuzzInvoke feeds the session function's Lambda input, the tick, a bus
// event or the host's page request, seeded with events/session-*.json, to
// Invoke on an empty table that takes no write. The page never writes and
// answers 404 (no session has a page key here); input refused as invalid
// tried no write; any other failure is a table failure, never a panic.
func FuzzInvoke(f *testing.F) {
	fuzzseed.Events(f, "../../events/session-*.json")
	f.Add([]byte(`{"kind":"nightly"}`))
	f.Add([]byte(`{"detail-type":"DeliveryFinished","detail":{"id":"session/s1/recap-dm/u1","source":"session","state":"failed"}}`))
	f.Add([]byte(`{"routeKey":"GET /sessions/{id}","requestContext":{"http":{"method":"GET"}},"pathParameters":{"id":"s.ABCDEFGHIJKLMNOPQRSTUVWXYZ"}}`))

	clk := clock.NewManual(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	table, db := dynamotest.NewEmptyTable(clk)
	svc := &session.Service{Sessions: dynamo.Sessions{Table: table}, Catalog: dynamo.Catalog{Table: table}, Bus: nopBus{}, Clock: clk, PublicBaseURL: "https://cb.example.test",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := db.Writes()
		out, err := svc.Invoke(context.Background(), raw)
		if page, ok := out.(events.APIGatewayV2HTTPResponse); ok {
			if db.Writes() != before || page.StatusCode != 404 {
				t.Fatalf("page answered %d after %d writes", page.StatusCode, db.Writes()-before)
			}
		}
		switch qunyun.ErrorCode(err) {
		case "", qunyun.EUNAVAILABLE:
		case qunyun.EINVALID:
			if db.Writes() != before {
				t.Fatalf("refused as invalid after trying %d writes: %v", db.Writes()-before, err)
			}
		default:
			t.Fatalf("neither invalid input nor a table failure: %v", err)
		}
	})
}

type nopBus struct{}

func (nopBus) Publish(context.Context, ...bus.Event) error { return nil }
