package push_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestClassOf(t *testing.T) {
	cases := []struct {
		d    qunyun.Delivery
		want qunyun.DeliveryClass
	}{
		{qunyun.Delivery{Source: push.SourceModeration, TargetKind: qunyun.TargetStaff}, qunyun.ClassAlert},
		{qunyun.Delivery{Source: push.SourceAlert, TargetKind: qunyun.TargetStaff}, qunyun.ClassAlert},
		{qunyun.Delivery{Source: qunyun.SourceSession, TargetKind: qunyun.TargetStaff}, qunyun.ClassStaff},
		{qunyun.Delivery{Source: qunyun.SourceSession, TargetKind: qunyun.TargetGroup}, qunyun.ClassSession},
		{qunyun.Delivery{Source: qunyun.SourceSession, TargetKind: qunyun.TargetMember}, qunyun.ClassSession},
		{qunyun.Delivery{Source: "p-newcomer", Slot: "journey:day0:g1", TargetKind: qunyun.TargetMember}, qunyun.ClassWelcome},
		{qunyun.Delivery{Source: "p-lunch", Slot: "2026-11-23T03:00:00Z", TargetKind: qunyun.TargetGroup}, qunyun.ClassContent},
		{qunyun.Delivery{Source: qunyun.SourceContest, TargetKind: qunyun.TargetMember}, qunyun.ClassContent},
		{qunyun.Delivery{Source: "p-lunch", Class: qunyun.ClassWelcome}, qunyun.ClassWelcome},
		{qunyun.Delivery{Source: qunyun.SourceReply, TargetKind: qunyun.TargetGroup}, qunyun.ClassReply},
	}
	for _, c := range cases {
		if got := push.ClassOf(c.d); got != c.want {
			t.Errorf("%+v: %s, want %s", c.d, got, c.want)
		}
	}
}

// Defect 1 of issue #15: SOP content filled the group's daily cap and the
// session's recap was skipped daily_cap. Session messages have their own
// budget now.
func TestSessionMessagesDoNotShareTheContentCap(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID = "g"; g.Tags = []string{qunyun.TagInternal} })
	content := func(id string) qunyun.DeliveryRequest {
		return qunyun.DeliveryRequest{ID: id, Source: "p-lunch", TargetKind: qunyun.TargetGroup, TargetID: "g",
			Content: &qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "午餐"}}
	}
	session := func(step string) qunyun.DeliveryRequest {
		return qunyun.DeliveryRequest{ID: "session/s1/" + step + "/g", Source: qunyun.SourceSession, TargetKind: qunyun.TargetGroup, TargetID: "g",
			Content: &qunyun.Content{ID: "session-" + step, Kind: qunyun.ContentText, Text: step}}
	}
	for _, id := range []string{"lunch", "tips", "article"} {
		if err := e.request(content(id)); err != nil {
			t.Fatal(err)
		}
	}
	extra := content("coupon")
	if err := e.request(extra); err != nil {
		t.Fatal(err)
	}
	if got := e.stateOf(extra); got.State != qunyun.DeliverySkipped || got.Reason != qunyun.ReasonDailyCap {
		t.Fatalf("fourth content: %s/%s, want skipped/daily_cap", got.State, got.Reason)
	}
	for _, step := range []string{"opening", "closing", "recap"} {
		e.clk.Set(e.clk.Now().Add(20 * time.Minute))
		r := session(step)
		if err := e.request(r); err != nil {
			t.Fatal(err)
		}
		if got := e.stateOf(r); got.State != qunyun.DeliverySent || got.Class != qunyun.ClassSession {
			t.Errorf("session %s: %s/%s class %s, want sent, class session", step, got.State, got.Reason, got.Class)
		}
	}
	// Each class counted in its own budget.
	if n, _ := (dynamo.Deliveries{Table: e.tb}).CapCount(e.ctx, qunyun.GroupDayCap("g", "2026-11-23")); n != 3 {
		t.Errorf("content counter = %d, want 3", n)
	}
	if n, _ := (dynamo.Deliveries{Table: e.tb}).CapCount(e.ctx, qunyun.GroupSessionDayCap("g", "2026-11-23")); n != 3 {
		t.Errorf("session counter = %d, want 3", n)
	}
}

