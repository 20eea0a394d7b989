package callback_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// gateBus fails every publish while down, else passes it on.
type gateBus struct {
	next callback.Publisher
	down atomic.Bool
}

func (b *gateBus) Publish(ctx context.Context, evs ...bus.Event) error {
	if b.down.Load() {
		return fmt.Errorf("injected: EventBridge unavailable")
	}
	return b.next.Publish(ctx, evs...)
}

// setUpGroup writes group g1 of the relay account with moderator mod-a and
// a check-in rule.
func setUpGroup(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	since := f.clock.Now().AddDate(0, -1, 0)
	// Counted as the callback counts joins: members written here, as
	// config apply writes them, are otherwise counted by scoring's recount.
	if err := (dynamo.Catalog{Table: f.table}).PutGroup(ctx, qunyun.Group{ID: "g1", AccountID: "relay", Name: "读书会", TimeZone: "Asia/Shanghai",
		State: qunyun.GroupActive, CreatedAt: since, MemberCount: 1}); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Catalog{Table: f.table}).PutMember(ctx, qunyun.Member{GroupID: "g1", ID: "mod-a", Role: qunyun.RoleModerator, JoinedAt: since}); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(ctx, qunyun.CheckinRule{ID: "c", AccountID: "relay"}); err != nil {
		t.Fatal(err)
	}
}

// Work whose retries ran out is resumed while the bridge's late retries of
// the same callbacks arrive, and while a second Resume runs (overlapping
// schedule runs): each effect happens once — one moderator alert (the real
// push behind the local EventBridge), one check-in, one member — and every
// copy of an event is the same event.
func TestResumeRacesLiveRetries(t *testing.T) {
	var db *stepFaultDB
	f := newFixture(t, func(api dynamo.API) dynamo.API { db = &stepFaultDB{API: api}; return db })
	p := newPushSide(t, f, db.API)
	gate := &gateBus{next: f.handler.Service.Bus}
	f.handler.Service.Bus = gate
	setUpGroup(t, f)
	ctx := context.Background()

	at := f.clock.Now()
	hit := relayMessage("m1", "g1", "u1", "加我领资料 https://x.example.com/a", at)
	checkin := relayMessage("m2", "g1", "u2", "打卡", at)
	join := relayJoin("j1", "g1", "u7", at)
	gate.down.Store(true)
	db.match = func(r request) bool { return r.op == "put" && strings.HasPrefix(r.sk, "CHECKIN#") }
	for _, b := range []string{hit, checkin, join} {
		if r := f.relay(b); r.StatusCode != 503 {
			t.Fatalf("%d %q, want 503", r.StatusCode, r.Body)
		}
	}
	if n := f.followupLeft(); n != 3 {
		t.Fatalf("%d records with work left, want 3", n)
	}
	gate.down.Store(false)
	f.clock.Set(at.Add(callback.DefaultResumeAfter + time.Second))

	var wg sync.WaitGroup
	reps := make([]callback.ResumeReport, 2)
	for i := range reps {
		wg.Go(func() {
			var err error
			if reps[i], err = f.handler.Service.ResumeDue(ctx, f.clock.Now()); err != nil {
				t.Error(err)
			}
		})
	}
	for _, b := range []string{hit, checkin, join} {
		wg.Go(func() {
			if r := f.relay(b); r.StatusCode != 200 {
				t.Errorf("late retry: %d %q", r.StatusCode, r.Body)
			}
		})
	}
	wg.Wait()
	t.Logf("resume runs: %+v / %+v", reps[0], reps[1])
	for _, rep := range reps {
		if rep.Failed != 0 || rep.Left != 0 || rep.Finished+rep.Cleared+rep.Taken+rep.Waiting != rep.Notes {
			t.Fatalf("report %+v does not add up, or failed", rep)
		}
	}

	hits := p.delivered(t, qunyun.EventModerationHit) // waits for push
	if n := p.alertsTo("mod-a"); n != 1 {
		t.Fatalf("the moderator got %d alerts, want 1", n)
	}
	for _, e := range hits {
		if !e.Time.Equal(at) || !strings.Contains(string(e.Detail), `"id":"m1"`) {
			t.Fatalf("a ModerationHit copy differs: time %v, detail %s", e.Time, e.Detail)
		}
	}
	if n := f.countSK("CHECKIN#"); n != 1 {
		t.Fatalf("%d check-ins logged, want 1", n)
	}
	var s struct {
		dynamo.Keys
		qunyun.CheckinStreak
	}
	if _, err := f.table.Get(ctx, "GROUP#g1", "STREAK#u2", &s); err != nil || s.Total != 1 {
		t.Fatalf("streak %+v %v, want total 1", s.CheckinStreak, err)
	}
	if g, _, _ := (dynamo.Catalog{Table: f.table}).Group(ctx, "g1"); g.MemberCount != 2 { // mod-a and u7
		t.Fatalf("member count %d, want 2", g.MemberCount)
	}
	if n := len(p.delivered(t, qunyun.EventMemberJoined)); n < 1 {
		t.Fatal("MemberJoined never published")
	}
	if n := f.followupLeft(); n != 0 {
		t.Fatalf("%d records with work left", n)
	}
	// Whatever the runs left (a note claimed by one run and finished by a
	// retry) is cleared by a later run; nothing is done twice.
	f.clock.Set(f.clock.Now().Add(callback.DefaultResumeAfter))
	rep, err := f.handler.Service.ResumeDue(ctx, f.clock.Now())
	if err != nil || rep.Finished != 0 || rep.Failed != 0 {
		t.Fatalf("a later run: %+v (%v), want nothing to finish", rep, err)
	}
	if rep, _ := f.handler.Service.ResumeDue(ctx, f.clock.Now()); rep.Notes != 0 {
		t.Fatalf("notes left after every record is done: %+v", rep)
	}
}

