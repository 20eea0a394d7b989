package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// flakyBus fails the next publishes that carry an event of a detail type,
// as an EventBridge outage would; the rest reach the recorder.
type flakyBus struct {
	*recBus
	mu   sync.Mutex
	fail map[string]int // detail-type → publishes still to fail
}

func (b *flakyBus) Publish(ctx context.Context, evs ...bus.Event) error {
	b.mu.Lock()
	for _, ev := range evs {
		if b.fail[ev.DetailType] > 0 {
			b.fail[ev.DetailType]--
			b.mu.Unlock()
			return errors.New("injected: PutEvents failed")
		}
	}
	b.mu.Unlock()
	return b.recBus.Publish(ctx, evs...)
}

// failBus makes the service's next n publishes with detailType fail.
func failBus(e *env, detailType string, n int) {
	if fb, ok := e.svc.Bus.(*flakyBus); ok {
		fb.mu.Lock()
		fb.fail[detailType] += n
		fb.mu.Unlock()
		return
	}
	e.svc.Bus = &flakyBus{recBus: e.bus, fail: map[string]int{detailType: n}}
}

// minute runs the scheduled invocation for minute at, as the scheduler
// does (the tick, then the announcements owed), the clock moved there.
func (e *env) minute(at time.Time) {
	e.t.Helper()
	e.clk.Set(at)
	in, _ := json.Marshal(map[string]string{"kind": "tick", "scheduledTime": at.UTC().Format(time.RFC3339)})
	if _, err := e.svc.Invoke(e.ctx, in); err != nil {
		e.t.Fatalf("minute %s: %v", at.In(shanghai).Format("01-02 15:04"), err)
	}
}

// finishedOnce checks that exactly one DeliveryFinished was published for
// id, in state want.
func finishedOnce(t *testing.T, e *env, id string, want qunyun.DeliveryState) {
	t.Helper()
	var got []qunyun.DeliveryFinished
	for _, ev := range e.bus.of(qunyun.EventDeliveryFinished) {
		if d := ev.Detail.(qunyun.DeliveryFinished); d.ID == id {
			got = append(got, d)
		}
	}
	if len(got) != 1 || got[0].State != want {
		t.Fatalf("DeliveryFinished for %s = %+v, want one in state %s", id, got, want)
	}
}

