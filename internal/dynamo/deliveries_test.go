package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Concurrent reservations never take a counter past its limit.
func TestReserveCapUnderConcurrency(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	c := qunyun.GroupDayCap("g1", "2026-11-22")
	var won atomic.Int32
	var wg sync.WaitGroup
	held := make(chan string, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := dynamo.Deliveries{Table: tb}.ReserveCap(ctx, c, 3, time.Hour, fmt.Sprint("d", i))
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
				held <- fmt.Sprint("d", i)
			}
		}()
	}
	wg.Wait()
	close(held)
	first := <-held
	if won.Load() != 3 {
		t.Fatalf("%d reservations won, want 3", won.Load())
	}
	if err := (dynamo.Deliveries{Table: tb}).ReleaseCap(ctx, c, first); err != nil {
		t.Fatal(err)
	}
	if n, _ := (dynamo.Deliveries{Table: tb}).CapCount(ctx, c); n != 2 {
		t.Fatalf("count after release = %d, want 2", n)
	}
	for range 3 { // a holder gives back once; others give back nothing
		dynamo.Deliveries{Table: tb}.ReleaseCap(ctx, c, first)
		dynamo.Deliveries{Table: tb}.ReleaseCap(ctx, c, "never-held")
	}
	for h := range held {
		dynamo.Deliveries{Table: tb}.ReleaseCap(ctx, c, h)
	}
	if n, _ := (dynamo.Deliveries{Table: tb}).CapCount(ctx, c); n != 0 {
		t.Fatalf("count = %d, want 0", n)
	}
	if back, ok := qunyun.ParseCapCounter(c.String()); !ok || back != c {
		t.Fatalf("ParseCapCounter(%q) = %v %v", c.String(), back, ok)
	}
}

