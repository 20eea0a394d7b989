package callback_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/contribution"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// editorYAML: an editor in a relay group (ed1) and, under their WeCom
// userid, in a customer group; u1 is a plain member.
const editorYAML = `
accounts: [{id: wecom-qdg, kind: wecom}, {id: relay, kind: relay}]
groups:
  - {id: g1, account: relay, purpose: general}
  - {id: wrC1, account: wecom-qdg, purpose: general}
staff:
  - {id: s-ed, role: editor, ids: {relay: ed1, wecom-qdg: wm-ed}, groups: [g1, wrC1]}
`

// groupReplies returns the texts the callback asked push to post in group.
func (f *fixture) groupReplies(group string) []string {
	f.bus.mu.Lock()
	defer f.bus.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, e := range f.bus.events {
		if r, ok := e.Detail.(qunyun.DeliveryRequest); ok && r.TargetKind == qunyun.TargetGroup && r.TargetID == group && !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r.Content.Text)
		}
	}
	return out
}

// An editor's 「投稿」 in a relay group or to the WeCom app becomes one
// draft credited to them, and they are told; a member who is no editor, an
// empty or too long submission, or one with a QR invite gets a reply
// saying why, and no draft.
func TestEditorSubmitsContent(t *testing.T) {
	f := newFixture(t, nil)
	applyYAML(t, f, editorYAML, false)
	ctx := context.Background()
	at := f.clock.Now()
	for range 2 { // the bridge retries with the same id
		f.relay(relayMessage("sub-1", "g1", "ed1", "@群助手 投稿 本周读书笔记 https://notes.example.com/w1", at))
	}
	f.wecomText("wm-ed", "投稿：分享一篇好文 https://blog.example.com/a", 11)
	bad := map[string]string{
		"not-editor": "投稿 我也想投",
		"empty":      "投稿",
		"too-long":   "投稿 " + strings.Repeat("长", 1001),
		"qr":         "投稿 进群领资料 https://weixin.qq.com/g/AbCdEf",
	}
	for id, text := range bad {
		member := "ed1"
		if id == "not-editor" {
			member = "u1"
		}
		f.relay(relayMessage(id, "g1", member, text, at))
	}

	drafts, err := dynamo.Contributions{Table: f.table}.Drafts(ctx)
	if err != nil || len(drafts) != 2 {
		t.Fatalf("%d drafts (%v), want the editor's two: %+v", len(drafts), err, drafts)
	}
	byGroup := map[string]qunyun.Content{}
	for _, d := range drafts {
		byGroup[d.Contribution.GroupID] = d
	}
	relayDraft := byGroup["g1"]
	if c := relayDraft.Contribution; relayDraft.ID != contribution.ID("sub-1") || c.MemberID != "ed1" || c.State != qunyun.ContentDraft ||
		relayDraft.Text != "本周读书笔记 https://notes.example.com/w1" || relayDraft.Tags[0] != "投稿" {
		t.Errorf("relay draft = %+v %+v", relayDraft, c)
	}
	if c := byGroup["wrC1"].Contribution; c == nil || c.MemberID != "wm-ed" || c.Channel != qunyun.ChannelWeCom {
		t.Errorf("WeCom app draft = %+v", byGroup["wrC1"])
	}

	replies := strings.Join(f.groupReplies("g1"), "\n")
	for _, want := range []string{"已收到你的投稿（编号 " + relayDraft.ID, "只有社群编辑可以投稿", "投稿内容是空的", "最多 1000 字", "含二维码或加群链接"} {
		if !strings.Contains(replies, want) {
			t.Errorf("no reply says %q:\n%s", want, replies)
		}
	}
	if n := len(f.groupReplies("g1")); n != 5 {
		t.Errorf("%d replies in g1, want 5 (one per submission, retries included)", n)
	}
	if r := f.replies("wm-ed"); len(r) != 1 || !strings.Contains(r[0], "已收到你的投稿") {
		t.Errorf("WeCom app reply: %q", r)
	}
}

// otherAccountsYAML: an editor of a relay group only, who also writes to
// the WeCom app (as ed.wecom), the Official Account (o_ed) and the smart
// bot (bot-ed); a moderator with an OA id too.
const otherAccountsYAML = `
accounts: [{id: wecom-qdg, kind: wecom}, {id: relay, kind: relay}, {id: oa-doc, kind: oa}, {id: bot, kind: wecom-bot}]
groups:
  - {id: g1, account: relay, purpose: general}
staff:
  - {id: s-ed, name: 阿青, role: editor, ids: {relay: wxid_ed, oa-doc: o_ed, bot: bot-ed}, groups: [g1], wecomUserId: ed.wecom}
  - {id: s-mod, role: moderator, ids: {relay: wxid_mod, oa-doc: o_mod}, groups: [g1]}
`

