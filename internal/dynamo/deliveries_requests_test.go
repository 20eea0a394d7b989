package dynamo_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Copies of one request arriving at once, on different days, all get the
// time of the one that was recorded; a later copy gets it too.
func TestRequestedDeliveryKeepsTheFirstTime(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC)
	d := qunyun.Delivery{ID: "session/s1/recap/g1", TargetKind: qunyun.TargetGroup, TargetID: "g1", GroupID: "g1"}
	got := make([]time.Time, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := d
			c.At = base.Add(time.Duration(i) * 24 * time.Hour)
			at, err := dynamo.Deliveries{Table: tb}.RequestedDelivery(ctx, c)
			if err != nil {
				t.Error(err)
			}
			got[i] = at
		}()
	}
	wg.Wait()
	for _, at := range got[1:] {
		if !at.Equal(got[0]) {
			t.Fatalf("copies keyed under different times: %v", got)
		}
	}
	d.At = base.AddDate(1, 0, 0)
	if at, err := (dynamo.Deliveries{Table: tb}).RequestedDelivery(ctx, d); err != nil || !at.Equal(got[0]) {
		t.Fatalf("a year later: %v %v, want %v", at, err, got[0])
	}
	d.TargetID, d.GroupID = "g2", "g2"
	if _, err := (dynamo.Deliveries{Table: tb}).RequestedDelivery(ctx, d); qunyun.ErrorCode(err) != qunyun.EINVALID {
		t.Fatalf("the id for another group: %v, want EINVALID", err)
	}
}