// A delivery is claimed once; transitions are conditional on the version.
func TestDeliveryClaimAndUpdate(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	d := qunyun.Delivery{ID: "d1", Source: "p1", TargetKind: qunyun.TargetGroup, TargetID: "g1", GroupID: "g1", At: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	ok, first, err := dynamo.Deliveries{Table: tb}.ClaimDelivery(ctx, qunyun.DeliveryRecord{Delivery: d})
	if err != nil || !ok || first.State != qunyun.DeliveryClaimed {
		t.Fatalf("first claim: %v %v %s", ok, err, first.State)
	}
	ok, stored, err := dynamo.Deliveries{Table: tb}.ClaimDelivery(ctx, qunyun.DeliveryRecord{Delivery: d})
	if err != nil || ok || stored.ID != "d1" {
		t.Fatalf("second claim: %v %v %+v", ok, err, stored)
	}
	stale := stored
	changed, err := dynamo.Deliveries{Table: tb}.UpdateDelivery(ctx, &stored, func(d *qunyun.Delivery) { d.State = qunyun.DeliverySent })
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	changed, err = dynamo.Deliveries{Table: tb}.UpdateDelivery(ctx, &stale, func(d *qunyun.Delivery) { d.State = qunyun.DeliveryFailed })
	if err != nil || changed {
		t.Fatalf("a stale update went through: %v %v", changed, err)
	}
	for name, q := range map[string]func() ([]qunyun.DeliveryRecord, error){
		"group": func() ([]qunyun.DeliveryRecord, error) {
			return dynamo.Deliveries{Table: tb}.GroupDayDeliveries(ctx, "g1", "2026-11-22")
		},
		"plan": func() ([]qunyun.DeliveryRecord, error) {
			return dynamo.Deliveries{Table: tb}.PlanDeliveries(ctx, "p1", "2026-11-22")
		},
		"sent": func() ([]qunyun.DeliveryRecord, error) {
			return dynamo.Deliveries{Table: tb}.DayDeliveries(ctx, "2026-11-22", qunyun.DeliverySent)
		},
	} {
		items, err := q()
		if err != nil || len(items) != 1 || items[0].State != qunyun.DeliverySent {
			t.Fatalf("%s query: %+v %v", name, items, err)
		}
	}
	if items, _ := (dynamo.Deliveries{Table: tb}).DayDeliveries(ctx, "2026-11-22", qunyun.DeliveryClaimed); len(items) != 0 {
		t.Fatalf("the GSI2 state key did not move: %+v", items)
	}
	// Person deliveries live under their own partition.
	m := qunyun.Delivery{ID: "d2", Source: "alert", TargetKind: qunyun.TargetStaff, TargetID: "mod-1", At: d.At}
	if ok, _, err := (dynamo.Deliveries{Table: tb}).ClaimDelivery(ctx, qunyun.DeliveryRecord{Delivery: m}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if items, err := (dynamo.Deliveries{Table: tb}).TargetDeliveries(ctx, qunyun.TargetStaff, "mod-1", "2026-11-22"); err != nil || len(items) != 1 {
		t.Fatalf("target deliveries: %+v %v", items, err)
	}
}

// An update DynamoDB applied but whose answer was lost (the SDK's retry
// then fails the version condition) is the caller's own: changed, not a race
// lost to someone else.
// A reservation whose answer was lost counts once (the SDK's retry fails
// the condition, and the holder finds its own reservation), and a release
// retried the same way gives back one, not two: a platform cap is never
// passed, nor a delivery skipped for its own reservation.
func TestCapSurvivesALostAnswer(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	c := qunyun.GroupMonthCap("g1", "2026-11")
	for i := range 2 {
		if ok, err := (dynamo.Deliveries{Table: tb}).ReserveCap(ctx, c, 3, time.Hour, fmt.Sprint("other-", i)); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	lossy := &dynamo.Table{DB: &lostAnswer{API: tb.DB}, Name: tb.Name, Now: tb.Now}
	if ok, err := (dynamo.Deliveries{Table: lossy}).ReserveCap(ctx, c, 3, time.Hour, "d1"); err != nil || !ok {
		t.Fatalf("the last place, answer lost: ok=%v err=%v, want it reserved", ok, err)
	}
	if n, _ := (dynamo.Deliveries{Table: tb}).CapCount(ctx, c); n != 3 {
		t.Fatalf("count %d after a lost answer, want 3", n)
	}
	if ok, _ := (dynamo.Deliveries{Table: tb}).ReserveCap(ctx, c, 3, time.Hour, "d2"); ok {
		t.Fatal("a fourth reservation of a cap of 3")
	}
	lossy = &dynamo.Table{DB: &lostAnswer{API: tb.DB}, Name: tb.Name, Now: tb.Now}
	if err := (dynamo.Deliveries{Table: lossy}).ReleaseCap(ctx, c, "d1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := (dynamo.Deliveries{Table: tb}).CapCount(ctx, c); n != 2 {
		t.Fatalf("count %d after a release whose answer was lost, want 2", n)
	}
}

func TestUpdateDeliverySurvivesALostAnswer(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	d := qunyun.Delivery{ID: "d1", Source: "p1", TargetKind: qunyun.TargetGroup, TargetID: "g1", GroupID: "g1", At: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	_, it, err := dynamo.Deliveries{Table: tb}.ClaimDelivery(ctx, qunyun.DeliveryRecord{Delivery: d})
	if err != nil {
		t.Fatal(err)
	}
	stale := it
	lossy := &dynamo.Table{DB: &lostAnswer{API: tb.DB}, Name: tb.Name, Now: tb.Now}
	changed, err := dynamo.Deliveries{Table: lossy}.UpdateDelivery(ctx, &it, func(d *qunyun.Delivery) { d.SendStartedAt = d.At })
	if err != nil || !changed || it.Version != 2 {
		t.Fatalf("update with a lost answer: changed=%v err=%v version=%d, want changed at version 2", changed, err, it.Version)
	}
	// Someone else's write is still a lost race.
	changed, err = dynamo.Deliveries{Table: tb}.UpdateDelivery(ctx, &stale, func(d *qunyun.Delivery) { d.State = qunyun.DeliveryFailed })
	if err != nil || changed {
		t.Fatalf("a stale update went through: %v %v", changed, err)
	}
	stored, _, err := dynamo.Deliveries{Table: tb}.GetDelivery(ctx, d)
	if err != nil || stored.SendStartedAt.IsZero() || stored.State != qunyun.DeliveryClaimed {
		t.Fatalf("stored %+v %v, want the send-started mark", stored.Delivery, err)
	}
}

// One lease holder at a time, which may take it again; storing releases;
// an expired lease can be taken.
func TestTokenLease(t *testing.T) {
	tb := newTable(t)
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	tb.Now = func() time.Time { return now }
	ctx := context.Background()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		owners []string // who won: one process of twenty
	)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("p%d", i)
			if ok, err := (dynamo.Tokens{Table: tb}).LeaseToken(ctx, "oa:wx", owner, now.Add(30*time.Second)); err == nil && ok {
				mu.Lock()
				owners = append(owners, owner)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(owners) != 1 {
		t.Fatalf("lease holders %v, want 1", owners)
	}
	p := owners[0]
	if ok, _ := (dynamo.Tokens{Table: tb}).StoreToken(ctx, "oa:wx", "someone-else", qunyun.AccessToken{Token: "x", ExpiresAt: now.Add(time.Hour)}); ok {
		t.Fatal("a non-holder stored a token")
	}
	if ok, err := (dynamo.Tokens{Table: tb}).StoreToken(ctx, "oa:wx", p, qunyun.AccessToken{Token: "tok", ExpiresAt: now.Add(time.Hour)}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	got, err := dynamo.Tokens{Table: tb}.AccessToken(ctx, "oa:wx")
	if err != nil || got.Token != "tok" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("token = %+v %v", got, err)
	}
	if ok, _ := (dynamo.Tokens{Table: tb}).LeaseToken(ctx, "oa:wx", "q", now.Add(30*time.Second)); !ok {
		t.Fatal("storing did not release the lease")
	}
	if ok, _ := (dynamo.Tokens{Table: tb}).LeaseToken(ctx, "oa:wx", "r", now.Add(30*time.Second)); ok {
		t.Fatal("a held lease was taken")
	}
	// The SDK's retry of a lease write whose answer was lost.
	if ok, err := (dynamo.Tokens{Table: tb}).LeaseToken(ctx, "oa:wx", "q", now.Add(30*time.Second)); !ok || err != nil {
		t.Fatalf("the holder could not take its own lease again: %v %v", ok, err)
	}
	now = now.Add(31 * time.Second)
	if ok, _ := (dynamo.Tokens{Table: tb}).LeaseToken(ctx, "oa:wx", "r", now.Add(30*time.Second)); !ok {
		t.Fatal("an expired lease could not be taken")
	}
}

func TestCursorOnlyMovesForward(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	t1 := time.Date(2026, 11, 22, 3, 5, 0, 0, time.UTC)
	if err := (dynamo.Deliveries{Table: tb}).AdvanceCursor(ctx, "push", "tick", t1); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Deliveries{Table: tb}).AdvanceCursor(ctx, "push", "tick", t1.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := dynamo.Deliveries{Table: tb}.Cursor(ctx, "push", "tick")
	if err != nil || !got.Equal(t1) {
		t.Fatalf("cursor = %s %v, want %s", got, err, t1)
	}
	if done, _ := (dynamo.Deliveries{Table: tb}).RunDone(ctx, "push", "tick", t1); done {
		t.Fatal("run marked done before MarkRunDone")
	}
	dynamo.Deliveries{Table: tb}.MarkRunDone(ctx, "push", "tick", t1, time.Hour)
	if done, _ := (dynamo.Deliveries{Table: tb}).RunDone(ctx, "push", "tick", t1); !done {
		t.Fatal("run not marked done")
	}
}
