package moderation_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestMatcherFindsOverlappingWords(t *testing.T) {
	m := moderation.NewMatcher([]string{"he", "she", "his", "hers", "加微信", "微信", "VX"})
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"ushers", []string{"she", "he", "hers"}},
		{"请加微信聊", []string{"微信", "加微信"}},
		{"加ｖｘ", []string{"VX"}}, // full-width, other case
		{"nothing at all", nil},
		{"", nil},
	} {
		got := m.Find(tc.text)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Find(%q) = %v, want %v", tc.text, got, want)
		}
	}
	if got := moderation.NewMatcher(nil).Find("abc"); got != nil {
		t.Fatalf("empty matcher found %v", got)
	}
}

// Against a naive scan on generated text, the automaton finds the same set.
func TestMatcherAgreesWithNaiveScan(t *testing.T) {
	words := []string{"ab", "abc", "bca", "c", "caab", "刷单", "单日结"}
	m := moderation.NewMatcher(words)
	alphabet := []string{"a", "b", "c", "刷", "单", "日", "结"}
	seed := uint32(7)
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for j := 0; j < 12; j++ {
			seed = seed*1664525 + 1013904223
			b.WriteString(alphabet[seed>>16%uint32(len(alphabet))])
		}
		text := b.String()
		var want []string
		for _, w := range words {
			if strings.Contains(text, w) {
				want = append(want, w)
			}
		}
		got := m.Find(text)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Find(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestSignals(t *testing.T) {
	c := &moderation.Checker{
		Sensitive:        moderation.NewMatcher([]string{"刷单"}),
		QRWords:          moderation.NewMatcher([]string{"扫码"}),
		MiniProgramWords: moderation.NewMatcher([]string{"小程序"}),
	}
	for _, tc := range []struct {
		m    moderation.Message
		want []string
	}{
		{moderation.Message{Kind: qunyun.KindText, Text: "大家好"}, nil},
		{moderation.Message{Kind: qunyun.KindText, Text: "看这里 https://a.example.com/x"}, []string{qunyun.SignalLink}},
		{moderation.Message{Kind: qunyun.KindText, Text: "打开 abc.cn 领取"}, []string{qunyun.SignalLink}},
		{moderation.Message{Kind: qunyun.KindText, Text: "扫码进群"}, []string{qunyun.SignalQRCode}},
		{moderation.Message{Kind: qunyun.KindMiniProgram}, []string{qunyun.SignalMiniProgram}},
		{moderation.Message{Kind: qunyun.KindCard}, []string{qunyun.SignalCard}},
		{moderation.Message{Kind: qunyun.KindText, Text: "兼职刷单"}, []string{qunyun.SignalSensitive}},
	} {
		got, _ := c.Signals(tc.m)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Signals(%+v) = %v, want %v", tc.m, got, tc.want)
		}
	}
}

func TestFlood(t *testing.T) {
	f := moderation.NewFlood(3, 10*time.Second)
	t0 := time.Unix(1000, 0)
	var flags []bool
	for i, id := range []string{"a", "b", "c", "c", "d", "e"} {
		flags = append(flags, f.Add("g", "u", id, t0.Add(time.Duration(i)*time.Second)))
	}
	// The retry of "c" is not counted; "d" is the 4th in 10 s.
	if want := []bool{false, false, false, false, true, true}; !slices.Equal(flags, want) {
		t.Fatalf("flags %v, want %v", flags, want)
	}
	if f.Add("g", "u", "late", t0.Add(time.Minute)) {
		t.Fatal("a message after a quiet minute is not a flood")
	}
	if f.Add("g", "other", "x", t0.Add(5*time.Second)) {
		t.Fatal("another member is counted separately")
	}
}

func BenchmarkMatcher(b *testing.B) {
	words := make([]string, 0, 2000)
	for i := 0; i < 2000; i++ {
		words = append(words, string(rune(0x4e00+i))+string(rune(0x4e00+2*i+1)))
	}
	m := moderation.NewMatcher(words)
	text := strings.Repeat("今天的分享非常有帮助，谢谢老师，期待下次再见。", 4)
	b.ReportAllocs()
	for b.Loop() {
		m.Find(text)
	}
}

func TestDefang(t *testing.T) {
	for in, want := range map[string]string{
		"看 https://spam.example/x?a=1 吧":   "看 hxxps://spam[.]example/x?a=1 吧",
		"HTTP://Spam.Example":              "hxxp://Spam[.]Example",
		"加 spam.com/x 领":                   "加 spam[.]com/x 领",
		"www.spam.cn":                      "www[.]spam[.]cn",
		"httpbin.org":                      "httpbin[.]org",
		"Mr.Wang 你好。{{.Group.ID}}":         "Mr.Wang 你好。{{.Group.ID}}",
		"课件在 https://docs.example.com，别错过": "课件在 hxxps://docs[.]example[.]com，别错过",
	} {
		if got := moderation.Defang(in); got != want {
			t.Errorf("Defang(%q) = %q, want %q", in, got, want)
		}
	}
	// A defanged text has no link left for Signals to find.
	c := &moderation.Checker{}
	if sig, _ := c.Signals(moderation.Message{Text: moderation.Defang("https://a.example.com spam.com www.x.cn")}); len(sig) != 0 {
		t.Errorf("signals after Defang: %v", sig)
	}
}
