package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// A final delivery whose announcement is pending is found by
// UnannouncedDeliveries and still by its state; once announced, only by
// its state.
func TestUnannouncedDeliveries(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	d := qunyun.Delivery{ID: "d1", Source: "p1", TargetKind: qunyun.TargetGroup, TargetID: "g1", GroupID: "g1", At: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	_, it, err := dynamo.Deliveries{Table: tb}.ClaimDelivery(ctx, qunyun.DeliveryRecord{Delivery: d})
	if err != nil {
		t.Fatal(err)
	}
	count := func(what string, q func() ([]qunyun.DeliveryRecord, error), want int) {
		t.Helper()
		items, err := q()
		if err != nil || len(items) != want {
			t.Fatalf("%s: %d items %v, want %d", what, len(items), err, want)
		}
	}
	pending := func() ([]qunyun.DeliveryRecord, error) {
		return dynamo.Deliveries{Table: tb}.UnannouncedDeliveries(ctx, "2026-11-22")
	}
	sent := func() ([]qunyun.DeliveryRecord, error) {
		return dynamo.Deliveries{Table: tb}.DayDeliveries(ctx, "2026-11-22", qunyun.DeliverySent)
	}
	count("claimed: unannounced", pending, 0)
	if _, err := (dynamo.Deliveries{Table: tb}).UpdateDelivery(ctx, &it, func(d *qunyun.Delivery) { d.State, d.AnnouncePending = qunyun.DeliverySent, true }); err != nil {
		t.Fatal(err)
	}
	count("sent, pending: unannounced", pending, 1)
	count("sent, pending: by state", sent, 1)
	if _, err := (dynamo.Deliveries{Table: tb}).UpdateDelivery(ctx, &it, func(d *qunyun.Delivery) { d.AnnouncePending = false }); err != nil {
		t.Fatal(err)
	}
	count("announced: unannounced", pending, 0)
	count("announced: by state", sent, 1)
	count("announced: whole day", func() ([]qunyun.DeliveryRecord, error) {
		return dynamo.Deliveries{Table: tb}.DayDeliveries(ctx, "2026-11-22", "")
	}, 1)
}
