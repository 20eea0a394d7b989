package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// `get replies` lists what the smart bot answered at once, with the kind of
// rule that answers it by the demo's rules, as a table and as --json.
func TestGetReplies(t *testing.T) {
	tb, targs := appliedDemo(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	for _, c := range []struct{ id, text, reply string }{
		{"b1", "@小满助手 今日推荐", "今日菜单在这里"},
		{"b2", "@小满助手 打卡", "打卡成功！"},
		{"b3", "@小满助手 你好", ""},
	} {
		m := qunyun.Message{ID: c.id, AccountID: "demo-bot", Channel: qunyun.ChannelWeComBot, GroupID: "g-learning",
			MemberID: "wm-1", Kind: qunyun.KindText, Text: c.text, At: at}
		at = at.Add(time.Minute)
		if _, _, err := (dynamo.Log{Table: tb}).RecordMessage(ctx, m, qunyun.Followup{Reply: c.reply}); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := run(t, "", append([]string{"get", "replies", "--date", "2026-11-22"}, targs...)...)
	if err != nil || !strings.Contains(out, "g-learning  wm-1    keyword  @小满助手 今日推荐  今日菜单在这里") ||
		!strings.Contains(out, "checkin  @小满助手 打卡") || strings.Contains(out, "你好") {
		t.Fatalf("get replies: %v\n%s", err, out)
	}
	out, _, err = run(t, "", append([]string{"get", "replies", "--date", "2026-11-22", "--group", "g-learning", "--json"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := checkStyle(t, "get replies", out).([]any)
	if len(list) != 2 {
		t.Fatalf("get replies --json: %s", out)
	}
	hasKeys(t, "get replies", list[0], "at", "group", "account", "channel", "member", "text", "reply", "kind")
	if k := list[0].(map[string]any)["kind"]; k != "keyword" {
		t.Errorf("first reply's kind %v, want keyword", k)
	}
}