// The platform's monthly cap of a WeCom customer group binds every class:
// SOP content stops a third short of it, leaving that to sessions, and no
// class ever passes it.
func TestMonthlyPlatformCapBindsEveryClass(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID = "cg"; g.Caps.DailyMax = 10; g.Caps.SessionMax = 20 })
	month := qunyun.GroupMonthCap("cg", "2026-11")
	reserve := push.MonthReserve(local(2026, 11, 23, 15, 0)) // 10 of November's 30
	for i := range 30 - reserve {
		if ok, err := (dynamo.Deliveries{Table: e.tb}).ReserveCap(e.ctx, month, 30, time.Hour, fmt.Sprint("other-", i)); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	req := func(id, source string) qunyun.DeliveryRequest {
		return qunyun.DeliveryRequest{ID: id, Source: source, TargetKind: qunyun.TargetGroup, TargetID: "cg",
			Content: &qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: id}}
	}
	sop := req("sop", "p-lunch")
	if err := e.request(sop); err != nil {
		t.Fatal(err)
	}
	if got := e.stateOf(sop); got.State != qunyun.DeliverySkipped || got.Reason != qunyun.ReasonMonthlyCap {
		t.Errorf("content past its share: %s/%s, want skipped/monthly_cap", got.State, got.Reason)
	}
	for i := range reserve {
		r := req("session/s1/recap/"+string(rune('a'+i)), qunyun.SourceSession)
		if err := e.request(r); err != nil {
			t.Fatal(err)
		}
		if got := e.stateOf(r); got.State != qunyun.DeliveryTaskCreated {
			t.Fatalf("session message %d within the month: %s/%s, want task_created", i, got.State, got.Reason)
		}
	}
	last := req("session/s9/recap/cg", qunyun.SourceSession)
	if err := e.request(last); err != nil {
		t.Fatal(err)
	}
	if got := e.stateOf(last); got.State != qunyun.DeliverySkipped || got.Reason != qunyun.ReasonMonthlyCap {
		t.Errorf("session message past the platform cap: %s/%s, want skipped/monthly_cap", got.State, got.Reason)
	}
	if n, _ := (dynamo.Deliveries{Table: e.tb}).CapCount(e.ctx, month); n != 30 {
		t.Errorf("month counter = %d, want the platform's 30", n)
	}
}

