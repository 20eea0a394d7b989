package push_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/fuzzseed"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// FuzzInvoke feeds the push function's Lambda input, the scheduler's tick
// or a bus event, seeded with events/push-*.json, to Invoke on an empty
// table that takes no write. Input it refuses must come back as EINVALID
// having tried no write; anything else it fails must be a table failure
// (EUNAVAILABLE), never an unclassified error or a panic.
func FuzzInvoke(f *testing.F) {
	fuzzseed.Events(f, "../../events/push-*.json")
	f.Add([]byte(`{"kind":"tick","scheduledTime":"2026-11-22T03:00:00Z"}`))
	f.Add([]byte(`{"detail-type":"DeliveryRequested","detail":{"id":"x","source":"s","targetKind":"member","target":"m","content":"c"}}`))
	f.Add([]byte(`{"detail-type":"LinkOpened","detail":{"id":"x"}}`))
	f.Add([]byte(`[]`))

	clk := clock.NewManual(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC))
	table, db := dynamotest.NewEmptyTable(clk)
	dir, err := accounts.NewStatic([]qunyun.Account{wecom, oa})
	if err != nil {
		f.Fatal(err)
	}
	svc := &push.Service{Store: pushStores(table), Accounts: dir, Bus: &recBus{}, Clock: clk, PublicBaseURL: publicBase,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := db.Writes()
		_, err := svc.Invoke(context.Background(), raw)
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
