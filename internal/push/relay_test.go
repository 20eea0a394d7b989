package push_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
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

// A keyword or check-in answer in a relay group (source reply) is posted at
// once, quiet hours or not (the member has just written), @ the member and
// quoting their message; it draws from the group's own reply budget, whose
// end (a bot answering its own posts, a flood) skips reply_cap.
func TestReplyIsPostedAtOnceWithinItsBudget(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 23, 10)) // quiet hours
	relayGroup(e, "g-punch")
	reply := func(id string) qunyun.DeliveryRequest {
		return qunyun.DeliveryRequest{ID: id, Source: qunyun.SourceReply, TargetKind: qunyun.TargetGroup, TargetID: "g-punch",
			Content:  &qunyun.Content{ID: "reply", Kind: qunyun.ContentText, Text: "打卡成功！已连续打卡 3 天"},
			Mentions: []string{"u1"}, ReplyTo: "bridge-ci-1"}
	}
	r := reply("reply-1")
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	got := e.stateOf(r)
	if got.State != qunyun.DeliverySent || got.Class != qunyun.ClassReply || !got.Deadline.Equal(e.clk.Now().Add(push.ReplyDeadline)) {
		t.Fatalf("reply at 23:10: %s/%s class %s deadline %s; want sent at once, class reply, 10 minutes", got.State, got.Reason, got.Class, got.Deadline)
	}
	posts := e.relayed()
	if len(posts) != 1 || !reflect.DeepEqual(posts[0].Mentions, []string{"u1"}) || posts[0].ReplyTo != "bridge-ci-1" {
		t.Fatalf("bridge took %+v, want the reply @u1 quoting bridge-ci-1", posts)
	}
	counter := qunyun.GroupReplyDayCap("g-punch", "2026-11-23")
	for i := 1; i < qunyun.DefaultReplyMax; i++ {
		if ok, err := (dynamo.Deliveries{Table: e.tb}).ReserveCap(e.ctx, counter, qunyun.DefaultReplyMax, time.Hour, fmt.Sprint("other-", i)); err != nil || !ok {
			t.Fatalf("reserve %d: %v %v", i, ok, err)
		}
	}
	over := reply("reply-over")
	if err := e.request(over); err != nil {
		t.Fatal(err)
	}
	if got := e.stateOf(over); got.State != qunyun.DeliverySkipped || got.Reason != qunyun.ReasonReplyCap {
		t.Errorf("reply past the budget: %s/%s, want skipped/reply_cap", got.State, got.Reason)
	}
}

// A relay group's welcome is said in the group, @ the member who joined:
// a bridge posts in groups only. The later steps of the journey have no way
// to a relay member (no_channel): they are not posted in the group.
func TestRelayWelcomeIsSaidInTheGroup(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID, g.AccountID, g.Purpose = "g-general-1", "relay", qunyun.PurposeGeneral })
	e.put(qunyun.Content{ID: "c-welcome", Kind: qunyun.ContentText, Text: "欢迎 {{.Member.Name}} 加入{{.Group.Name}}！"})
	e.put(qunyun.Content{ID: "c-day3", Kind: qunyun.ContentText, Text: "新人第 3 天小贴士"})
	e.put(qunyun.Plan{ID: "p-newcomer", Select: qunyun.GroupSelector{Purposes: []qunyun.Purpose{qunyun.PurposeGeneral}},
		Journey: []qunyun.JourneyStep{{Day: 0, Content: "c-welcome"}, {Day: 3, At: "10:00", Content: "c-day3"}}})
	joined := e.clk.Now()
	e.put(qunyun.Member{GroupID: "g-general-1", ID: "wxid_new01", Name: "阿青", Role: qunyun.RoleMember, JoinedAt: joined})
	_, err := e.svc.Invoke(e.ctx, event(qunyun.EventMemberJoined, joined, map[string]any{
		"id": "bridge-j1", "account": "relay", "group": "g-general-1", "member": "wxid_new01", "name": "阿青", "at": joined}))
	if err != nil {
		t.Fatal(err)
	}
	posts := e.relayed()
	if len(posts) != 1 || posts[0].GroupID != "g-general-1" || !reflect.DeepEqual(posts[0].Mentions, []string{"wxid_new01"}) ||
		posts[0].Text != "欢迎 阿青 加入社群000！" {
		t.Fatalf("bridge took %+v, want the welcome in the group @ the member", posts)
	}
	e.tick(local(2026, 11, 26, 10, 0))
	var day3 []qunyun.DeliveryRecord
	for _, d := range e.deliveries(local(2026, 11, 26, 10, 0)) {
		if strings.Contains(d.Slot, "day3") {
			day3 = append(day3, d)
		}
	}
	if len(day3) != 1 || day3[0].State != qunyun.DeliverySkipped || day3[0].Reason != qunyun.ReasonNoChannel {
		t.Errorf("day-3 step: %+v, want one skipped no_channel", day3)
	}
	if n := len(e.relayed()); n != 1 {
		t.Errorf("the bridge took %d posts, want the welcome only", n)
	}
}
