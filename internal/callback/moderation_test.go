package callback_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// relayCard is a relay message of another kind than text.
func relayCard(id, group, member, kind, text, link string, at time.Time) string {
	b, _ := json.Marshal(map[string]any{"id": id, "type": "message", "group_id": group, "member_id": member,
		"kind": kind, "text": text, "url": link, "time": at.Unix()})
	return string(b)
}

// hits returns the ModerationHit details published, by message id.
func (f *fixture) hits() map[string]callback.ModerationHit {
	f.t.Helper()
	out := map[string]callback.ModerationHit{}
	f.bus.mu.Lock()
	defer f.bus.mu.Unlock()
	for _, e := range f.bus.events {
		if e.DetailType == qunyun.EventModerationHit {
			h := e.Detail.(callback.ModerationHit)
			out[h.ID] = h
		}
	}
	return out
}

// Cards a member shares are flagged like text: a mini program and a contact
// card by their kind, a link card by the QR and ads rules on its title and
// URL. Before, a bridge's mini programs and cards fell into "other".
func TestCardsAndMiniProgramsAreFlagged(t *testing.T) {
	f := newFixture(t, nil)
	applyStaff(t, f)
	at := f.clock.Now()
	cases := []struct {
		id, member, kind, text, url string
		want                        []string // nil: not flagged
	}{
		{"mp", "u1", "miniprogram", "限时秒杀", "pages/shop/index", []string{qunyun.SignalMiniProgram}},
		{"weapp", "u1", "weapp", "拼团", "", []string{qunyun.SignalMiniProgram}},
		{"card", "u2", "card", "代购小王", "", []string{qunyun.SignalCard}},
		{"invite", "u3", "link", "进群领资料", "https://weixin.qq.com/g/AbCdEf", []string{qunyun.SignalLink, qunyun.SignalQRCode}},
		{"ads", "u3", "link", "兼职日结 点这里", "https://jobs.example.com/a", []string{qunyun.SignalLink, qunyun.SignalSensitive}},
		{"staff", "mod", "miniprogram", "本周课程报名", "pages/course", nil},
	}
	for _, c := range cases {
		if r := f.relay(relayCard(c.id, "g1", c.member, c.kind, c.text, c.url, at)); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.id, r.StatusCode, r.Body)
		}
	}
	hits := f.hits()
	for _, c := range cases {
		h, flagged := hits[c.id]
		switch {
		case c.want == nil && flagged:
			t.Errorf("%s: flagged %v, staff are exempt", c.id, h.Signals)
		case c.want != nil && !slices.Equal(h.Signals, c.want):
			t.Errorf("%s: signals %v, want %v", c.id, h.Signals, c.want)
		}
	}
	if d := hits["ads"].Domains; !slices.Equal(d, []string{"jobs.example.com"}) {
		t.Errorf("ads hit names domains %v, want the link card's", d)
	}
	if w := hits["ads"].Words; !slices.Contains(w, "兼职日结") {
		t.Errorf("ads hit names words %v", w)
	}
}

// moderationYAML gives the relay account its own lists in community.yaml.
const moderationYAML = staffYAML + `
moderation:
  - account: relay
    sensitiveWords: [代购]
    allowDomains: [docs.example.com]
`

// An account moderates by its community.yaml lists, which replace the
// built-in ones (texts.yaml); once the file drops them, by the defaults.
func TestAccountModeratesByItsOwnLists(t *testing.T) {
	f := newFixture(t, nil)
	applyYAML(t, f, moderationYAML, false)
	at := f.clock.Now()
	for _, m := range [][2]string{
		{"own", "海外代购找我"},                                    // the account's word
		{"default", "刷单返现"},                                  // a default word the account's list replaced
		{"allowed", "课件在 https://docs.example.com/a"},        // an allowed domain
		{"other", "课件在 https://elsewhere.example.com/a 快来看"}, // any other link
	} {
		f.relay(relayMessage(m[0], "g1", "u1", m[1], at))
	}
	hits := f.hits()
	if _, ok := hits["own"]; !ok || !slices.Equal(hits["own"].Words, []string{"代购"}) {
		t.Errorf("the account's own word is not flagged: %+v", hits["own"])
	}
	for _, id := range []string{"default", "allowed"} {
		if h, ok := hits[id]; ok {
			t.Errorf("%s flagged %v", id, h.Signals)
		}
	}
	if _, ok := hits["other"]; !ok {
		t.Error("a link to another domain is not flagged")
	}

	// Without lists in the file, the account takes the defaults (once the
	// callback's minute cache has passed).
	applyYAML(t, f, staffYAML, true)
	f.clock.Set(at.Add(2 * time.Minute))
	f.relay(relayMessage("default-again", "g1", "u1", "刷单返现", f.clock.Now()))
	if _, ok := f.hits()["default-again"]; !ok {
		t.Error("an account without lists does not moderate by the defaults")
	}
}

// decisionYAML: a moderator of a relay group whose alerts reach them in the
// WeCom app as wm1.
const decisionYAML = `
accounts: [{id: wecom-qdg, kind: wecom}, {id: relay, kind: relay}]
groups:
  - {id: g1, account: relay, purpose: general}
staff:
  - {id: s-mod, role: moderator, ids: {relay: mod}, wecomUserId: wm1, groups: [g1]}
`

