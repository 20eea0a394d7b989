package scoring_test

import (
	"context"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/fuzzseed"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

// FuzzHandle feeds the scoring function's Lambda input, the hourly
// schedule or a ScoringShardRequested event, seeded with
// events/scoring-*.json, to Handle on an empty table that takes no write.
// Input refused as invalid tried no write; any other failure is a table
// failure, never an unclassified error or a panic.
func FuzzHandle(f *testing.F) {
	fuzzseed.Events(f, "../../events/scoring-*.json")
	f.Add([]byte(`{"kind":"nightly","date":"2026-11-21"}`))
	f.Add([]byte(`{"detail-type":"ScoringShardRequested","detail":{"id":"x","date":"2026-11-21","shard":0,"shards":1,"run":"2026-11-21T18:00:00Z"}}`))

	clk := clock.NewManual(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC))
	table, db := dynamotest.NewEmptyTable(clk)
	scorer, err := scoring.New(nil)
	if err != nil {
		f.Fatal(err)
	}
	h := &scoring.Handler{Night: &scoring.Night{Stores: scoringStores(table), Bus: nopBus{}, Scorer: scorer, Now: clk.Now}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := db.Writes()
		err := h.Handle(context.Background(), raw)
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