// Defect 2 of issue #15: a noisy flag silently blocked every group
// delivery the next day, session messages and the VIP coupon included.
// Now it only thins SOP content, as the group's onNoisy says.
func TestNoisyFlagThinsOnlyContent(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0)) // day 20415 since the epoch: even
	for _, a := range qunyun.NoisyActions {
		e.groups(1, func(g *qunyun.Group) {
			g.ID, g.Noisy, g.OnNoisy, g.Tags = string(a), true, a, []string{qunyun.TagInternal, "new"}
		})
	}
	e.put(qunyun.Content{ID: "welcome", Kind: qunyun.ContentText, Text: "欢迎{{.Member.Name}}"})
	e.put(qunyun.Plan{ID: "journey", Select: qunyun.GroupSelector{Tags: []string{"new"}},
		Journey: []qunyun.JourneyStep{{Day: 0, Content: "welcome"}}})
	req := func(id, source, gid string) qunyun.DeliveryRequest {
		return qunyun.DeliveryRequest{ID: id + "-" + gid, Source: source, TargetKind: qunyun.TargetGroup, TargetID: gid,
			Content: &qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: id}}
	}
	want := map[qunyun.NoisyAction][2]qunyun.DeliveryState{ // content on an even day, on an odd day
		qunyun.NoisyAdvise: {qunyun.DeliverySent, qunyun.DeliverySent},
		qunyun.NoisyHalve:  {qunyun.DeliverySent, qunyun.DeliverySkipped},
		qunyun.NoisyPause:  {qunyun.DeliverySkipped, qunyun.DeliverySkipped},
	}
	for _, a := range qunyun.NoisyActions {
		gid := string(a)
		for day := range 2 {
			e.clk.Set(local(2026, 11, 23+day, 15, 0))
			sop := req(fmt.Sprintf("coupon%d", day), "p-vip-benefit", gid)
			session := req(fmt.Sprintf("session/s%d/opening", day), qunyun.SourceSession, gid)
			for _, r := range []qunyun.DeliveryRequest{sop, session} {
				if err := e.request(r); err != nil {
					t.Fatal(err)
				}
			}
			if got := e.stateOf(sop); got.State != want[a][day] || (got.State == qunyun.DeliverySkipped && got.Reason != qunyun.ReasonNoisy) {
				t.Errorf("%s, day %d: SOP content %s/%s, want %s", a, day, got.State, got.Reason, want[a][day])
			}
			if got := e.stateOf(session); got.State != qunyun.DeliverySent {
				t.Errorf("%s, day %d: session message %s/%s, want sent", a, day, got.State, got.Reason)
			}
		}
		// A welcome is a 1:1 task: the flag never holds it back.
		joined := map[string]any{"id": "join-" + gid, "account": wecom.ID, "group": gid, "member": "wm-" + gid, "name": "小李", "at": e.clk.Now()}
		if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventMemberJoined, e.clk.Now(), joined)); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sendsTo(addMsgTemplate, "欢迎小李"); n != len(qunyun.NoisyActions) {
		t.Errorf("welcomes in noisy groups = %d, want %d", n, len(qunyun.NoisyActions))
	}
}

// Defect 3 of issue #15: the owner-confirmed task of a "还剩 5 分钟" notice
// went out 68 minutes after the session ended, and an unconfirmed one was
// ended at quiet hours as quiet_hours. A session notice's deadline is the
// session's end: the task is withdrawn then, recorded expired, and a
// request that comes after it is not sent at all.
func TestSessionNoticeEndsAtItsDeadline(t *testing.T) {
	end := local(2026, 11, 23, 21, 0)
	e := newEnv(t, end.Add(-5*time.Minute))
	e.groups(1, nil) // a WeCom customer group: every push is a task the owner confirms
	closing := qunyun.DeliveryRequest{ID: "session/s1/closing/g000", Source: qunyun.SourceSession, TargetKind: qunyun.TargetGroup,
		TargetID: "g000", Deadline: end, Content: &qunyun.Content{ID: "session-closing", Kind: qunyun.ContentText, Text: "还剩 5 分钟"}}
	if err := e.request(closing); err != nil {
		t.Fatal(err)
	}
	d := e.stateOf(closing)
	if d.State != qunyun.DeliveryTaskCreated || !d.Deadline.Equal(end) {
		t.Fatalf("closing notice: %s, deadline %s; want a task until the session's end", d.State, d.Deadline)
	}
	e.ticksUntil(end.Add(-4*time.Minute), end.Add(time.Minute), time.Minute)
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d.Delivery)
	if err != nil || got.State != qunyun.DeliveryExpired || got.Reason != qunyun.ReasonExpired {
		t.Fatalf("after the session's end: %s/%s %v, want expired/expired", got.State, got.Reason, err)
	}
	if len(e.sbx.Calls(cancelPath)) != 1 {
		t.Errorf("%d cancels, want the task withdrawn once", len(e.sbx.Calls(cancelPath)))
	}
	if e.sbx.Confirm(d.TaskID) {
		t.Error("the owner could still confirm the withdrawn task")
	}
	if n := monthCount(t, e); n != 0 {
		t.Errorf("month counter = %d, want the withdrawn task's back", n)
	}
	// The recap of a session whose window is long past: too late to send.
	late := qunyun.DeliveryRequest{ID: "session/s0/opening/g000", Source: qunyun.SourceSession, TargetKind: qunyun.TargetGroup,
		TargetID: "g000", Deadline: end.Add(-time.Hour), Content: &qunyun.Content{ID: "session-opening", Kind: qunyun.ContentText, Text: "开始了"}}
	if err := e.request(late); err != nil {
		t.Fatal(err)
	}
	if got := e.stateOf(late); got.State != qunyun.DeliverySkipped || got.Reason != qunyun.ReasonExpired {
		t.Errorf("an opening asked for after its session: %s/%s, want skipped/expired", got.State, got.Reason)
	}
}

