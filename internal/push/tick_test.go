package push_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

const addMsgTemplate = "/cgi-bin/externalcontact/add_msg_template"

// 200 groups, a plan at 11:00 Asia/Shanghai: exactly 200 deliveries, all at
// 11:00, one task per group; nothing at the minutes around it.
func TestTwoHundredGroupsAtElevenShanghai(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 10, 57))
	groups := e.groups(200, nil)
	e.put(qunyun.Content{ID: "lunch", Kind: qunyun.ContentText, Text: "{{.Group.Name}}：午餐前的健康小贴士"})
	e.put(qunyun.Plan{ID: "before-lunch", Contents: []string{"lunch"}, Cron: "0 11 * * ? *"})

	for m := local(2026, 11, 23, 10, 58); !m.After(local(2026, 11, 23, 11, 2)); m = m.Add(time.Minute) {
		rep := e.tick(m)
		want := 0
		if m.Equal(local(2026, 11, 23, 11, 0)) {
			want = 200
		}
		if rep.Deliveries != want {
			t.Fatalf("%s: %d deliveries, want %d", m.Format("15:04"), rep.Deliveries, want)
		}
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != 200 {
		t.Fatalf("%d deliveries stored, want 200", len(items))
	}
	perGroup := map[string]int{}
	for _, it := range items {
		perGroup[it.GroupID]++
		if !it.At.Equal(local(2026, 11, 23, 11, 0)) {
			t.Fatalf("delivery %s due at %s, want 11:00 Shanghai", it.ID, it.At.In(shanghai))
		}
		if it.State != qunyun.DeliveryTaskCreated || it.TaskID == "" {
			t.Fatalf("delivery %s: state %s task %q, want task_created", it.ID, it.State, it.TaskID)
		}
	}
	for _, g := range groups {
		if perGroup[g.ID] != 1 {
			t.Fatalf("group %s has %d deliveries, want 1", g.ID, perGroup[g.ID])
		}
		if n := e.sendsTo(addMsgTemplate, `"`+g.ID+`"`); n != 1 {
			t.Fatalf("group %s got %d tasks, want 1", g.ID, n)
		}
	}
	// The template was filled in per group.
	if n := e.sendsTo(addMsgTemplate, "社群007：午餐前"); n != 1 {
		t.Fatalf("rendered text for g007 found %d times, want 1", n)
	}
	// Queryable per plan and per group.
	byPlan, err := dynamo.Deliveries{Table: e.tb}.PlanDeliveries(e.ctx, "before-lunch", "2026-11-23")
	if err != nil || len(byPlan) != 200 {
		t.Fatalf("PlanDeliveries = %d, %v; want 200", len(byPlan), err)
	}
	byGroup, err := dynamo.Deliveries{Table: e.tb}.GroupDayDeliveries(e.ctx, "g042", "2026-11-23")
	if err != nil || len(byGroup) != 1 {
		t.Fatalf("GroupDayDeliveries = %d, %v; want 1", len(byGroup), err)
	}
}

// An idle tick writes no metric line: CloudWatch bills each custom metric
// for every hour it receives a value, and a tick runs every minute. The tick
// that does work still reports it.
func TestIdleTickEmitsNoMetric(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 10, 58))
	e.groups(2, nil)
	e.put(qunyun.Content{ID: "lunch", Kind: qunyun.ContentText, Text: "午餐前的健康小贴士"})
	e.put(qunyun.Plan{ID: "before-lunch", Contents: []string{"lunch"}, Cron: "0 11 * * ? *"})

	for _, m := range []time.Time{local(2026, 11, 23, 10, 58), local(2026, 11, 23, 10, 59)} {
		if rep := e.tick(m); rep.Deliveries != 0 {
			t.Fatalf("%s: %d deliveries, want an idle minute", m.In(shanghai).Format("15:04"), rep.Deliveries)
		}
	}
	if out := e.metrics.String(); out != "" {
		t.Fatalf("idle ticks wrote metrics:\n%s", out)
	}
	e.tick(local(2026, 11, 23, 11, 0))
	if out := e.metrics.String(); !strings.Contains(out, `"TasksCreated":2`) || strings.Contains(out, `"DeliveriesFailed"`) {
		t.Fatalf("the 11:00 tick's metrics: want TasksCreated 2 and no zero counts, got:\n%s", out)
	}
}

