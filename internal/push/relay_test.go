package push_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func relayGroup(e *env, id string) {
	e.t.Helper()
	e.groups(1, func(g *qunyun.Group) { g.ID, g.AccountID = id, "relay" })
}

// A bridge that is down (5xx, then the connection dropped unanswered) is
// posted to again under the same delivery id, after a growing wait, within
// the delivery's deadline: the message arrives once, and nothing is left
// unknown.
func TestBridgeDownIsPostedAgainUnderTheSameID(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	relayGroup(e, "g-fan")
	r := qunyun.DeliveryRequest{ID: "session/s1/opening/g-fan", Source: qunyun.SourceSession, TargetKind: qunyun.TargetGroup, TargetID: "g-fan",
		Content: &qunyun.Content{ID: "session-opening", Kind: qunyun.ContentText, Text: "嘉宾场开始啦"}, Deadline: local(2026, 11, 23, 16, 0)}
	start := e.clk.Now()
	e.relayDown.Store(http.StatusServiceUnavailable)
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	got := e.stateOf(r)
	if got.State != qunyun.DeliveryClaimed || got.Reason != qunyun.ReasonUnavailable || got.Resends != 1 || !got.DeferredUntil.Equal(start.Add(time.Minute)) {
		t.Fatalf("after a 503: %s/%s resends %d until %s; want claimed/unavailable, 1 resend, again at +1 min",
			got.State, got.Reason, got.Resends, got.DeferredUntil.In(shanghai).Format("15:04"))
	}
	e.relayDown.Store(-1) // now the bridge takes the connection and never answers
	e.tick(local(2026, 11, 23, 15, 3))
	if got = e.stateOf(r); got.State != qunyun.DeliveryClaimed || got.Resends != 2 || !got.DeferredUntil.Equal(local(2026, 11, 23, 15, 5)) {
		t.Fatalf("after no answer: %s/%s resends %d until %s; want claimed, 2 resends, again 2 min later",
			got.State, got.Reason, got.Resends, got.DeferredUntil.In(shanghai).Format("15:04"))
	}
	e.relayDown.Store(0)
	for m := local(2026, 11, 23, 15, 4); !m.After(local(2026, 11, 23, 15, 10)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	if got = e.stateOf(r); got.State != qunyun.DeliverySent {
		t.Fatalf("once the bridge is back: %s/%s, want sent", got.State, got.Reason)
	}
	posts := e.relayed()
	if len(posts) != 1 || posts[0].ID != r.ID || posts[0].GroupID != "g-fan" || posts[0].Text != "嘉宾场开始啦" {
		t.Fatalf("the bridge took %+v, want the opening once, under its delivery id", posts)
	}
	if strings.Contains(e.metrics.String(), "DeliveryUnknown") {
		t.Error("a delivery was left unknown")
	}
}

// A bridge that stays down until the deadline: the delivery fails
// unavailable when the next post would come too late; never unknown.
func TestBridgeDownPastTheDeadlineFailsUnavailable(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	relayGroup(e, "g-fan")
	r := qunyun.DeliveryRequest{ID: "notice", Source: qunyun.SourceSession, TargetKind: qunyun.TargetGroup, TargetID: "g-fan",
		Content: &qunyun.Content{ID: "session-closing", Kind: qunyun.ContentText, Text: "还剩 5 分钟"}, Deadline: local(2026, 11, 23, 15, 12)}
	e.relayDown.Store(http.StatusBadGateway)
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	for m := local(2026, 11, 23, 15, 1); !m.After(local(2026, 11, 23, 15, 20)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	got := e.stateOf(r)
	if got.State != qunyun.DeliveryFailed || got.Reason != qunyun.ReasonUnavailable {
		t.Fatalf("bridge down past the deadline: %s/%s after %d resends, want failed/unavailable", got.State, got.Reason, got.Resends)
	}
	if got.Resends < 2 || e.relayPosts.Load() != 0 {
		t.Errorf("%d resends, %d posts taken; want at least 2 tries and nothing taken", got.Resends, e.relayPosts.Load())
	}
}

// A post whose process died after the send started is posted again when
// its claim goes stale, because the bridge deduplicates by id; a WeCom
// group's, whose API does not, is left unknown (TestCrashBetweenSendAndConfirm).
func TestBridgePostOfADeadProcessIsPostedAgain(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	relayGroup(e, "g-fan")
	r := qunyun.DeliveryRequest{ID: "tips", Source: "p-tips", TargetKind: qunyun.TargetGroup, TargetID: "g-fan",
		Content: &qunyun.Content{ID: "c-tips", Kind: qunyun.ContentText, Text: "每日小贴士"}}
	crashing := e.newService()
	push.CrashAfterSend(crashing, func(qunyun.Delivery) bool { return true })
	crashing.Store = e.svc.Store
	e.relayDown.Store(-1) // the post is lost with the process
	_, err := crashing.Invoke(e.ctx, event(qunyun.EventDeliveryRequested, e.clk.Now(), r))
	if err == nil {
		t.Fatal("the crashing process reported no crash")
	}
	e.relayDown.Store(0)
	for m := local(2026, 11, 23, 15, 1); !m.After(local(2026, 11, 23, 15, 8)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	if got := e.stateOf(r); got.State != qunyun.DeliverySent || got.Resends != 1 {
		t.Fatalf("after the crash: %s/%s with %d resends, want sent after one", got.State, got.Reason, got.Resends)
	}
	if posts := e.relayed(); len(posts) != 1 || posts[0].ID != r.ID {
		t.Fatalf("bridge took %+v", posts)
	}
}

// What a bridge gets for each kind of content: the first version's fields
// (text as plain text, url) and the card's own.
func TestBridgePostCarriesTheCard(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	relayGroup(e, "g-fan")
	for _, c := range []qunyun.Content{
		{ID: "c-link", Kind: qunyun.ContentLink, Title: "冬季汤底测评", Text: "五款盲测", URL: "https://example.com/soup", PicURL: "https://example.com/soup.jpg"},
		{ID: "c-image", Kind: qunyun.ContentImage, PicURL: "https://example.com/menu.png"},
		{ID: "c-mini", Kind: qunyun.ContentMiniProgram, Title: "点单小程序", AppID: "wx123", PagePath: "pages/menu", PicURL: "https://example.com/cover.png"},
	} {
		r := qunyun.DeliveryRequest{ID: c.ID, Source: "p-x", TargetKind: qunyun.TargetGroup, TargetID: "g-fan", Content: &c}
		if err := e.request(r); err != nil {
			t.Fatal(err)
		}
	}
	byID := map[string]map[string]any{}
	for _, p := range e.relayed() {
		byID[p.ID] = map[string]any{"kind": p.Kind, "text": p.Text, "url": p.URL, "title": p.Title, "description": p.Description,
			"pic": p.PicURL, "app": p.AppID, "page": p.PagePath}
	}
	want := map[string]map[string]any{
		"c-link": {"kind": "link", "text": "冬季汤底测评\n五款盲测\nhttps://example.com/soup", "url": "https://example.com/soup", "title": "冬季汤底测评",
			"description": "五款盲测", "pic": "https://example.com/soup.jpg", "app": "", "page": ""},
		"c-image": {"kind": "image", "text": "", "url": "https://example.com/menu.png", "title": "", "description": "", "pic": "", "app": "", "page": ""},
		"c-mini": {"kind": "miniprogram", "text": "点单小程序", "url": "", "title": "点单小程序", "description": "", "pic": "https://example.com/cover.png",
			"app": "wx123", "page": "pages/menu"},
	}
	if !reflect.DeepEqual(byID, want) {
		t.Errorf("bridge posts\n%v\nwant\n%v", byID, want)
	}
}
