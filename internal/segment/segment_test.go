package segment_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/segment"
)

func shared(tb testing.TB) *segment.Segmenter {
	tb.Helper()
	s, err := segment.Shared()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestCut(t *testing.T) {
	s := shared(t)
	got := s.Cut("今晚八点雷军嘉宾分享，主题是小米汽车的供应链管理")
	for _, want := range []string{"雷军", "嘉宾", "分享", "供应链"} {
		if !slices.Contains(got, want) {
			t.Errorf("Cut lacks %q: %q", want, got)
		}
	}
	if slices.Contains(got, " ") || slices.Contains(got, "") {
		t.Errorf("Cut kept blanks: %q", got)
	}
}

func TestKeywords(t *testing.T) {
	s := shared(t)
	text := "今晚八点雷军嘉宾分享，主题是小米汽车的供应链管理。供应链管理的核心是库存周转和供应商协同。"
	kws := s.Keywords(text, 5)
	if len(kws) != 5 {
		t.Fatalf("got %d keywords: %v", len(kws), kws)
	}
	words := []string{}
	for i, k := range kws {
		words = append(words, k.Word)
		if i > 0 && k.Weight > kws[i-1].Weight {
			t.Errorf("not sorted by weight: %v", kws)
		}
		if !s.Content(k.Word) {
			t.Errorf("non-content keyword %q", k.Word)
		}
	}
	if !slices.Contains(words, "供应链") {
		t.Errorf("the repeated specific term 供应链 is not a top keyword: %v", words)
	}
	for _, stop := range []string{"的", "是", "主题是"} {
		if slices.Contains(words, stop) {
			t.Errorf("stop word %q among keywords", stop)
		}
	}
	if again := s.Keywords(text, 5); !slices.Equal(kws, again) {
		t.Errorf("keywords are not deterministic: %v vs %v", kws, again)
	}
}

func TestContentDropsStopWords(t *testing.T) {
	s := shared(t)
	for _, w := range []string{"我们", "什么", "可以", "大家", "The", "with", "8", "！！", "库",
		"楼上", "一起", "一周", "新来", "报到", "请多关照", "同问"} { // gse's list, then fillers.txt
		if s.Content(w) {
			t.Errorf("Content(%q) = true, want false", w)
		}
	}
	for _, w := range []string{"供应链", "库存", "Python", "小米"} {
		if !s.Content(w) {
			t.Errorf("Content(%q) = false, want true", w)
		}
	}
	kws := s.Keywords("我们今天聊什么？我们可以聊聊库存周转，大家可以提问。", 10)
	for _, k := range kws {
		if k.Word == "我们" || k.Word == "可以" || k.Word == "大家" {
			t.Errorf("stop word %q among keywords %v", k.Word, kws)
		}
	}
}

func TestSentences(t *testing.T) {
	got := segment.Sentences("第一句。第二句！ 第三句？\n第四句; fifth? \n\n")
	want := []string{"第一句。", "第二句！", "第三句？", "第四句;", "fifth?"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestKeySentencesRanksInformationNotLength: a long, padded sentence loses
// to short ones that carry the text's key terms.
func TestKeySentencesRanksInformationNotLength(t *testing.T) {
	s := shared(t)
	sentences := []string{
		"嗯嗯好的好的，那个那个，我们我们就是说呢，其实吧就是这样这样的，大家大家好好好好。",
		"私域运营的关键是复购率，复购率决定了社群的长期价值。",
		"谢谢大家。",
		"提升复购率要靠会员分层和精准的内容推送。",
		"今天天气不错，我刚吃完饭，大家吃了吗，哈哈哈哈哈哈哈。",
		"社群的长期价值来自复购率，复购率是私域运营的关键。",
	}
	got := s.KeySentences(sentences, 2)
	if len(got) != 2 {
		t.Fatalf("got %d sentences: %+v", len(got), got)
	}
	idx := []int{got[0].Index, got[1].Index}
	if !slices.Contains(idx, 1) && !slices.Contains(idx, 5) || !slices.Contains(idx, 3) {
		t.Errorf("picked %v, want one of the 复购率 sentences (1 or 5) and 3", idx)
	}
	if slices.Contains(idx, 1) && slices.Contains(idx, 5) {
		t.Errorf("picked two sentences that say the same thing: %v", idx)
	}
	if got[0].Index > got[1].Index {
		t.Errorf("not in original order: %v", idx)
	}
	for _, c := range got {
		if strings.Contains(c.Text, "嗯嗯") {
			t.Errorf("the padded filler sentence was picked: %q", c.Text)
		}
	}
	if len(s.KeySentences(nil, 3)) != 0 || len(s.KeySentences([]string{"。。。", "好的"}, 3)) != 0 {
		t.Error("sentences without content words were picked")
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := segment.Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeySentences(b *testing.B) {
	s := shared(b)
	text := strings.Repeat("私域运营的关键是复购率，复购率决定了社群的长期价值。提升复购率要靠会员分层和精准的内容推送。", 40)
	sentences := segment.Sentences(text)
	b.ResetTimer()
	for b.Loop() {
		s.KeySentences(sentences, 5)
	}
}
