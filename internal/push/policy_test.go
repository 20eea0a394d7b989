package push_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestInQuietHours(t *testing.T) {
	def := qunyun.Group{}.EffectiveCaps()
	cases := []struct {
		hhmm string
		caps qunyun.Caps
		want bool
	}{
		{"21:59", def, false}, {"22:00", def, true}, {"03:00", def, true}, {"07:59", def, true}, {"08:00", def, false},
		{"12:30", qunyun.Caps{QuietStart: "12:00", QuietEnd: "14:00"}, true},
		{"14:00", qunyun.Caps{QuietStart: "12:00", QuietEnd: "14:00"}, false},
		{"03:00", qunyun.Caps{QuietStart: "00:00", QuietEnd: "00:00"}, false},
	}
	for _, c := range cases {
		tm, _ := time.ParseInLocation("15:04", c.hhmm, shanghai)
		if got := push.InQuietHours(tm, c.caps); got != c.want {
			t.Errorf("%s with %+v: %v, want %v", c.hhmm, c.caps, got, c.want)
		}
	}
	if push.DaysIn(local(2026, 2, 10, 0, 0)) != 28 || push.DaysIn(local(2028, 2, 10, 0, 0)) != 29 || push.DaysIn(local(2026, 11, 30, 23, 0)) != 30 {
		t.Error("DaysIn is wrong")
	}
}

// request sends one DeliveryRequested through Invoke, as the bus would.
func (e *env) request(r qunyun.DeliveryRequest) error {
	_, err := e.svc.Invoke(e.ctx, event(qunyun.EventDeliveryRequested, e.clk.Now(), r))
	return err
}

func (e *env) stateOf(r qunyun.DeliveryRequest) qunyun.DeliveryRecord {
	e.t.Helper()
	d := qunyun.Delivery{ID: r.ID, TargetKind: r.TargetKind, TargetID: r.TargetID, GroupID: r.GroupID, At: e.clk.Now()}
	if d.TargetKind == qunyun.TargetGroup && d.GroupID == "" {
		d.GroupID = d.TargetID
	}
	it, found, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || !found {
		e.t.Fatalf("delivery %s: found=%v err=%v", r.ID, found, err)
	}
	return it
}

// Every policy, each through a bus request, each with its recorded reason.
func TestPoliciesRecordWhy(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID = "active"; g.Tags = []string{qunyun.TagInternal} })
	e.groups(1, func(g *qunyun.Group) { g.ID = "gone"; g.State = qunyun.GroupDismissed })
	e.groups(1, func(g *qunyun.Group) { g.ID = "paused"; g.State = qunyun.GroupPaused })
	e.groups(1, func(g *qunyun.Group) { g.ID = "noisy"; g.Noisy = true; g.OnNoisy = qunyun.NoisyPause })
	e.groups(1, func(g *qunyun.Group) { g.ID = "customer" })
	e.groups(1, func(g *qunyun.Group) { g.ID = "oa-group"; g.AccountID = oa.ID })
	inline := &qunyun.Content{ID: "x", Kind: qunyun.ContentText, Text: "你好"}
	group := func(id, gid string) qunyun.DeliveryRequest {
		return qunyun.DeliveryRequest{ID: id, Source: "test", TargetKind: qunyun.TargetGroup, TargetID: gid, Content: inline}
	}
	member := func(id, mid string) qunyun.DeliveryRequest {
		return qunyun.DeliveryRequest{ID: id, Source: "test", TargetKind: qunyun.TargetMember, TargetID: mid, GroupID: "oa-group", AccountID: oa.ID, Content: inline}
	}
	// The customer group has used this month's tasks: 30 in November.
	for i := range 30 {
		if ok, err := (dynamo.Deliveries{Table: e.tb}).ReserveCap(e.ctx, qunyun.GroupMonthCap("customer", "2026-11"), 30, time.Hour, fmt.Sprint("task-", i)); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	// o-recent wrote 1 h ago; o-silent never did; o-busy has used 5 replies.
	putProfile(t, e, "o-recent", e.clk.Now().Add(-time.Hour))
	putProfile(t, e, "o-busy", e.clk.Now().Add(-time.Hour))
	for i := range 5 {
		dynamo.Deliveries{Table: e.tb}.ReserveCap(e.ctx, qunyun.CSWindowCap("o-busy", e.clk.Now().Add(-time.Hour)), 5, time.Hour, fmt.Sprint("reply-", i))
	}
	putProfile(t, e, "o-old", e.clk.Now().Add(-49*time.Hour))

	cases := []struct {
		req    qunyun.DeliveryRequest
		state  qunyun.DeliveryState
		reason string
	}{
		{group("ok-1", "active"), qunyun.DeliverySent, ""},
		{group("dismissed", "gone"), qunyun.DeliverySkipped, qunyun.ReasonDismissed},
		{group("paused", "paused"), qunyun.DeliverySkipped, qunyun.ReasonPaused},
		{group("noisy", "noisy"), qunyun.DeliverySkipped, qunyun.ReasonNoisy},
		{group("month", "customer"), qunyun.DeliverySkipped, qunyun.ReasonMonthlyCap},
		{group("ok-2", "active"), qunyun.DeliverySent, ""},
		{group("ok-3", "active"), qunyun.DeliverySent, ""},
		{group("daily", "active"), qunyun.DeliverySkipped, qunyun.ReasonDailyCap},
		{group("oa-cannot-post", "oa-group"), qunyun.DeliverySkipped, qunyun.ReasonNoChannel},
		{member("cs-ok", "o-recent"), qunyun.DeliverySent, ""},
		{member("cs-never", "o-silent"), qunyun.DeliverySkipped, qunyun.ReasonCSWindow},
		{member("cs-old", "o-old"), qunyun.DeliverySkipped, qunyun.ReasonCSWindow},
		{member("cs-quota", "o-busy"), qunyun.DeliverySkipped, qunyun.ReasonCSQuota},
		{member("fatigue-2", "o-recent"), qunyun.DeliverySent, ""},
		{member("fatigue-3", "o-recent"), qunyun.DeliverySkipped, qunyun.ReasonFatigue},
	}
	for _, c := range cases {
		if err := e.request(c.req); err != nil {
			t.Fatalf("%s: %v", c.req.ID, err)
		}
		got := e.stateOf(c.req)
		if got.State != c.state || got.Reason != c.reason {
			t.Errorf("%s: %s/%s, want %s/%s", c.req.ID, got.State, got.Reason, c.state, c.reason)
		}
	}
	// A skip gives its reservations back: the daily counter stays at 3.
	if n, _ := (dynamo.Deliveries{Table: e.tb}).CapCount(e.ctx, qunyun.GroupDayCap("active", "2026-11-23")); n != 3 {
		t.Errorf("daily counter = %d, want 3", n)
	}
	// The inline text went out to the two members sent to.
	if n := e.sendsTo("/cgi-bin/message/custom/send", "你好"); n != 2 {
		t.Errorf("%d customer-service sends, want 2", n)
	}
}

