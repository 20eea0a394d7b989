package push_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

const sendResultPath = "/cgi-bin/externalcontact/get_groupmsg_send_result"

var noQuietHours = func(g *qunyun.Group) { g.Caps = qunyun.Caps{QuietStart: "00:00", QuietEnd: "00:00"} }

// monthCount reads g000's November task counter.
func monthCount(t *testing.T, e *env) int {
	t.Helper()
	n, err := dynamo.Deliveries{Table: e.tb}.CapCount(e.ctx, qunyun.GroupMonthCap("g000", "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ticksUntil runs the scheduled invocation every step from `from` to `to`,
// both included.
func (e *env) ticksUntil(from, to time.Time, step time.Duration) {
	e.t.Helper()
	for m := from; !m.After(to); m = m.Add(step) {
		e.minute(m)
	}
}

// WeCom refuses to cancel an expired task (an errcode): the task is still
// live, so it stays open with its caps while the cancel is retried; when
// the retries run out it is unknown (the owner may still post it), its caps
// stay taken, and moderators are alerted, once.
func TestRefusedCancelKeepsTaskAndCapsThenUnknown(t *testing.T) {
	e, d := taskEnv(t, noQuietHours)
	e.sbx.Fail(cancelPath, 60011, 1000)
	e.ticksUntil(local(2026, 11, 23, 11, 30), local(2026, 11, 24, 10, 30), 30*time.Minute)
	e.minute(local(2026, 11, 24, 11, 0)) // 24 h: expiring, the cancel is refused
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryTaskCreated {
		t.Fatalf("after a refused cancel: %s/%s %v, want still task_created (the task is live in WeCom)", got.State, got.Reason, err)
	}
	if n := monthCount(t, e); n != 1 {
		t.Fatalf("month counter = %d while the task is live, want 1", n)
	}
	e.ticksUntil(local(2026, 11, 24, 11, 1), local(2026, 11, 24, 12, 0), time.Minute)
	got, _, err = dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryUnknown || got.Reason != qunyun.ReasonWithdrawFailed {
		t.Fatalf("after the retries: %s/%s %v, want unknown/%s", got.State, got.Reason, err, qunyun.ReasonWithdrawFailed)
	}
	if n := len(e.sbx.Calls(cancelPath)); n < 2 {
		t.Fatalf("%d cancel calls, want it retried", n)
	}
	if n := monthCount(t, e); n != 1 {
		t.Fatalf("month counter = %d for a task the owner may still post, want 1", n)
	}
	alerts := e.bus.of(qunyun.EventDeliveryRequested)
	if len(alerts) != 1 || alerts[0].Detail.(qunyun.DeliveryRequest).TargetID != "owner-000" ||
		!strings.Contains(alerts[0].Detail.(qunyun.DeliveryRequest).Content.Text, "未能撤回") {
		t.Fatalf("alerts = %+v, want one to the owner saying the task was not withdrawn", alerts)
	}
	finishedOnce(t, e, d.ID, qunyun.DeliveryUnknown)
	// Nothing more happens to it.
	before := len(e.sbx.Calls())
	e.ticksUntil(local(2026, 11, 24, 12, 1), local(2026, 11, 24, 12, 20), time.Minute)
	if n := len(e.sbx.Calls(cancelPath)) + len(e.sbx.Calls(sendResultPath)); len(e.sbx.Calls()) != before && n > 0 {
		t.Fatalf("an unknown task is still followed")
	}
}

// WeCom refuses the cancel twice, then takes it: the task is withdrawn for
// real, expired, and only then are its caps given back.
func TestCancelRetriedUntilWeComTakesIt(t *testing.T) {
	e, d := taskEnv(t, noQuietHours)
	e.sbx.Fail(cancelPath, 45009, 2*2) // each refusal outlives one client retry
	e.ticksUntil(local(2026, 11, 23, 11, 30), local(2026, 11, 24, 10, 30), 30*time.Minute)
	e.ticksUntil(local(2026, 11, 24, 11, 0), local(2026, 11, 24, 11, 10), time.Minute)
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryExpired {
		t.Fatalf("%s/%s %v, want expired", got.State, got.Reason, err)
	}
	if e.sbx.Confirm(d.TaskID) {
		t.Fatal("the task is expired here but still live in WeCom: the owner can post it")
	}
	if n := monthCount(t, e); n != 0 {
		t.Fatalf("month counter = %d after a withdrawn task, want 0", n)
	}
	finishedOnce(t, e, d.ID, qunyun.DeliveryExpired)
}

// The cancel never gets an answer (network) up to the moment the task's day
// leaves the sweep: it must not be left open forever, untracked; it ends
// unknown, with its caps, before that.
func TestUnansweredCancelEndsBeforeTheSweepForgetsIt(t *testing.T) {
	// 07:50 in Shanghai is 23:50 UTC: the task's UTC day ends ten minutes later,
	// and the sweep looks at it until the end of the next UTC day.
	e := newEnv(t, local(2026, 11, 23, 7, 50))
	inner := e.sbx.WeCom()
	var dropped atomic.Int64
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == cancelPath {
			dropped.Add(1)
			panic(http.ErrAbortHandler)
		}
		inner.ServeHTTP(w, r)
	}))
	defer lossy.Close()
	e.wcURL = lossy.URL
	e.svc = e.newService()
	e.groups(1, noQuietHours)
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "早安"})
	d := e.longTask()
	e.ticksUntil(local(2026, 11, 23, 8, 20), local(2026, 11, 24, 7, 20), 30*time.Minute)
	e.ticksUntil(local(2026, 11, 24, 7, 21), local(2026, 11, 24, 8, 10), time.Minute)
	if dropped.Load() == 0 {
		t.Fatal("no cancel was attempted: the test proves nothing")
	}
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryUnknown || got.Reason != qunyun.ReasonWithdrawFailed {
		t.Fatalf("%s/%s %v, want unknown/%s before its day leaves the sweep", got.State, got.Reason, err, qunyun.ReasonWithdrawFailed)
	}
	if n := monthCount(t, e); n != 1 {
		t.Fatalf("month counter = %d, want 1", n)
	}
	finishedOnce(t, e, d.ID, qunyun.DeliveryUnknown)
}

