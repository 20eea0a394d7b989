package callback

import "testing"

func TestQuestionDetection(t *testing.T) {
	texts, err := DefaultTexts()
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Texts: texts}
	for _, tc := range []struct {
		text     string
		mentions []string
		want     bool
	}{
		{"提问 嘉宾怎么看今年的行情", nil, true},
		{"Q: pricing for teams", nil, true},
		{"q：团购怎么算", nil, true},
		{"这个适合小朋友吗", nil, true},
		{"是这样吗。", nil, true},
		{"能不能再讲一遍", nil, true},
		{"为什么要先做用户调研", nil, true},
		{"请问回放在哪里看", nil, true},
		{"真的?", nil, true},
		{"老师讲得好", []string{"host"}, true}, // an @ of the host
		{"@主持人 今晚几点开始？", nil, true},
		{"谢谢老师", nil, false},
		{"好的", nil, false},
		{"哈", nil, false},
		{"收到，明天见", []string{"someone"}, false},
	} {
		if got := s.isQuestion(tc.text, tc.mentions, "host"); got != tc.want {
			t.Errorf("isQuestion(%q, %v) = %v, want %v", tc.text, tc.mentions, got, tc.want)
		}
	}
	for text, want := range map[string]bool{"+1": true, " ＋1 ": true, "同问": true, "@助手 +1": true, "+1 我也想知道": false, "1": false} {
		if got := s.isVote(text); got != want {
			t.Errorf("isVote(%q) = %v", text, got)
		}
	}
}

func TestStripMention(t *testing.T) {
	for in, want := range map[string]string{
		"@助手 打卡":        "打卡",
		"@助手\u2005打卡":   "打卡",
		"@a @b  打卡":     "打卡",
		"打卡":            "打卡",
		"@只有名字":         "@只有名字",
		"  打卡  ":        "打卡",
		"邮箱 a@b.com 打卡": "邮箱 a@b.com 打卡",
	} {
		if got := stripMention(in); got != want {
			t.Errorf("stripMention(%q) = %q, want %q", in, got, want)
		}
	}
}
