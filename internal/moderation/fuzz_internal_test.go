package moderation

import (
	"slices"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// foldString is the text as the matcher compares it: rune by rune, each
// invalid byte a utf8.RuneError.
func foldString(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(fold(r))
	}
	return b.String()
}

// FuzzMatcher builds a matcher from a fuzzed word list (one a line) and
// checks Find against the naive search: it finds exactly the distinct
// listed words whose folded form occurs in the folded text. Signals on the
// same text raise sensitive exactly when a word is found, list each signal
// once, and only known ones; Excerpt keeps at most n characters on one line.
func FuzzMatcher(f *testing.F) {
	// The callback's lists (internal/callback/texts.yaml) and member texts.
	f.Add("代开发票\n刷单\nvx\n薇信\n加我微信", "加我ＶＸ领红包 https://spam.example.com", uint8(60))
	f.Add("扫码\n二维码\n长按识别", "长按识别二维码进群 weixin.qq.com/g/abc", uint8(10))
	f.Add("小程序\nmp.weixin.qq.com/a/\n#小程序://", "打开#小程序://商城/abc", uint8(5))
	f.Add("ab\nb\nabc\nbc\n", "xabcx", uint8(0))
	f.Add(" \n\n", "\xff\xfe", uint8(1))
	f.Fuzz(func(t *testing.T, list, text string, n uint8) {
		words := strings.Split(list, "\n")
		found := NewMatcher(words).Find(text)
		var want []string
		for _, w := range words {
			w = strings.TrimSpace(w)
			if w != "" && !slices.Contains(want, w) && strings.Contains(foldString(text), foldString(w)) {
				want = append(want, w)
			}
		}
		if !sameSet(found, want) {
			t.Fatalf("Find(%q) in %q = %q, want %q", words, text, found, want)
		}

		c := &Checker{Sensitive: NewMatcher(words), QRWords: NewMatcher(nil), MiniProgramWords: NewMatcher(nil)}
		signals, sensitive := c.Signals(Message{Kind: qunyun.KindText, Text: text})
		if slices.Contains(signals, qunyun.SignalSensitive) != (len(sensitive) > 0) || !sameSet(sensitive, want) {
			t.Fatalf("signals %q with words %q, want the words %q", signals, sensitive, want)
		}
		for i, s := range signals {
			if slices.Contains(signals[:i], s) || !slices.Contains([]string{qunyun.SignalLink, qunyun.SignalQRCode,
				qunyun.SignalMiniProgram, qunyun.SignalCard, qunyun.SignalSensitive}, s) {
				t.Fatalf("signals %q", signals)
			}
		}

		ex := Excerpt(text, int(n))
		if r := []rune(strings.TrimSuffix(ex, "…")); len(r) > int(n) || strings.ContainsAny(ex, "\n\r\t") {
			t.Fatalf("Excerpt(%q, %d) = %q", text, n, ex)
		}
	})
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}