// wecomText posts a 1:1 text from a WeCom user to the app, as WeCom does.
func (f *fixture) wecomText(from, text string, msgID int) {
	f.t.Helper()
	acct := account("wecom-qdg")
	plain := fmt.Sprintf(`<xml><ToUserName>%s</ToUserName><FromUserName>%s</FromUserName><CreateTime>%d</CreateTime><MsgType>text</MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId><AgentID>1000002</AgentID></xml>`,
		acct.CorpID, from, f.clock.Now().Unix(), text, msgID)
	q, enc := encryptedPost(f.t.(*testing.T), acct, strconv.FormatInt(f.clock.Now().Unix(), 10), plain)
	if r := f.do("POST", acct.ID, q, "<xml><ToUserName>x</ToUserName><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", nil); r.StatusCode != 200 {
		f.t.Fatalf("%s: %d %q", text, r.StatusCode, r.Body)
	}
}

// replies returns the texts the callback asked push to send to staff.
func (f *fixture) replies(to string) []string {
	f.bus.mu.Lock()
	defer f.bus.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, e := range f.bus.events {
		if r, ok := e.Detail.(qunyun.DeliveryRequest); ok && r.TargetID == to && !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r.Content.Text)
		}
	}
	return out
}

// A moderator answers an alert from the WeCom app: 「无误 <code>」 tunes the
// rule (the flagged domain passes in that group from then on) and
// 「移出 <code>」 is recorded with what the channel leaves to them, each with
// who and when; anyone else, or an unknown code, gets a clear reply and
// changes nothing.
func TestModeratorAnswersAnAlert(t *testing.T) {
	f := newFixture(t, nil)
	applyYAML(t, f, decisionYAML, false)
	ctx := context.Background()
	mod := dynamo.Moderation{Table: f.table}
	f.relay(relayMessage("ad-1", "g1", "u1", "课件 https://shop.example.com/a", f.clock.Now()))
	h, ok := f.hits()["ad-1"]
	if !ok {
		t.Fatal("the link was not flagged")
	}
	// What push records when it alerts (internal/push/moderation.go).
	code := moderation.CaseCode(h.ID)
	if err := mod.OpenCase(ctx, qunyun.ModerationCase{Code: code, HitID: h.ID, AccountID: h.AccountID, Channel: h.Channel,
		GroupID: h.GroupID, MemberID: h.MemberID, Signals: h.Signals, Domains: h.Domains, Words: h.Words, Text: h.Text, At: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}

	f.wecomText("wm2", "无误 "+code, 1)
	f.wecomText("wm1", "无误 ZZZZZZ", 2)
	if c, _, _ := mod.Case(ctx, code); len(c.Decisions) != 0 {
		t.Fatalf("decisions by someone else or on another code: %+v", c.Decisions)
	}
	if r := f.replies("wm2"); len(r) != 1 || !strings.Contains(r[0], "只有该群的管理员") {
		t.Fatalf("reply to a non-moderator: %q", r)
	}
	if r := f.replies("wm1"); len(r) != 1 || !strings.Contains(r[0], "没有找到编号为 ZZZZZZ") {
		t.Fatalf("reply to an unknown code: %q", r)
	}

	for range 2 { // WeCom retries the same message
		f.wecomText("wm1", "无误 "+strings.ToLower(code), 3)
	}
	c, _, err := mod.Case(ctx, code)
	if err != nil || len(c.Decisions) != 1 {
		t.Fatalf("decisions after 「无误」 twice: %+v, %v", c.Decisions, err)
	}
	if d := c.Decisions[0]; d.Action != qunyun.ActionFine || d.By != "wm1" || !d.At.Equal(f.clock.Now()) || !slices.Equal(d.Allowed, []string{"domain:shop.example.com"}) {
		t.Fatalf("decision = %+v", d)
	}
	if r := f.replies("wm1"); len(r) != 2 || !strings.Contains(r[1], "已标记为误报") || !strings.Contains(r[1], "shop.example.com") {
		t.Fatalf("reply to 「无误」: %q", r)
	}
	f.relay(relayMessage("ad-2", "g1", "u1", "课件 https://shop.example.com/b", f.clock.Now()))
	if h, flagged := f.hits()["ad-2"]; flagged {
		t.Fatalf("the allowed domain is still flagged: %v", h.Signals)
	}

	f.wecomText("wm1", "移出 "+code, 4)
	c, _, _ = mod.Case(ctx, code)
	if len(c.Decisions) != 2 || c.Decisions[1].Action != qunyun.ActionRemove || c.Decisions[1].Done {
		t.Fatalf("decisions after 「移出」: %+v", c.Decisions)
	}
	if r := f.replies("wm1"); len(r) != 3 || !strings.Contains(r[2], "已记录「移出」") || !strings.Contains(r[2], "桥接通道") {
		t.Fatalf("reply to 「移出」 does not say what the channel allows: %q", r)
	}
}
