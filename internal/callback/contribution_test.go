package callback_test

import (
	"context"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/contribution"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
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