// WeChat's own 45015/45047 become skips with the reason, and the caps the
// send reserved are given back.
func TestPlatformRefusalIsASkip(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID = "oa-group"; g.AccountID = oa.ID })
	putProfile(t, e, "o1", e.clk.Now().Add(-time.Hour))
	e.sbx.Fail("/cgi-bin/message/custom/send", 45047, 1)
	r := qunyun.DeliveryRequest{ID: "r1", Source: "session", TargetKind: qunyun.TargetMember, TargetID: "o1", GroupID: "oa-group", AccountID: oa.ID,
		Content: &qunyun.Content{Kind: qunyun.ContentText, Text: "回顾"}}
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	if got := e.stateOf(r); got.State != qunyun.DeliverySkipped || got.Reason != qunyun.ReasonCSQuota {
		t.Fatalf("state %s/%s, want skipped/cs_quota", got.State, got.Reason)
	}
	if n, _ := (dynamo.Deliveries{Table: e.tb}).CapCount(e.ctx, qunyun.MemberDayCap("o1", "2026-11-23")); n != 0 {
		t.Fatalf("fatigue counter = %d after a refused send, want 0", n)
	}
}

// Urgent alerts ignore quiet hours; the same request twice sends once.
func TestUrgentAndIdempotentRequests(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 23, 30)) // quiet hours
	e.groups(1, nil)
	r := qunyun.DeliveryRequest{ID: "alert-1", Source: "moderation", TargetKind: qunyun.TargetStaff, TargetID: "mod-1", GroupID: "g000", Urgent: true,
		Content: &qunyun.Content{Kind: qunyun.ContentText, Text: "请处理"}}
	for range 2 {
		if err := e.request(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.stateOf(r); got.State != qunyun.DeliverySent {
		t.Fatalf("urgent alert: %s/%s, want sent", got.State, got.Reason)
	}
	if n := len(e.sbx.Calls("/cgi-bin/message/send")); n != 1 {
		t.Fatalf("%d staff messages, want 1", n)
	}
	r.ID, r.Urgent = "not-urgent", false
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	// Held back by quiet hours until 08:00, past its deadline (an hour):
	// not worth sending then.
	if got := e.stateOf(r); got.State != qunyun.DeliverySkipped || got.Reason != qunyun.ReasonExpired {
		t.Fatalf("non-urgent at 23:30: %s/%s, want skipped/expired", got.State, got.Reason)
	}
}

// Bad input gets a clear error and writes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, nil)
	bad := []struct {
		name string
		in   []byte
	}{
		{"not json", []byte("{")},
		{"neither", []byte(`{"hello":1}`)},
		{"tick without time", []byte(`{"kind":"tick"}`)},
		{"no id", event(qunyun.EventDeliveryRequested, e.clk.Now(), map[string]any{"source": "s", "targetKind": "group", "target": "g000", "content": "c"})},
		{"bad kind", event(qunyun.EventDeliveryRequested, e.clk.Now(), map[string]any{"id": "x", "source": "s", "targetKind": "room", "target": "g000", "content": "c"})},
		{"no content", event(qunyun.EventDeliveryRequested, e.clk.Now(), map[string]any{"id": "x", "source": "s", "targetKind": "group", "target": "g000"})},
		{"two contents", event(qunyun.EventDeliveryRequested, e.clk.Now(), map[string]any{"id": "x", "source": "s", "targetKind": "group", "target": "g000", "content": "c", "inline": map[string]string{"text": "t"}})},
		{"unknown type", event("Nope", e.clk.Now(), map[string]any{"id": "x"})},
		{"hit without group", event(qunyun.EventModerationHit, e.clk.Now(), map[string]any{"id": "x"})},
	}
	for _, c := range bad {
		_, err := e.svc.Invoke(e.ctx, c.in)
		if qunyun.ErrorCode(err) != qunyun.EINVALID {
			t.Errorf("%s: err %v, want invalid", c.name, err)
		}
	}
	if items := e.deliveries(e.clk.Now()); len(items) != 0 {
		t.Fatalf("bad input wrote %d deliveries", len(items))
	}
	if n := len(e.sbx.Calls()); n != 0 {
		t.Fatalf("bad input made %d API calls", n)
	}
}