// No send in quiet hours, none over the daily cap, in any group, over a day
// of ticks with plans that ask for more than the caps allow.
func TestQuietHoursAndDailyCapHold(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 0, 0))
	e.groups(20, func(g *qunyun.Group) {
		g.Tags = []string{qunyun.TagInternal} // appchat: sent at once
	})
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	// Every two hours: 12 slots a day, 5 of them in quiet hours (22, 0, 2, 4, 6).
	e.put(qunyun.Plan{ID: "often", Contents: []string{"c"}, Cron: "0 0/2 * * ? *"})

	for m := local(2026, 11, 23, 0, 0); m.Before(local(2026, 11, 24, 0, 0)); m = m.Add(30 * time.Minute) {
		e.tick(m)
	}
	items := e.deliveries(local(2026, 11, 23, 0, 0), local(2026, 11, 23, 23, 59))
	sent := map[string]int{}
	reasons := map[string]int{}
	for _, it := range items {
		local := it.SendStartedAt.In(shanghai)
		switch it.State {
		case qunyun.DeliverySent:
			sent[it.GroupID]++
			if h := local.Hour(); h >= 22 || h < 8 {
				t.Fatalf("sent at %s: inside quiet hours", local.Format("15:04"))
			}
		case qunyun.DeliverySkipped:
			reasons[it.Reason]++
		default:
			t.Fatalf("delivery %s in state %s", it.ID, it.State)
		}
	}
	for g, n := range sent {
		if n != qunyun.DefaultDailyMax {
			t.Fatalf("group %s sent %d, want the cap %d", g, n, qunyun.DefaultDailyMax)
		}
		count, err := dynamo.Deliveries{Table: e.tb}.CapCount(e.ctx, qunyun.GroupDayCap(g, "2026-11-23"))
		if err != nil || count != qunyun.DefaultDailyMax {
			t.Fatalf("cap counter of %s = %d, %v", g, count, err)
		}
	}
	// 12 slots: 0, 2, 4 and 6 deferred to 08:00, where they and the 08:00
	// slot take the day's 3; the other 8 are capped; 22:00 cannot wait
	// past its day's end (expired).
	if reasons[qunyun.ReasonExpired] != 20*1 || reasons[qunyun.ReasonDailyCap] != 20*8 || len(reasons) != 2 {
		t.Fatalf("skip reasons = %v, want expired 20, daily_cap 160", reasons)
	}
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 20*3 {
		t.Fatalf("sandbox saw %d appchat sends, want 60", n)
	}
}

