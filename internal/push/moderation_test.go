package push_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// A flood of 22 hits in one group within a minute, arriving concurrently
// and each delivered twice, is one alert plus one follow-up with the count
// per moderator, not 22; the window after it starts a new batch.
func TestModerationBurstIsOneAlertAndAFollowUp(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, nil)
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-a", Role: qunyun.RoleModerator})
	start := e.clk.Now()
	hit := func(i int) map[string]any {
		return map[string]any{"id": fmt.Sprintf("hit-%02d", i), "group": "g000", "member": "spammer", "memberName": "小号",
			"text": fmt.Sprintf("第%d条 加我领红包", i), "signals": []string{"flood"}}
	}
	deliverHitsTwice(t, e, 22, start, 2*time.Second, hit)
	bodies := e.sent("/cgi-bin/message/send")
	if len(bodies) != 2 {
		t.Fatalf("%d alerts for one burst, want 2 (the first and one follow-up):\n%s", len(bodies), strings.Join(bodies, "\n---\n"))
	}
	var followUp string
	for _, b := range bodies {
		if strings.Contains(b, "仍在继续") {
			followUp = b
		}
	}
	if followUp == "" {
		t.Fatalf("no follow-up among the alerts:\n%s", strings.Join(bodies, "\n---\n"))
	}
	// Concurrent hits race for the follow-up: the count is the batch's
	// when it was raised, past the tenth hit after the first.
	var n int
	if _, err := fmt.Sscanf(followUp[strings.Index(followUp, "已有 "):], "已有 %d 条", &n); err != nil || n < 11 || n > 22 ||
		!strings.Contains(followUp, fmt.Sprintf("刷屏 ×%d", n)) || !strings.Contains(followUp, "1 位成员") {
		t.Fatalf("follow-up does not give the count so far (%d, %v):\n%s", n, err, followUp)
	}
	batch, found, err := dynamo.Moderation{Table: e.tb}.Batch(e.ctx, "g000", start.Truncate(10*time.Minute))
	if err != nil || !found {
		t.Fatalf("batch: found %v, err %v", found, err)
	}
	if batch.Hits != 22 || batch.Signals["flood"] != 22 {
		t.Fatalf("batch counted %d hits (%v), want 22: redeliveries count once", batch.Hits, batch.Signals)
	}

	// The next window is a new batch: its first hit alerts again.
	next := start.Truncate(10 * time.Minute).Add(10 * time.Minute)
	e.clk.Set(next)
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, next, hit(99))); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sent("/cgi-bin/message/send")); n != 3 {
		t.Fatalf("%d alerts after the next window's first hit, want 3", n)
	}
}

// The alert carries the case code a moderator answers with, and the case
// keeps what was flagged.
func TestModerationAlertCarriesItsCase(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, nil)
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-a", Role: qunyun.RoleModerator})
	hit := map[string]any{"id": "hit-1", "account": wecom.ID, "group": "g000", "member": "m1", "text": "看看 shop.example.com/x",
		"signals": []string{"link"}, "domains": []string{"shop.example.com"}}
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, e.clk.Now(), hit)); err != nil {
		t.Fatal(err)
	}
	code := moderation.CaseCode("hit-1")
	if n := e.sendsTo("/cgi-bin/message/send", "无误 "+code); n != 1 {
		t.Fatalf("alert does not name its code %s", code)
	}
	c, found, err := dynamo.Moderation{Table: e.tb}.Case(e.ctx, code)
	if err != nil || !found {
		t.Fatalf("case %s: found %v, err %v", code, found, err)
	}
	if c.GroupID != "g000" || c.AccountID != wecom.ID || len(c.Domains) != 1 || c.Domains[0] != "shop.example.com" {
		t.Fatalf("case = %+v", c)
	}
}