// A moderation hit alerts every moderator of the group, at once.
func TestModerationHitAlertsModerators(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 23, 0))
	e.groups(1, nil)
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-a", Role: qunyun.RoleModerator})
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-b", Role: qunyun.RoleModerator})
	e.put(qunyun.Member{GroupID: "g000", ID: "m1", Role: qunyun.RoleMember})
	hit := map[string]any{"id": "hit-1", "group": "g000", "member": "m1", "memberName": "小王", "text": "加我领红包", "signals": []string{"link", "qrcode"}}
	for range 2 { // redelivered by EventBridge
		if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, e.clk.Now(), hit)); err != nil {
			t.Fatal(err)
		}
	}
	for _, mod := range []string{"mod-a", "mod-b"} {
		if n := e.sendsTo("/cgi-bin/message/send", `"touser":"`+mod+`"`); n != 1 {
			t.Fatalf("%s got %d alerts, want 1", mod, n)
		}
	}
	if n := e.sendsTo("/cgi-bin/message/send", "链接、二维码"); n != 2 {
		t.Fatalf("alert does not name the signals: %d", n)
	}
	if n := e.sendsTo("/cgi-bin/message/send", "加我领红包"); n != 2 {
		t.Fatalf("alert text missing the message: %d", n)
	}
	if n := len(e.sbx.Calls("/cgi-bin/message/send")); n != 2 {
		t.Fatalf("%d staff messages, want 2", n)
	}
}

// Journey: day 0 on MemberJoined, day 3 at 10:00 three days later.
func TestJourneySteps(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 20))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{"new"} })
	e.put(qunyun.Content{ID: "welcome", Kind: qunyun.ContentText, Text: "欢迎{{.Member.Name}}加入{{.Group.Name}}"})
	e.put(qunyun.Content{ID: "guide", Kind: qunyun.ContentText, Text: "入群第三天：使用指南"})
	e.put(qunyun.Plan{ID: "journey", Select: qunyun.GroupSelector{Tags: []string{"new"}},
		Journey: []qunyun.JourneyStep{{Day: 0, Content: "welcome"}, {Day: 3, At: "10:00", Content: "guide"}}})
	joined := map[string]any{"id": "join-1", "account": wecom.ID, "group": "g000", "member": "wm-1", "name": "小李", "at": e.clk.Now()}
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventMemberJoined, e.clk.Now(), joined)); err != nil {
		t.Fatal(err)
	}
	if n := e.sendsTo(addMsgTemplate, "欢迎小李加入社群000"); n != 1 {
		t.Fatalf("welcome tasks = %d, want 1", n)
	}
	e.put(qunyun.Member{GroupID: "g000", ID: "wm-1", Name: "小李", Role: qunyun.RoleMember, JoinedAt: e.clk.Now()})
	e.tick(local(2026, 11, 25, 10, 0)) // day 2: nothing
	e.tick(local(2026, 11, 26, 10, 0)) // day 3
	if n := e.sendsTo(addMsgTemplate, "使用指南"); n != 1 {
		t.Fatalf("day-3 guide tasks = %d, want 1", n)
	}
}

