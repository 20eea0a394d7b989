package callback

import (
	"slices"
	"strings"
	"unicode"
)

// isQuestion decides whether a member's message in a live session is a
// question for the host: an explicit marker, or a question's form (a
// question mark, a question word, a question particle at the end) that is
// not small talk. An @ of the host alone makes none: "@老师 讲得好" is
// thanks, and "是吗？" a reaction; the host's queue is for what needs an
// answer.
func (s *Service) isQuestion(text string) bool {
	t := strings.TrimSpace(stripMention(text))
	if len([]rune(t)) < 2 {
		return false
	}
	for _, mk := range s.Texts.QuestionMarkers {
		if strings.HasPrefix(t, mk) {
			return true
		}
	}
	if slices.Contains(s.Texts.SmallTalk, chatCore(t)) {
		return false
	}
	if strings.ContainsAny(t, "?？") {
		return true
	}
	for _, w := range s.Texts.QuestionWords {
		if strings.Contains(t, w) {
			return true
		}
	}
	// Endings are checked after trailing punctuation and emoji: "好吗。" and "是吗～".
	end := strings.TrimRightFunc(t, notWord)
	for _, e := range s.Texts.QuestionEndings {
		if strings.HasSuffix(end, e) {
			return true
		}
	}
	return false
}

// chatCore is a message without the punctuation, emoji and laughter around
// it, so "哈哈哈真的吗？？" compares as "真的吗".
func chatCore(t string) string {
	return strings.TrimFunc(t, func(r rune) bool {
		return notWord(r) || strings.ContainsRune("哈呵嘿嘻", r)
	})
}

func notWord(r rune) bool {
	return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

// isVote reports whether the whole message is a "+1" for a question.
func (s *Service) isVote(text string) bool {
	t := strings.TrimSpace(stripMention(text))
	return slices.Contains(s.Texts.VoteMarkers, t)
}

// stripMention drops leading "@name " mentions (the smart bot sees its own
// @ in the text), so "@群助手 打卡" is the keyword "打卡".
func stripMention(text string) string {
	t := strings.TrimSpace(text)
	for strings.HasPrefix(t, "@") {
		i := strings.IndexFunc(t, func(r rune) bool { return r == ' ' || r == '\u2005' || r == '\u3000' })
		if i < 0 {
			return t
		}
		t = strings.TrimSpace(strings.TrimLeft(t[i:], " \u2005\u3000"))
	}
	return t
}