// Two invocations racing on the same slot still give one delivery per group.
func TestRacingTicksDeliverOncePerGroup(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(50, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})

	slot := local(2026, 11, 23, 11, 0)
	var wg sync.WaitGroup
	reps := make([]push.TickReport, 3)
	for i := range reps {
		svc := e.newService() // separate processes: own memory, shared table
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := svc.Tick(e.ctx, slot)
			if err != nil {
				t.Error(err)
			}
			reps[i] = rep
		}()
	}
	wg.Wait()
	claimed := 0
	for _, r := range reps {
		if r.Outcome != nil {
			claimed += r.Claimed
		}
	}
	if claimed != 50 {
		t.Fatalf("claims won across racing ticks = %d, want 50", claimed)
	}
	for i := range 50 {
		gid := "g0" + pad2(i)
		if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"`+gid+`"`); n != 1 {
			t.Fatalf("group %s got %d posts, want 1", gid, n)
		}
	}
	// A retry of the same scheduled time is a no-op.
	rep := e.tick(slot)
	if !rep.AlreadyDone {
		t.Fatalf("second tick for the same time was not recognised as done")
	}
}

func pad2(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

// A crash between send and confirm leaves the delivery unknown, raises the
// metric and an alert, and the message is never sent again.
func TestCrashBetweenSendAndConfirm(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-1", Role: qunyun.RoleModerator, JoinedAt: local(2026, 1, 2, 0, 0)})
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})

	push.CrashAfterSend(e.svc, func(qunyun.Delivery) bool { return true })
	if _, err := e.svc.Tick(e.ctx, local(2026, 11, 23, 11, 0)); err == nil {
		t.Fatal("crashed tick reported success")
	}
	push.CrashAfterSend(e.svc, nil)
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 1 {
		t.Fatalf("%d sends before the crash, want 1", n)
	}
	// The next ticks: one minute later the claim is too fresh to judge;
	// after StaleAfter it becomes unknown.
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 10)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != 1 || items[0].State != qunyun.DeliveryUnknown || items[0].Reason != qunyun.ReasonCrashed {
		t.Fatalf("deliveries = %+v, want one unknown", items)
	}
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 1 {
		t.Fatalf("%d sends after recovery, want still 1: an unknown delivery was re-sent", n)
	}
	if !strings.Contains(e.metrics.String(), `"DeliveryUnknown":1`) || !strings.Contains(e.metrics.String(), `"Stage":"test"`) {
		t.Fatalf("no DeliveryUnknown metric with the Stage dimension: %s", e.metrics.String())
	}
	alerts := e.bus.of(qunyun.EventDeliveryRequested)
	if len(alerts) != 1 {
		t.Fatalf("%d alert requests, want 1", len(alerts))
	}
	req := alerts[0].Detail.(qunyun.DeliveryRequest)
	if req.TargetKind != qunyun.TargetStaff || req.TargetID != "mod-1" || !req.Urgent || !strings.Contains(req.Content.Text, "未知") {
		t.Fatalf("alert = %+v, want an urgent staff message to mod-1", req)
	}
	finished := e.bus.of(qunyun.EventDeliveryFinished)
	if len(finished) != 1 || finished[0].Detail.(qunyun.DeliveryFinished).State != qunyun.DeliveryUnknown {
		t.Fatalf("DeliveryFinished events = %+v", finished)
	}
}

// A claim whose process died before the send is resumed, not lost.
func TestClaimAbandonedBeforeSendIsResumed(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	d := qunyun.Delivery{
		ID: "abandoned", Source: "p", TargetKind: qunyun.TargetGroup, TargetID: "g000", GroupID: "g000",
		AccountID: wecom.ID, ContentID: "c", At: local(2026, 11, 23, 11, 0),
	}
	if ok, _, err := (dynamo.Deliveries{Table: e.tb}).ClaimDelivery(e.ctx, qunyun.DeliveryRecord{Delivery: d}); err != nil || !ok {
		t.Fatal(ok, err)
	}
	e.tick(local(2026, 11, 23, 11, 1)) // too fresh
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 0 {
		t.Fatalf("fresh claim was taken over")
	}
	e.tick(local(2026, 11, 23, 11, 5))
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliverySent {
		t.Fatalf("abandoned claim: %s %v, want sent", got.State, err)
	}
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 1 {
		t.Fatalf("%d sends, want 1", n)
	}
}

// A late tick catches up on the minutes it missed; each minute once.
func TestLateTickCatchesUp(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 10, 50))
	e.groups(3, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})
	e.tick(local(2026, 11, 23, 10, 50))
	rep := e.tick(local(2026, 11, 23, 11, 7)) // the scheduler missed 10:51–11:06
	if rep.Minutes != 17 || rep.Deliveries != 3 || rep.Sent != 3 {
		t.Fatalf("catch-up tick: %d minutes, %d deliveries, %d sent; want 17, 3, 3", rep.Minutes, rep.Deliveries, rep.Sent)
	}
	rep = e.tick(local(2026, 11, 23, 11, 8))
	if rep.Minutes != 1 || rep.Deliveries != 0 {
		t.Fatalf("next tick: %d minutes, %d deliveries; want 1, 0", rep.Minutes, rep.Deliveries)
	}
}

// Plan selection by tags, purpose, size and age; start, end and pause.
func TestPlanSelectionAndWindow(t *testing.T) {
	now := local(2026, 11, 23, 11, 0)
	g := qunyun.Group{ID: "g", Tags: []string{"catering", "shanghai"}, Purpose: qunyun.PurposeVIP, MemberCount: 40, CreatedAt: now.AddDate(0, 0, -30)}
	cases := []struct {
		name string
		sel  qunyun.GroupSelector
		want bool
	}{
		{"empty matches all", qunyun.GroupSelector{}, true},
		{"any tag", qunyun.GroupSelector{Tags: []string{"x", "catering"}}, true},
		{"no tag", qunyun.GroupSelector{Tags: []string{"x"}}, false},
		{"purpose", qunyun.GroupSelector{Purposes: []qunyun.Purpose{qunyun.PurposeVIP}}, true},
		{"other purpose", qunyun.GroupSelector{Purposes: []qunyun.Purpose{qunyun.PurposeShelf}}, false},
		{"size in range", qunyun.GroupSelector{MinSize: 30, MaxSize: 50}, true},
		{"too small", qunyun.GroupSelector{MinSize: 41}, false},
		{"too big", qunyun.GroupSelector{MaxSize: 39}, false},
		{"old enough", qunyun.GroupSelector{MinAgeDays: 30}, true},
		{"too young", qunyun.GroupSelector{MinAgeDays: 31}, false},
		{"too old", qunyun.GroupSelector{MaxAgeDays: 29}, false},
		{"listed", qunyun.GroupSelector{Groups: []string{"g"}}, true},
		{"not listed", qunyun.GroupSelector{Groups: []string{"h"}}, false},
	}
	for _, c := range cases {
		if got := push.Selects(c.sel, g, now); got != c.want {
			t.Errorf("%s: Selects = %v, want %v", c.name, got, c.want)
		}
	}
	p := qunyun.Plan{Start: now, End: now.Add(time.Hour)}
	if !p.Active(now) || p.Active(now.Add(-time.Minute)) || p.Active(now.Add(time.Hour)) {
		t.Error("plan window: start is inclusive, end exclusive")
	}
	p.Paused = true
	if p.Active(now) {
		t.Error("a paused plan is active")
	}
}

// A paused plan sends nothing; resuming it sends at the next slot.
func TestPauseAndResume(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(2, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *", Paused: true})
	if rep := e.tick(local(2026, 11, 23, 11, 0)); rep.Deliveries != 0 {
		t.Fatalf("paused plan expanded %d deliveries", rep.Deliveries)
	}
	if _, err := (dynamo.Catalog{Table: e.tb}).UpdatePlan(e.ctx, "p", func(p *qunyun.Plan, _ bool) error { p.Paused = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if rep := e.tick(local(2026, 11, 24, 11, 0)); rep.Sent != 2 {
		t.Fatalf("resumed plan sent %d, want 2", rep.Sent)
	}
}

// Contents rotate one a day for a daily plan.
func TestContentRotation(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	for _, id := range []string{"a", "b", "c"} {
		e.put(qunyun.Content{ID: id, Kind: qunyun.ContentText, Text: "content-" + id})
	}
	e.put(qunyun.Plan{ID: "p", Contents: []string{"a", "b", "c"}, Cron: "0 11 * * ? *"})
	var order []string
	for day := range 4 {
		e.tick(local(2026, 11, 23+day, 11, 0))
		calls := e.sbx.Calls("/cgi-bin/appchat/send")
		body := string(calls[len(calls)-1].Body)
		i := strings.Index(body, "content-")
		order = append(order, body[i+8:i+9])
	}
	if order[0] == order[1] || order[1] == order[2] || order[0] != order[3] {
		t.Fatalf("daily rotation = %v, want three different then the first again", order)
	}
}

// Throttled past the back-off: not sent, so retried later (within the
// retry window), and failed with the reason once the window is over.
func TestThrottledDeliveryIsRetriedThenFails(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(2, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})
	e.sbx.Fail("/cgi-bin/appchat/send", 45009, 4) // two sends × (try + one back-off retry)
	rep := e.tick(local(2026, 11, 23, 11, 0))
	if rep.Deferred != 2 || rep.Sent != 0 {
		t.Fatalf("first tick: %s, want 2 deferred", rep.Outcome)
	}
	if n, _ := (dynamo.Deliveries{Table: e.tb}).CapCount(e.ctx, qunyun.GroupDayCap("g000", "2026-11-23")); n != 0 {
		t.Fatalf("a deferred delivery kept its cap reservation (%d)", n)
	}
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 4)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	for _, it := range e.deliveries(local(2026, 11, 23, 11, 0)) {
		if it.State != qunyun.DeliverySent {
			t.Fatalf("%s: %s/%s after the throttle cleared, want sent", it.GroupID, it.State, it.Reason)
		}
	}
	if n := e.sendsTo("/cgi-bin/appchat/send", "g000"); n != 1 {
		t.Fatalf("g000 got %d posts, want 1", n)
	}

	// Next day WeChat keeps refusing: after the retry window, failed.
	e.sbx.Fail("/cgi-bin/appchat/send", 45009, 1000)
	for m := local(2026, 11, 24, 11, 0); !m.After(local(2026, 11, 24, 12, 10)); m = m.Add(5 * time.Minute) {
		e.tick(m)
	}
	for _, it := range e.deliveries(local(2026, 11, 24, 11, 0)) {
		if it.State != qunyun.DeliveryFailed || it.Reason != qunyun.ReasonRateLimit {
			t.Fatalf("%s: %s/%s, want failed/rate_limited", it.GroupID, it.State, it.Reason)
		}
	}
}

// The plan's cron runs in each group's own time zone.
func TestCronInEachGroupsTimeZone(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID = "sh"; g.Tags = []string{qunyun.TagInternal} })
	e.groups(1, func(g *qunyun.Group) {
		g.ID = "berlin"
		g.TimeZone = "Europe/Berlin"
		g.Tags = []string{qunyun.TagInternal}
	})
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "午餐"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "cron(0 11 * * ? *)"})
	berlin11 := time.Date(2026, 11, 23, 11, 0, 0, 0, qunyun.LoadLocation("Europe/Berlin"))
	for _, m := range []time.Time{local(2026, 11, 23, 11, 0), berlin11} {
		e.tick(m)
	}
	if e.sendsTo("/cgi-bin/appchat/send", `"chatid":"sh"`) != 1 || e.sendsTo("/cgi-bin/appchat/send", `"chatid":"berlin"`) != 1 {
		t.Fatalf("each group wants one post at its own 11:00: %+v", e.sbx.Calls("/cgi-bin/appchat/send"))
	}
	for _, c := range e.sbx.Calls("/cgi-bin/appchat/send") {
		want := local(2026, 11, 23, 11, 0)
		if strings.Contains(string(c.Body), "berlin") {
			want = berlin11
		}
		if !c.At.Equal(want) {
			t.Fatalf("post %s at %s, want %s", c.Body, c.At, want)
		}
	}
}

// A content template that does not parse fails the delivery with the
// reason, sends nothing, and gives the cap back.
func TestBrokenTemplateFails(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "{{.Group.Name"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})
	e.tick(local(2026, 11, 23, 11, 0))
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != 1 || items[0].State != qunyun.DeliveryFailed || items[0].Reason != qunyun.ReasonTemplate {
		t.Fatalf("deliveries = %+v, want failed/template", items)
	}
	if len(e.sbx.Calls("/cgi-bin/appchat/send")) != 0 {
		t.Fatal("a broken template was sent")
	}
	if n, _ := (dynamo.Deliveries{Table: e.tb}).CapCount(e.ctx, qunyun.GroupDayCap("g000", "2026-11-23")); n != 0 {
		t.Fatalf("cap kept after a failure: %d", n)
	}
}
