package scoring_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

// TestReportDue: the default zone's nightly run is 02:00 Asia/Shanghai, for
// the date that just ended there; it runs the contests and starts the report.
func TestReportDue(t *testing.T) {
	tests := []struct {
		scheduled, want string
		ok              bool
	}{
		{"2026-11-21T18:00:00Z", "2026-11-21", true}, // 02:00 on the 22nd in Shanghai: the 21st
		{"2026-11-21T18:00:59Z", "2026-11-21", true}, // late by seconds: the same run
		{"2026-11-21T17:00:00Z", "", false},
		{"2026-11-21T19:00:00Z", "", false},
		{"2026-12-31T18:00:00Z", "2026-12-31", true},
	}
	for _, tt := range tests {
		at, err := time.Parse(time.RFC3339, tt.scheduled)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := scoring.ReportDue(at)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ReportDue(%s) = %q, %v; want %q, %v", tt.scheduled, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHandlerRejectsBadInput(t *testing.T) {
	h := &scoring.Handler{Night: &scoring.Night{}}
	for _, in := range []string{
		`[]`,
		`{"kind":"tick","scheduledTime":"2026-11-21T18:00:00Z"}`,
		`{"kind":"nightly","scheduledTime":"yesterday"}`,
		`{"kind":"nightly","date":"2026-13-40"}`,
		`{"detail-type":"MemberJoined","source":"qunyun","detail":{"id":"x"}}`,
		`{"detail-type":"ScoringShardRequested","source":"qunyun","detail":{"id":"x","date":"soon","shard":0,"shards":1}}`,
		`{"detail-type":"ScoringShardRequested","source":"qunyun","detail":{"id":"x","date":"2026-11-21","shard":3,"shards":2}}`,
	} {
		err := h.Handle(t.Context(), json.RawMessage(in))
		if qunyun.ErrorCode(err) != qunyun.EINVALID {
			t.Errorf("%s: %v, want an invalid-input error", in, err)
		}
	}
}

// TestSampleEvents runs the function's sample events (events/scoring-*.json,
// what `sam local invoke` sends) against an empty table.
func TestSampleEvents(t *testing.T) {
	files, _ := filepath.Glob("../../events/scoring-*.json") // go test runs in the package directory
	if len(files) < 2 {
		t.Fatalf("sample events: %v", files)
	}
	clk := clock.NewManual(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC))
	table := dynamotest.NewTable(t, clk)
	scorer, err := scoring.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &scoring.Handler{Night: &scoring.Night{Stores: scoringStores(table), Scorer: scorer, Now: clk.Now}}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Handle(t.Context(), raw); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	if _, found, _ := (dynamo.Scores{Table: table}).Report(t.Context(), "2026-11-21"); !found {
		t.Fatal("the nightly sample stored no report")
	}
}