// Notes are dated by the failure (UTC): a run just after midnight finishes
// what failed just before it, and leaves what failed a moment ago to the
// retries until ResumeAfter has passed.
func TestResumeDueAcrossMidnight(t *testing.T) {
	f := newFixture(t, nil)
	gate := &gateBus{next: f.bus}
	f.handler.Service.Bus = gate
	gate.down.Store(true)
	late := time.Date(2026, 11, 22, 23, 59, 30, 0, time.UTC)
	f.clock.Set(late)
	if r := f.relay(relayJoin("j1", "g1", "u1", late)); r.StatusCode != 503 {
		t.Fatalf("%d", r.StatusCode)
	}
	early := time.Date(2026, 11, 23, 0, 1, 30, 0, time.UTC)
	f.clock.Set(early)
	if r := f.relay(relayJoin("j2", "g1", "u2", early)); r.StatusCode != 503 {
		t.Fatalf("%d", r.StatusCode)
	}
	gate.down.Store(false)

	f.clock.Set(time.Date(2026, 11, 23, 0, 2, 0, 0, time.UTC))
	rep, err := f.handler.Service.ResumeDue(context.Background(), f.clock.Now())
	if err != nil || rep.Finished != 1 || rep.Waiting != 1 || strings.Join(rep.Dates, " ") != "2026-11-22 2026-11-23" {
		t.Fatalf("00:02: %+v (%v), want yesterday's finished and today's waiting", rep, err)
	}
	f.clock.Set(early.Add(callback.DefaultResumeAfter))
	if rep, err := f.handler.Service.ResumeDue(context.Background(), f.clock.Now()); err != nil || rep.Finished != 1 || rep.Notes != 1 {
		t.Fatalf("00:03:30: %+v (%v), want the second finished", rep, err)
	}
	if n := f.bus.distinct(qunyun.EventMemberJoined); n != 2 {
		t.Fatalf("MemberJoined for %d joins, want 2", n)
	}
}

// Resume starts no record when its deadline (the Lambda's timeout) is too
// near: it reports them as left for the next run.
func TestResumeStopsBeforeDeadline(t *testing.T) {
	f := newFixture(t, nil)
	gate := &gateBus{next: f.bus}
	f.handler.Service.Bus = gate
	gate.down.Store(true)
	at := f.clock.Now()
	for i := range 3 {
		if r := f.relay(relayJoin(fmt.Sprint("j", i), "g1", fmt.Sprint("u", i), at)); r.StatusCode != 503 {
			t.Fatalf("%d", r.StatusCode)
		}
	}
	gate.down.Store(false)
	f.clock.Set(at.Add(callback.DefaultResumeAfter))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rep, err := f.handler.Service.ResumeDue(ctx, f.clock.Now())
	if err != nil || rep.Left != 3 || rep.Finished != 0 {
		t.Fatalf("%+v (%v), want 3 left", rep, err)
	}
	if n := f.followupLeft(); n != 3 {
		t.Fatalf("%d records with work left, want 3", n)
	}
}

// The Lambda handler tells the schedule's input from an API Gateway
// request by its JSON; a schedule input of another kind, or without its
// time, is refused.
func TestInvokeScheduleOrRequest(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	sample, err := os.ReadFile("../../events/callback-tick.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.handler.Invoke(ctx, sample)
	if _, ok := out.(callback.ResumeReport); err != nil || !ok {
		t.Fatalf("the schedule sample: %T %v", out, err)
	}
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "GET /r/{code}", RawPath: "/r/nope", PathParameters: map[string]string{"code": "nope"}}
	req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = "GET", "/r/nope"
	raw, _ := json.Marshal(req)
	out, err = f.handler.Invoke(ctx, raw)
	if resp, ok := out.(events.APIGatewayV2HTTPResponse); err != nil || !ok || resp.StatusCode != 404 {
		t.Fatalf("a tracked-link request: %#v %v, want its 404 answer", out, err)
	}
	for _, bad := range []string{`{"kind":"tick","scheduledTime":"2026-11-22T03:00:00Z"}`, `{"kind":"resume"}`, `[1]`, `not json`} {
		if _, err := f.handler.Invoke(ctx, json.RawMessage(bad)); qunyun.ErrorCode(err) != qunyun.EINVALID {
			t.Errorf("%s: %v, want invalid", bad, err)
		}
	}
}
