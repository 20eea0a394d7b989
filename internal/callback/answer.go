package callback

import (
	"slices"
	"sync"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Kinds of passive reply, as AnswerKind names them.
const (
	AnswerCheckin = "checkin"
	AnswerKeyword = "keyword"
)

var defaultCheckinKeywords = sync.OnceValue(func() []string {
	t, err := DefaultTexts()
	if err != nil {
		return nil // the service refuses to start on it (NewService)
	}
	return t.CheckinKeywords
})

// AnswerKind tells which kind of rule answers a group text message, as
// the callback decides it (a check-in rule before a keyword rule):
// AnswerCheckin, AnswerKeyword or "" for neither. The rules are the
// account's; for reading back what was answered (qunyun get replies).
func AnswerKind(keywords []qunyun.KeywordRule, checkins []qunyun.CheckinRule, m qunyun.Message) string {
	text := stripMention(m.Text)
	for _, r := range checkins {
		words := r.Keywords
		if len(words) == 0 {
			words = defaultCheckinKeywords()
		}
		if r.AccountID == m.AccountID && m.GroupID != "" && appliesTo(r.Groups, m.GroupID) && slices.Contains(words, text) {
			return AnswerCheckin
		}
	}
	for _, r := range keywords {
		if r.AccountID == m.AccountID && appliesTo(r.Groups, m.GroupID) && matches(r, text) {
			return AnswerKeyword
		}
	}
	return ""
}
