package push_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// A request re-published days later (a sender's step retried after an
// outage, a message replayed from the dead-letter queue) is still the same
// delivery: the group is posted to once and there is one delivery.
func TestRequestRepublishedDaysLaterSendsOnce(t *testing.T) {
	first := local(2026, 11, 23, 15, 0)
	e := newEnv(t, first)
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	r := qunyun.DeliveryRequest{ID: "session/s1/open/g000", Source: "session", TargetKind: qunyun.TargetGroup, TargetID: "g000", GroupID: "g000",
		Content: &qunyun.Content{Kind: qunyun.ContentText, Text: "开始啦"}}
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	for _, later := range []time.Time{first.Add(26 * time.Hour), first.AddDate(0, 0, 3), first.AddDate(0, 1, 0)} {
		e.clk.Set(later)
		if err := e.request(r); err != nil {
			t.Fatalf("re-published %s later: %v", later.Sub(first), err)
		}
		if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"g000"`); n != 1 {
			t.Fatalf("re-published %s later: group posted %d times, want 1", later.Sub(first), n)
		}
		if items := e.deliveries(first, later.Add(-24*time.Hour), later); len(items) != 1 {
			t.Fatalf("re-published %s later: %d deliveries, want 1", later.Sub(first), len(items))
		}
	}
	if fin := e.bus.of(qunyun.EventDeliveryFinished); len(fin) != 1 {
		t.Fatalf("%d DeliveryFinished events, want 1", len(fin))
	}
}

// An id already used for another target is a clear error (the sender reused
// an idempotency key) and sends and writes nothing for the second target.
func TestRequestIDReusedForAnotherTargetIsRejected(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(2, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	r := qunyun.DeliveryRequest{ID: "r1", Source: "session", TargetKind: qunyun.TargetGroup, TargetID: "g000",
		Content: &qunyun.Content{Kind: qunyun.ContentText, Text: "hi"}}
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(local(2026, 11, 25, 15, 0))
	r.TargetID = "g001"
	err := e.request(r)
	if qunyun.ErrorCode(err) != qunyun.EINVALID {
		t.Fatalf("reused id for another group: err %v, want EINVALID", err)
	}
	if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"g001"`); n != 0 {
		t.Fatalf("g001 posted %d times under a reused id", n)
	}
	if items := e.deliveries(local(2026, 11, 25, 15, 0)); len(items) != 0 {
		t.Fatalf("%d deliveries written for the reused id, want 0", len(items))
	}
}