// When a burst's window closes, each moderator gets one summary: the hits
// per signal, the members involved and what was decided on its case codes
// so far. One however many hits and redeliveries, and one when two pushes
// sweep at once and again later; a window with a single hit gets none.
func TestModerationBurstEndsWithOneSummary(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, nil)
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-a", Name: "小鱼", Role: qunyun.RoleModerator})
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-b", Name: "阿青", Role: qunyun.RoleModerator})
	e.put(qunyun.Member{GroupID: "g000", ID: "spammer", Name: "代购小号"})
	e.put(qunyun.Member{GroupID: "g000", ID: "helper", Name: "帮忙转发"})
	start := e.clk.Now()
	hit := func(i int) map[string]any {
		h := map[string]any{"id": fmt.Sprintf("hit-%02d", i), "group": "g000", "member": "spammer", "memberName": "小号",
			"text": fmt.Sprintf("第%d条 加我领红包", i), "signals": []string{"flood"}}
		if i%4 == 3 {
			h["member"], h["memberName"], h["signals"] = "helper", "帮忙转发", []string{"link"}
		}
		return h
	}
	deliverHitsTwice(t, e, 12, start, 20*time.Second, hit)
	store := dynamo.Moderation{Table: e.tb}
	batch, _, err := store.Batch(e.ctx, "g000", start.Truncate(10*time.Minute))
	if err != nil || batch.Hits != 12 || batch.AlertHit == "" || batch.FollowUpHit == "" {
		t.Fatalf("batch %+v (%v): want 12 hits, an alert and a follow-up", batch, err)
	}
	alertCode, followCode := moderation.CaseCode(batch.AlertHit), moderation.CaseCode(batch.FollowUpHit)
	if _, err := store.Decide(e.ctx, alertCode, qunyun.ModerationDecision{Action: qunyun.ActionHide, By: "mod-a", At: start.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	summaries := func() []string {
		var out []string
		for _, b := range e.sent("/cgi-bin/message/send") {
			if strings.Contains(b, "小结") {
				out = append(out, b)
			}
		}
		return out
	}
	// Within the window: nothing yet.
	e.tick(start.Add(5 * time.Minute))
	if got := summaries(); len(got) != 0 {
		t.Fatalf("a summary before the window closed:\n%s", strings.Join(got, "\n---\n"))
	}
	// At its close two pushes sweep at once, then again a minute later.
	closes := start.Truncate(10 * time.Minute).Add(10 * time.Minute)
	for _, at := range []time.Time{closes, closes.Add(time.Minute)} {
		e.clk.Set(at)
		var wg sync.WaitGroup
		for _, svc := range []*push.Service{e.svc, e.newService()} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svc.Tick(e.ctx, at); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	// A late redelivery of the first hit changes nothing.
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, start, hit(0))); err != nil {
		t.Fatal(err)
	}
	e.tick(closes.Add(2 * time.Minute))
	got := summaries()
	if len(got) != 2 || !strings.Contains(strings.Join(got, ""), `"mod-a"`) || !strings.Contains(strings.Join(got, ""), `"mod-b"`) {
		t.Fatalf("%d summaries, want one per moderator (2):\n%s", len(got), strings.Join(got, "\n---\n"))
	}
	for _, b := range got {
		for _, want := range []string{"「社群000」15:00–15:10", "共有 12 条", "刷屏 ×9", "链接 ×3", "2 位成员", "代购小号", "帮忙转发",
			"编号 " + alertCode + "（", "）：小鱼 撤回", "编号 " + followCode, "尚未处理，可回复「无误 " + followCode + "」"} {
			if !strings.Contains(b, want) {
				t.Errorf("summary lacks %q:\n%s", want, b)
			}
		}
	}

	// The next window has a single hit: its alert, and no summary.
	next := closes.Add(time.Minute)
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, next, hit(40))); err != nil {
		t.Fatal(err)
	}
	e.tick(next.Truncate(10 * time.Minute).Add(10 * time.Minute))
	if got := summaries(); len(got) != 2 {
		t.Fatalf("%d summaries after a single-hit window, want still 2", len(got))
	}
	skipped := 0
	for _, d := range e.deliveries(next) {
		if d.ContentID == "moderation-summary" && d.State == qunyun.DeliverySkipped && d.Reason == qunyun.ReasonSingleHit {
			skipped++
		}
	}
	if skipped != 2 {
		t.Fatalf("%d single-hit summaries skipped with %s, want one per moderator", skipped, qunyun.ReasonSingleHit)
	}
}

// deliverHitsTwice invokes push with ModerationHits 0..n-1, hit i at
// start+i*every, each twice and all at once, as EventBridge may deliver
// an event more than once.
func deliverHitsTwice(t *testing.T, e *env, n int, start time.Time, every time.Duration, hit func(i int) map[string]any) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		for range 2 {
			wg.Go(func() {
				_, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, start.Add(time.Duration(i)*every), hit(i)))
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