// The bus fails when a requested delivery finishes: the invocation reports
// the failure (so EventBridge retries it), and the retry publishes the
// event without sending again; later sweeps do not publish it a second time.
func TestFinishedEventLostToTheBusIsPublishedOnRetry(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	failBus(e, qunyun.EventDeliveryFinished, 1)
	r := qunyun.DeliveryRequest{ID: "session/s1/open/g000", Source: "session", TargetKind: qunyun.TargetGroup, TargetID: "g000",
		Content: &qunyun.Content{Kind: qunyun.ContentText, Text: "开始啦"}}
	if err := e.request(r); err == nil {
		t.Fatal("a lost DeliveryFinished was not reported: EventBridge would not retry")
	}
	if n := len(e.bus.of(qunyun.EventDeliveryFinished)); n != 0 {
		t.Fatalf("%d events published through a failing bus", n)
	}
	if err := e.request(r); err != nil { // EventBridge's retry
		t.Fatal(err)
	}
	finishedOnce(t, e, r.ID, qunyun.DeliverySent)
	for m := local(2026, 11, 23, 15, 1); !m.After(local(2026, 11, 23, 15, 10)); m = m.Add(time.Minute) {
		e.minute(m)
	}
	finishedOnce(t, e, r.ID, qunyun.DeliverySent)
	if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"g000"`); n != 1 {
		t.Fatalf("group posted %d times, want 1", n)
	}
}

// A plan slot whose DeliveryFinished is lost: the tick fails, and a later
// tick publishes the event once.
func TestFinishedEventLostDuringTickIsPublishedLater(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})
	failBus(e, qunyun.EventDeliveryFinished, 1)
	if _, err := e.svc.Tick(e.ctx, local(2026, 11, 23, 11, 0)); err == nil {
		t.Fatal("a tick that lost a DeliveryFinished reported success")
	}
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 10)); m = m.Add(time.Minute) {
		e.minute(m)
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != 1 || items[0].State != qunyun.DeliverySent {
		t.Fatalf("deliveries = %+v, want one sent", items)
	}
	finishedOnce(t, e, items[0].ID, qunyun.DeliverySent)
}

// A task the owner confirms is finished by the sweep; the bus is down for
// a while then: a later sweep publishes the event once.
func TestFinishedEventOfTaskIsPublishedBySweep(t *testing.T) {
	e, d := taskEnv(t, nil)
	failBus(e, qunyun.EventDeliveryFinished, 3)
	if !e.sbx.Confirm(d.TaskID) {
		t.Fatal("no task to confirm")
	}
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 30)); m = m.Add(time.Minute) {
		e.minute(m)
	}
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliverySent {
		t.Fatalf("state %s %v, want sent", got.State, err)
	}
	finishedOnce(t, e, d.ID, qunyun.DeliverySent)
}

// An unknown delivery's alert to moderators is not lost with the bus: it
// is requested once the bus is back, once.
func TestUnknownAlertLostToTheBusIsRequestedLater(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-1", Role: qunyun.RoleModerator})
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})
	inner := e.sbx.WeCom()
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/appchat/send" {
			inner.ServeHTTP(httptest.NewRecorder(), r) // WeChat applies it...
			panic(http.ErrAbortHandler)                // ...and the answer is lost
		}
		inner.ServeHTTP(w, r)
	}))
	defer lossy.Close()
	e.wcURL = lossy.URL
	e.svc = e.newService()
	failBus(e, qunyun.EventDeliveryRequested, 1)
	if _, err := e.svc.Tick(e.ctx, local(2026, 11, 23, 11, 0)); err == nil {
		t.Fatal("a tick that lost the alert reported success")
	}
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 15)); m = m.Add(time.Minute) {
		e.minute(m)
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != 1 || items[0].State != qunyun.DeliveryUnknown {
		t.Fatalf("deliveries = %+v, want one unknown", items)
	}
	alerts := e.bus.of(qunyun.EventDeliveryRequested)
	if len(alerts) != 1 || alerts[0].Detail.(qunyun.DeliveryRequest).TargetID != "mod-1" {
		t.Fatalf("alerts = %+v, want one to mod-1", alerts)
	}
	finishedOnce(t, e, items[0].ID, qunyun.DeliveryUnknown)
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
}

// The write that clears the mark fails after the publish: the retry
// publishes the event again, identical (same id, same state), so a
// consumer that dedupes on the id sees one; nothing is sent twice.
func TestFinishedEventRepeatedWhenTheMarkIsNotCleared(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	clearing := func(it dynamo.Item) bool {
		_, pending := it["announcePending"]
		return attrHasPrefix("state", string(qunyun.DeliverySent))(it) && !pending
	}
	e.svc.Store = pushStores(&dynamo.Table{DB: &failingPuts{API: e.tb.DB, match: clearing, fail: 1}, Name: e.tb.Name, Now: e.clk.Now})
	r := qunyun.DeliveryRequest{ID: "r1", Source: "session", TargetKind: qunyun.TargetGroup, TargetID: "g000",
		Content: &qunyun.Content{Kind: qunyun.ContentText, Text: "hi"}}
	if err := e.request(r); err == nil {
		t.Fatal("a failed clearing write was not reported")
	}
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	fin := e.bus.of(qunyun.EventDeliveryFinished)
	if len(fin) != 2 || fin[0].Detail != fin[1].Detail {
		t.Fatalf("DeliveryFinished = %+v, want the same event twice", fin)
	}
	if got := e.stateOf(r); got.AnnouncePending {
		t.Fatal("the mark is still set after the second publish")
	}
	if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"g000"`); n != 1 {
		t.Fatalf("group posted %d times, want 1", n)
	}
}

// A task dated late in a UTC day is confirmed near the end of the next one,
// while the bus is down until after midnight: its DeliveryFinished is still
// published once the bus is back, though its date is two days old by then.
func TestFinishedEventOwedAcrossMidnightIsPublished(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 7, 50)) // 23:50 UTC on the 22nd
	e.groups(1, noQuietHours)
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "早安"})
	d := e.longTask()
	e.ticksUntil(local(2026, 11, 23, 8, 20), local(2026, 11, 24, 7, 20), 30*time.Minute)
	failBus(e, qunyun.EventDeliveryFinished, 1000)
	e.sbx.Confirm(d.TaskID)
	e.ticksUntil(local(2026, 11, 24, 7, 21), local(2026, 11, 24, 7, 59), time.Minute)
	if got, _, _ := (dynamo.Deliveries{Table: e.tb}).GetDelivery(e.ctx, d); got.State != qunyun.DeliverySent || !got.AnnouncePending {
		t.Fatalf("before midnight UTC: %s pending=%v, want sent with its announcement owed", got.State, got.AnnouncePending)
	}
	e.svc.Bus.(*flakyBus).fail[qunyun.EventDeliveryFinished] = 0 // the bus is back
	e.ticksUntil(local(2026, 11, 24, 8, 0), local(2026, 11, 24, 8, 20), time.Minute)
	finishedOnce(t, e, d.ID, qunyun.DeliverySent)
}