// Links in pushed content become tracked links; opens give reading heat.
func TestTrackedLinksAndHeat(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "art", Kind: qunyun.ContentText, Text: "今日推荐：https://example.com/a?x=1，别错过"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"art"}, Cron: "0 11 * * ? *"})
	e.tick(local(2026, 11, 23, 11, 0))
	calls := e.sbx.Calls("/cgi-bin/appchat/send")
	if len(calls) != 1 {
		t.Fatalf("%d sends", len(calls))
	}
	body := string(calls[0].Body)
	if strings.Contains(body, "example.com") || !strings.Contains(body, publicBase+"/r/") || !strings.Contains(body, "，别错过") {
		t.Fatalf("link not rewritten cleanly: %s", body)
	}
	i := strings.Index(body, "/r/") + 3
	code := body[i : i+16]
	l, found, err := dynamo.Links{Table: e.tb}.Link(e.ctx, code)
	if err != nil || !found || l.URL != "https://example.com/a?x=1" || l.GroupID != "g000" || l.ContentID != "art" || l.DeliveryID == "" {
		t.Fatalf("link %s = %+v found=%v err=%v", code, l, found, err)
	}
	// Opens as the callback records them (docs/data-model.md): a group
	// link names no member; WeChat's share signal marks a share.
	for i, o := range []qunyun.LinkOpen{{}, {}, {From: "groupmessage"}, {}} {
		o.GroupID, o.ContentID, o.DeliveryID, o.At = "g000", "art", l.DeliveryID, e.clk.Now()
		putOpen(t, e, o, i)
	}
	h, err := dynamo.Links{Table: e.tb}.ContentHeat(e.ctx, "art", "2026-11-23", "2026-11-23")
	if err != nil || h != (qunyun.Heat{Opens: 4, Readers: 4, Shares: 1}) {
		t.Fatalf("content heat = %+v, %v", h, err)
	}
	gh, err := dynamo.Links{Table: e.tb}.GroupHeat(e.ctx, "g000", e.clk.Now(), e.clk.Now())
	if err != nil || gh != h {
		t.Fatalf("group heat = %+v, %v", gh, err)
	}
}

// putProfile records a 1:1 message of mid to the OA at last, as the
// callback does: its customer-service window starts there.
func putProfile(t *testing.T, e *env, mid string, last time.Time) {
	t.Helper()
	m := qunyun.Message{ID: "msg-" + mid, AccountID: oa.ID, Channel: qunyun.ChannelOA, MemberID: mid, Kind: qunyun.KindText, Text: "你好", At: last}
	if _, _, err := (dynamo.Log{Table: e.tb}).RecordMessage(context.Background(), m, qunyun.Followup{}); err != nil {
		t.Fatal(err)
	}
}

func putOpen(t *testing.T, e *env, o qunyun.LinkOpen, i int) {
	t.Helper()
	date := o.At.UTC().Format(time.DateOnly)
	err := e.tb.Put(context.Background(), struct {
		dynamo.Keys
		qunyun.LinkOpen
	}{dynamo.Keys{
		PK: "GROUP#" + o.GroupID + "#D#" + date, SK: "OPEN#" + o.At.Format("20060102150405") + "#" + string(rune('a'+i)),
		GSI1PK: "CONTENT#" + o.ContentID + "#OPENS", GSI1SK: date + "#" + o.GroupID, Type: "LinkOpen",
	}, o})
	if err != nil {
		t.Fatal(err)
	}
}

// A request re-published after UTC midnight (a session step retried a
// minute later) is the same delivery: the group is posted to once.
func TestRequestRetriedAcrossUTCMidnightSendsOnce(t *testing.T) {
	e := newEnv(t, local(2026, 11, 24, 7, 59)) // 23:59 UTC on the 23rd
	e.groups(1, func(g *qunyun.Group) {
		g.Tags = []string{qunyun.TagInternal}
		g.Caps.QuietStart, g.Caps.QuietEnd = "00:00", "00:00"
	})
	r := qunyun.DeliveryRequest{ID: "session/s1/open/g000", Source: "session", TargetKind: qunyun.TargetGroup, TargetID: "g000", GroupID: "g000",
		Content: &qunyun.Content{Kind: qunyun.ContentText, Text: "开始啦"}}
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(local(2026, 11, 24, 8, 1)) // 00:01 UTC on the 24th
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"g000"`); n != 1 {
		t.Fatalf("group posted %d times, want 1", n)
	}
	if items := e.deliveries(local(2026, 11, 24, 7, 59), local(2026, 11, 24, 8, 1)); len(items) != 1 {
		t.Fatalf("%d deliveries, want 1", len(items))
	}
}