// Defect 4 of issue #15: quiet hours dropped welcomes and slots. A
// delivery quiet hours hold back is deferred to their end when its
// deadline allows, and skipped expired when it does not.
func TestQuietHoursDeferWhatIsStillWorthSending(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 22, 50))
	e.groups(1, func(g *qunyun.Group) { g.ID = "g"; g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "welcome", Kind: qunyun.ContentText, Text: "欢迎{{.Member.Name}}"})
	e.put(qunyun.Content{ID: "punch", Kind: qunyun.ContentText, Text: "打卡提醒"})
	e.put(qunyun.Content{ID: "late", Kind: qunyun.ContentText, Text: "夜宵推荐"})
	e.put(qunyun.Plan{ID: "journey", Journey: []qunyun.JourneyStep{{Day: 0, Content: "welcome"}}})
	e.put(qunyun.Plan{ID: "p-punch", Contents: []string{"punch"}, Cron: "0 7 * * ? *"})
	e.put(qunyun.Plan{ID: "p-late", Contents: []string{"late"}, Cron: "30 23 * * ? *"})

	e.tick(local(2026, 11, 23, 22, 50))
	joined := map[string]any{"id": "join-1", "account": wecom.ID, "group": "g", "member": "wm-1", "name": "小李", "at": e.clk.Now()}
	out, err := e.svc.HandleEvent(e.ctx, qunyun.EventMemberJoined, mustJSON(t, joined), e.clk.Now())
	if err != nil || out.Deferred != 1 || len(out.Skipped) != 0 {
		t.Fatalf("welcome at 22:50: %v, %v; want deferred", out, err)
	}
	e.ticksUntil(local(2026, 11, 23, 23, 0), local(2026, 11, 24, 7, 50), 10*time.Minute)
	if n := len(e.sbx.Calls(addMsgTemplate)) + len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 0 {
		t.Fatalf("%d sends in quiet hours", n)
	}
	e.ticksUntil(local(2026, 11, 24, 7, 51), local(2026, 11, 24, 8, 2), time.Minute)

	byPlan := map[string]qunyun.DeliveryRecord{}
	for _, it := range e.deliveries(local(2026, 11, 23, 22, 50), local(2026, 11, 24, 8, 0)) {
		byPlan[it.Source] = it
	}
	if w := byPlan["journey"]; w.State != qunyun.DeliveryTaskCreated || w.Class != qunyun.ClassWelcome {
		t.Errorf("welcome after the night: %s/%s, want its task made at 08:00", w.State, w.Reason)
	}
	if n := e.sendsTo(addMsgTemplate, "欢迎小李"); n != 1 {
		t.Errorf("welcome tasks = %d, want 1", n)
	}
	if p := byPlan["p-punch"]; p.State != qunyun.DeliverySent || e.sendsTo("/cgi-bin/appchat/send", "打卡提醒") != 1 {
		t.Errorf("07:00 slot: %s/%s, want sent at 08:00", p.State, p.Reason)
	}
	if l := byPlan["p-late"]; l.State != qunyun.DeliverySkipped || l.Reason != qunyun.ReasonExpired {
		t.Errorf("23:30 slot: %s/%s, want skipped/expired (its day ends in the quiet hours)", l.State, l.Reason)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
