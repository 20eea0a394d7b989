package callback_test

import (
	"testing"

	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestAnswerKind(t *testing.T) {
	keywords := []qunyun.KeywordRule{
		{ID: "kw-menu", AccountID: "bot", Match: "contains", Keywords: []string{"菜单"}},
		{ID: "kw-vip", AccountID: "bot", Match: "exact", Keywords: []string{"会员"}, Groups: []string{"g-vip"}},
		{ID: "kw-other", AccountID: "relay", Match: "contains", Keywords: []string{"营业"}},
	}
	checkins := []qunyun.CheckinRule{{ID: "ci", AccountID: "bot", Groups: []string{"g1"}}} // default keywords
	for _, c := range []struct {
		group, account, text, want string
	}{
		{"g1", "bot", "@小满助手 今天的菜单", callback.AnswerKeyword},
		{"g1", "bot", "@小满助手 打卡", callback.AnswerCheckin},
		{"g2", "bot", "打卡", ""},                        // the check-in rule is g1's
		{"g1", "bot", "会员", ""},                        // kw-vip is g-vip's
		{"g-vip", "bot", "会员", callback.AnswerKeyword}, // exact
		{"g-vip", "bot", "会员卡", ""},                    // not exact
		{"g1", "bot", "营业时间", ""},                      // another account's rule
		{"g1", "relay", "营业时间", callback.AnswerKeyword},
	} {
		m := qunyun.Message{AccountID: c.account, GroupID: c.group, Kind: qunyun.KindText, Text: c.text}
		if got := callback.AnswerKind(keywords, checkins, m); got != c.want {
			t.Errorf("%s %s %q: %q, want %q", c.account, c.group, c.text, got, c.want)
		}
	}
}
