package push_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// A MemberJoined that push first sees days after the join (the callback
// resumed its record's work, and the event carries the record's time) must
// not date its welcome by the join: a delivery dated before yesterday is
// out of the sweep's reach (today's and yesterday's deliveries), so its
// WeCom task would never be followed and a stale claim never resolved. It
// is dated when push first saw it, and a copy of the event published again
// later still names that one delivery.
func TestLateMemberJoinedIsDatedWhenFirstSeen(t *testing.T) {
	joinedAt := local(2026, 11, 23, 15, 20)
	e := newEnv(t, joinedAt.Add(50*time.Hour))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{"new"} })
	e.put(qunyun.Content{ID: "welcome", Kind: qunyun.ContentText, Text: "欢迎{{.Member.Name}}加入{{.Group.Name}}"})
	e.put(qunyun.Plan{ID: "journey", Select: qunyun.GroupSelector{Tags: []string{"new"}},
		Journey: []qunyun.JourneyStep{{Day: 0, Content: "welcome"}}})
	joined := map[string]any{"id": "join-1", "account": wecom.ID, "group": "g000", "member": "wm-1", "name": "小李", "at": joinedAt}
	firstSeen := e.clk.Now()
	for _, at := range []time.Time{firstSeen, firstSeen.Add(30 * time.Hour)} {
		e.clk.Set(at)
		if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventMemberJoined, joinedAt, joined)); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sendsTo(addMsgTemplate, "欢迎小李加入社群000"); n != 1 {
		t.Fatalf("welcome tasks = %d, want 1", n)
	}
	if old := e.deliveries(joinedAt, joinedAt.AddDate(0, 0, 1)); len(old) != 0 {
		t.Fatalf("%d deliveries dated by the join, out of the sweep's reach when first seen: %+v", len(old), old[0].Delivery)
	}
	if items := e.deliveries(firstSeen); len(items) != 1 {
		t.Fatalf("%d deliveries dated when push first saw the event, want 1", len(items))
	}
}

// The same for a ModerationHit resumed days after its message: one alert
// per moderator, dated within the sweep's reach, also when published again.
func TestLateModerationHitIsDatedWhenFirstSeen(t *testing.T) {
	sentAt := local(2026, 11, 23, 9, 0)
	e := newEnv(t, sentAt.Add(49*time.Hour))
	e.groups(1, nil)
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-a", Role: qunyun.RoleModerator})
	hit := map[string]any{"id": "hit-1", "group": "g000", "member": "m1", "text": "加我领红包", "signals": []string{"link"}}
	firstSeen := e.clk.Now()
	for _, at := range []time.Time{firstSeen, firstSeen.Add(20 * time.Hour)} {
		e.clk.Set(at)
		if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, sentAt, hit)); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sendsTo("/cgi-bin/message/send", `"touser":"mod-a"`); n != 1 {
		t.Fatalf("mod-a got %d alerts, want 1", n)
	}
	if old := e.deliveries(sentAt, sentAt.AddDate(0, 0, 1)); len(old) != 0 {
		t.Fatalf("%d alerts dated by the message, out of the sweep's reach", len(old))
	}
	if items := alerts(e.deliveries(firstSeen)); len(items) != 1 {
		t.Fatalf("%d alerts dated when push first saw the hit, want 1", len(items))
	}
}

// A hit published just before UTC midnight and first seen just after it
// (a retried publish, a queued invocation) is dated by its first sight: a
// delivery dated the day before would leave the sweep at the next UTC
// midnight, less than a day after its task was made (TaskExpiry is a day).
func TestEventSeenAfterUTCMidnightIsDatedThatDay(t *testing.T) {
	sentAt := time.Date(2026, 11, 23, 23, 40, 0, 0, time.UTC)
	e := newEnv(t, sentAt.Add(30*time.Minute))
	e.groups(1, nil)
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-a", Role: qunyun.RoleModerator})
	hit := map[string]any{"id": "hit-1", "group": "g000", "member": "m1", "text": "加我领红包", "signals": []string{"link"}}
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, sentAt, hit)); err != nil {
		t.Fatal(err)
	}
	if old := e.deliveries(sentAt); len(old) != 0 {
		t.Fatalf("%d alerts dated the day before push first saw the hit", len(old))
	}
	if items := alerts(e.deliveries(e.clk.Now())); len(items) != 1 {
		t.Fatalf("%d alerts dated when push first saw the hit, want 1", len(items))
	}
}

// alerts are the moderation alerts among items (not the window's summary,
// which is dated with them).
func alerts(items []qunyun.DeliveryRecord) []qunyun.DeliveryRecord {
	var out []qunyun.DeliveryRecord
	for _, it := range items {
		if it.ContentID == "moderation-alert" {
			out = append(out, it)
		}
	}
	return out
}
