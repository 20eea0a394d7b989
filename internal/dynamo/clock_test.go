package dynamo_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
)

// testNow is when the store tests run: their items are dated around it and
// every table they build tells this time, so no result depends on the date
// the suite runs.
var testNow = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// newTable is a fresh table on a clock standing at testNow.
func newTable(tb testing.TB) *dynamo.Table {
	tb.Helper()
	return dynamotest.NewTable(tb, clock.NewManual(testNow))
}
