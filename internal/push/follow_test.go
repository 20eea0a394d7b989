package push_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// The account of an open task disappears from the accounts directory (a
// renamed SSM parameter, an edited QUNYUN_ACCOUNTS): the task can be neither
// read nor withdrawn. Until it expires it stays open, and every poll counts
// the configuration error; at expiry it ends unknown (the owner may still
// post it), its caps stay taken, and the owner is alerted, once.
func TestTaskWithMissingAccountEndsUnknownAtExpiry(t *testing.T) {
	e, d := taskEnv(t, noQuietHours)
	e.svc = e.newService()
	dir, err := accounts.NewStatic([]qunyun.Account{oa}) // no "wc"
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Accounts = dir
	e.ticksUntil(local(2026, 11, 23, 11, 1), local(2026, 11, 23, 11, 10), time.Minute) // its poll minute
	if !strings.Contains(e.metrics.String(), `"TaskAccountMissing"`) {
		t.Fatal("no TaskAccountMissing metric while the task's account is missing")
	}
	e.ticksUntil(local(2026, 11, 23, 11, 30), local(2026, 11, 24, 10, 30), 30*time.Minute)
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryTaskCreated {
		t.Fatalf("before expiry: %s/%s %v, want still task_created", got.State, got.Reason, err)
	}
	e.minute(local(2026, 11, 24, 11, 0)) // 24 h
	got, _, err = dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryUnknown || got.Reason != push.ReasonAccountMissing {
		t.Fatalf("at expiry: %s/%s %v, want unknown/%s", got.State, got.Reason, err, push.ReasonAccountMissing)
	}
	if n := monthCount(t, e); n != 1 {
		t.Fatalf("month counter = %d for a task the owner may still post, want 1", n)
	}
	alerts := e.bus.of(qunyun.EventDeliveryRequested)
	if len(alerts) != 1 || alerts[0].Detail.(qunyun.DeliveryRequest).TargetID != "owner-000" {
		t.Fatalf("alerts = %+v, want one to the owner", alerts)
	}
	finishedOnce(t, e, d.ID, qunyun.DeliveryUnknown)
	if n := len(e.sbx.Calls(cancelPath)); n != 0 {
		t.Fatalf("%d cancel calls without an account", n)
	}
}

// A TaskExpiry longer than the sweep's reach (it reads a delivery's UTC day
// until the end of the next one) must not let a task fall out of the sweep
// while open: a task made a minute before UTC midnight, with the expiry set
// to three days, is withdrawn and expired before its day leaves the sweep,
// and its caps are given back.
func TestLongTaskExpiryEndsBeforeTheSweepForgetsIt(t *testing.T) {
	// 07:59 in Shanghai is 23:59 UTC.
	e := newEnv(t, local(2026, 11, 23, 7, 59))
	e.svc.TaskExpiry = 72 * time.Hour
	e.groups(1, noQuietHours)
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "早安"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "59 7 * * ? *", End: local(2026, 11, 23, 8, 0)})
	if rep := e.tick(local(2026, 11, 23, 7, 59)); rep.Tasks != 1 {
		t.Fatalf("%d tasks, want 1", rep.Tasks)
	}
	d := e.deliveries(local(2026, 11, 23, 7, 59))[0].Delivery
	e.ticksUntil(local(2026, 11, 23, 8, 29), local(2026, 11, 24, 6, 59), 30*time.Minute)
	e.ticksUntil(local(2026, 11, 24, 7, 0), local(2026, 11, 24, 9, 0), 10*time.Minute)
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryExpired {
		t.Fatalf("after its day left the sweep: %s/%s %v, want expired", got.State, got.Reason, err)
	}
	if e.sbx.Confirm(d.TaskID) {
		t.Fatal("the task is expired here but still live in WeCom: the owner can post it")
	}
	if n := monthCount(t, e); n != 0 {
		t.Fatalf("month counter = %d after a withdrawn task, want 0", n)
	}
	finishedOnce(t, e, d.ID, qunyun.DeliveryExpired)
}

// The longest expiry accepted without a warning (24 h) on a task made just
// before UTC midnight whose send was throttled and resumed after midnight:
// its 24 h run from the send, past the end of the sweep's reach of its day
// (the slot's). It is still withdrawn and expired before the sweep forgets
// it, caps given back.
func TestRetriedTaskPastMidnightEndsBeforeTheSweepForgetsIt(t *testing.T) {
	// 07:59 in Shanghai is 23:59 UTC.
	e := newEnv(t, local(2026, 11, 23, 7, 59))
	e.svc.TaskExpiry = 24 * time.Hour
	e.groups(1, noQuietHours)
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "早安"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "59 7 * * ? *", End: local(2026, 11, 23, 8, 0)})
	e.sbx.Fail(addMsgTemplate, 45009, 2) // one send, with its client retry
	e.tick(local(2026, 11, 23, 7, 59))
	e.ticksUntil(local(2026, 11, 23, 8, 0), local(2026, 11, 23, 8, 10), time.Minute)
	d := e.deliveries(local(2026, 11, 23, 7, 59))[0].Delivery
	if d.State != qunyun.DeliveryTaskCreated || !d.SendStartedAt.After(local(2026, 11, 23, 8, 0)) {
		t.Fatalf("%s sent at %s, want a task sent after midnight UTC: the test proves nothing", d.State, d.SendStartedAt)
	}
	e.ticksUntil(local(2026, 11, 23, 8, 30), local(2026, 11, 24, 6, 30), 30*time.Minute)
	e.ticksUntil(local(2026, 11, 24, 6, 40), local(2026, 11, 24, 9, 0), 10*time.Minute)
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryExpired {
		t.Fatalf("after its day left the sweep: %s/%s %v, want expired", got.State, got.Reason, err)
	}
	if e.sbx.Confirm(d.TaskID) {
		t.Fatal("the task is expired here but still live in WeCom: the owner can post it")
	}
	if n := monthCount(t, e); n != 0 {
		t.Fatalf("month counter = %d after a withdrawn task, want 0", n)
	}
	finishedOnce(t, e, d.ID, qunyun.DeliveryExpired)
}
