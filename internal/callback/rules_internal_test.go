package callback

import "testing"

func TestQuestionDetection(t *testing.T) {
	texts, err := DefaultTexts()
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Texts: texts}
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"提问 嘉宾怎么看今年的行情", true},
		{"Q: pricing for teams", true},
		{"q：团购怎么算", true},
		{"这个适合小朋友吗", true},
		{"是这样吗。", true},
		{"能不能再讲一遍", true},
		{"为什么要先做用户调研", true},
		{"请问回放在哪里看", true},
		{"真的?", true},
		{"@主持人 今晚几点开始？", true},
		{"@主持人 老师讲得好", false}, // an @ of the host is not a question by itself
		{"谢谢老师", false},
		{"好的", false},
		{"哈", false},
		{"收到，明天见", false},
		// Small talk in a question's form.
		{"是吗？", false},
		{"哈哈哈真的吗？？", false},
		{"@主持人 在吗", false},
		{"然后呢～", false},
		{"提问：是吗", true}, // a marker is explicit
	} {
		if got := s.isQuestion(tc.text); got != tc.want {
			t.Errorf("isQuestion(%q) = %v, want %v", tc.text, got, tc.want)
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