// The owner confirms just before our cancel (which then withdraws nothing)
// and the look that follows gets no answer: the task was sent, so it must
// end sent with its caps, not expired with them given back.
func TestConfirmationRacingTheCancelIsNotLost(t *testing.T) {
	e, d := taskEnv(t, noQuietHours)
	inner := e.sbx.WeCom()
	var dropNextResult atomic.Bool
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case cancelPath:
			body, _ := io.ReadAll(r.Body)
			var in struct {
				MsgID string `json:"msgid"`
			}
			json.Unmarshal(body, &in)
			e.sbx.Confirm(in.MsgID) // the owner was quicker
			r.Body = io.NopCloser(bytes.NewReader(body))
			dropNextResult.Store(true)
		case sendResultPath:
			if dropNextResult.CompareAndSwap(true, false) {
				panic(http.ErrAbortHandler)
			}
		}
		inner.ServeHTTP(w, r)
	}))
	defer lossy.Close()
	e.wcURL = lossy.URL
	e.svc = e.newService()
	e.ticksUntil(local(2026, 11, 23, 11, 30), local(2026, 11, 24, 10, 30), 30*time.Minute)
	e.ticksUntil(local(2026, 11, 24, 11, 0), local(2026, 11, 24, 11, 10), time.Minute)
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliverySent {
		t.Fatalf("%s/%s %v, want sent (the owner posted it)", got.State, got.Reason, err)
	}
	if n := monthCount(t, e); n != 1 {
		t.Fatalf("month counter = %d for a posted task, want 1", n)
	}
	finishedOnce(t, e, d.ID, qunyun.DeliverySent)
}
