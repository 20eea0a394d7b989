package push_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/moderation"
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
	var wg sync.WaitGroup
	errs := make(chan error, 44)
	for i := range 22 {
		for range 2 { // EventBridge delivers at least once
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, start.Add(time.Duration(i)*2*time.Second), hit(i)))
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
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