// An editor whose groups are on the relay shares a link 1:1 with the WeCom
// app and the Official Account, and writes 「投稿」 to the smart bot: each is
// a draft credited to their id in the group they edit, told where they
// wrote. A moderator's link shared with the Official Account is no
// submission: no draft, and nothing said about it.
func TestEditorSubmitsFromOtherAccounts(t *testing.T) {
	f := newFixture(t, nil)
	applyYAML(t, f, otherAccountsYAML, false)
	ctx := context.Background()
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)

	// The WeCom app: a link message.
	acct := account("wecom-qdg")
	plain := fmt.Sprintf(`<xml><ToUserName>%s</ToUserName><FromUserName>ed.wecom</FromUserName><CreateTime>%s</CreateTime><MsgType>link</MsgType>`+
		`<Title>冬日暖汤的三种做法</Title><Description>适合周末</Description><Url>https://blog.example.com/soup</Url><PicUrl>http://p</PicUrl><MsgId>31</MsgId><AgentID>1000002</AgentID></xml>`, acct.CorpID, ts)
	q, enc := encryptedPost(t, acct, ts, plain)
	if r := f.do("POST", acct.ID, q, "<xml><ToUserName>x</ToUserName><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", nil); r.StatusCode != 200 {
		t.Fatalf("WeCom link: %d %q", r.StatusCode, r.Body)
	}
	// The Official Account: a link message, answered passively.
	oaLink := func(from, id string) string {
		return `<xml><ToUserName>gh</ToUserName><FromUserName>` + from + `</FromUserName><CreateTime>` + ts + `</CreateTime><MsgType>link</MsgType>` +
			`<Title>家常菜十分钟</Title><Description>快手</Description><Url>https://notes.example.com/quick</Url><MsgId>` + id + `</MsgId></xml>`
	}
	r := f.oa("oa-doc", ts, oaLink("o_ed", "41"))
	env, err := wechat.ParseEnvelopeXML([]byte(r.Body))
	if err != nil {
		t.Fatalf("OA link: %d %q: %v", r.StatusCode, r.Body, err)
	}
	c, _ := wechat.NewCrypto("AAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "wx134c8103faa5a59e")
	opened, err := c.Open(between(r.Body, "<MsgSignature><![CDATA[", "]]></MsgSignature>"), between(r.Body, "<TimeStamp>", "</TimeStamp>"),
		between(r.Body, "<Nonce><![CDATA[", "]]></Nonce>"), env.Encrypt)
	if err != nil || !strings.Contains(textReply(t, opened).Content, "已收到你的投稿") {
		t.Fatalf("OA reply %q (%v), want the receipt", opened, err)
	}
	// The smart bot, 1:1.
	bot := account("bot")
	q, enc = encryptedPost(t, bot, ts, `{"msgid":"b-sub","aibotid":"x","chattype":"single","from":{"userid":"bot-ed"},"msgtype":"text","text":{"content":"投稿 本周读书笔记 https://notes.example.com/w2"}}`)
	if r := f.do("POST", "bot", q, `{"encrypt":"`+enc+`"}`, nil); r.StatusCode != 200 {
		t.Fatalf("bot: %d %q", r.StatusCode, r.Body)
	}
	// The moderator's link: no submission.
	if r := f.oa("oa-doc", ts, oaLink("o_mod", "42")); r.StatusCode != 200 || strings.Contains(r.Body, "Encrypt") {
		t.Fatalf("moderator's link: %d %q, want no reply", r.StatusCode, r.Body)
	}

	drafts, err := dynamo.Contributions{Table: f.table}.Drafts(ctx)
	if err != nil || len(drafts) != 3 {
		t.Fatalf("%d drafts (%v), want the editor's three: %+v", len(drafts), err, drafts)
	}
	from := map[qunyun.Channel]string{}
	for _, d := range drafts {
		k := d.Contribution
		if k.GroupID != "g1" || k.MemberID != "wxid_ed" {
			t.Errorf("draft %s credited to %s in %s, want wxid_ed in g1", d.ID, k.MemberID, k.GroupID)
		}
		from[k.Channel] = k.From
	}
	if from[qunyun.ChannelWeCom] != "ed.wecom" || from[qunyun.ChannelOA] != "o_ed" || from[qunyun.ChannelWeComBot] != "bot-ed" {
		t.Errorf("drafts submitted from %v, want each 1:1 id", from)
	}
	if r := f.replies("ed.wecom"); len(r) != 1 || !strings.Contains(r[0], "已收到你的投稿") {
		t.Errorf("WeCom app reply: %q", r)
	}
}
