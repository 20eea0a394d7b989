package callback

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/qunyun/qunyun/internal/qunyun"
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

// ruleSet is what an account set for itself: its rules and its own
// replies, read together and kept for rulesTTL.
type ruleSet struct {
	keyword []qunyun.KeywordRule
	checkin []qunyun.CheckinRule
	texts   qunyun.AccountTexts
}

func (s *Service) ruleSet(ctx context.Context, accountID string) (ruleSet, error) {
	rs, _, err := s.rules.load(accountID, s.Now(), func() (ruleSet, bool, error) {
		kw, ci, err := s.Store.Catalog.Rules(ctx, accountID)
		if err != nil {
			return ruleSet{}, false, err
		}
		rs := ruleSet{keyword: kw, checkin: ci}
		if s.Store.Texts != nil {
			if rs.texts, _, err = s.Store.Texts.AccountTexts(ctx, accountID); err != nil {
				return ruleSet{}, false, err
			}
		}
		return rs, true, nil
	})
	return rs, err
}

// ownOr is the account's own text, or def when it set none.
func ownOr(own, def string) string {
	if own != "" {
		return own
	}
	return def
}

// checkinRule returns the check-in rule a group text message matches.
func (s *Service) checkinRule(ctx context.Context, m qunyun.Message) (*qunyun.CheckinRule, error) {
	if m.GroupID == "" || m.Kind != qunyun.KindText {
		return nil, nil
	}
	text := stripMention(m.Text)
	rs, err := s.ruleSet(ctx, m.AccountID)
	if err != nil {
		return nil, err
	}
	for i := range rs.checkin {
		r := &rs.checkin[i]
		words := r.Keywords
		if len(words) == 0 {
			words = s.Texts.CheckinKeywords
		}
		if appliesTo(r.Groups, m.GroupID) && slices.Contains(words, text) {
			return r, nil
		}
	}
	return nil, nil
}

// checkin counts a check-in: one per member per local day of the group,
// with the streak. The message that counted it (and any retry of that
// message) gets the streak reply; any other that day, the "again" reply.
func (s *Service) checkin(ctx context.Context, m qunyun.Message, ruleID string) (string, error) {
	g, _, err := s.group(ctx, m.GroupID)
	if err != nil {
		return "", err // the day depends on the group's zone: do not guess it
	}
	local := m.At.In(g.Location())
	today := local.Format(time.DateOnly)
	yesterday := local.AddDate(0, 0, -1).Format(time.DateOnly)
	streak, counted, err := s.Store.Log.CheckIn(ctx, m.GroupID, m.MemberID, m.ID, today, yesterday)
	if err != nil {
		return "", err
	}
	rs, err := s.ruleSet(ctx, m.AccountID)
	if err != nil {
		return "", err
	}
	tpl := ownOr(rs.texts.CheckinAgain, s.Texts.CheckinAgainReply)
	reward := ""
	if counted {
		// An idempotent overwrite: a retry writes the same log item. A
		// late check-in (a later day counted first) is in no streak.
		logged := streak.Streak
		if streak.Last > today {
			logged = 0
		}
		if err := s.Store.Log.RecordCheckin(ctx, m.GroupID, m.MemberID, today, logged, m.At); err != nil {
			return "", err
		}
		tpl = s.Texts.CheckinReply
		for _, r := range rs.checkin {
			if r.ID != ruleID {
				continue
			}
			if r.Reply != "" {
				tpl = r.Reply
			}
			reward = rewardOf(r, logged)
		}
	}
	data := replyData{Name: m.MemberName, Group: m.GroupID, Streak: streak.Streak, Total: streak.Total}
	reply, err := s.tpl.render(tpl, data)
	if err != nil {
		// A broken template is configuration: a retry cannot mend it.
		s.secondary(ctx, "check-in reply", err)
		return "", nil
	}
	if reward != "" {
		data.Reward = reward
		line, err := s.tpl.render(s.Texts.CheckinRewardReply, data)
		if err != nil {
			s.secondary(ctx, "check-in reward", err)
			return reply, nil
		}
		reply += "\n" + line
	}
	return reply, nil
}

// keywordReply answers a text by the account's keyword rules ("" for none).
func (s *Service) keywordReply(ctx context.Context, m qunyun.Message) (string, error) {
	if m.Kind != qunyun.KindText || m.Text == "" {
		return "", nil
	}
	text := stripMention(m.Text)
	rs, err := s.ruleSet(ctx, m.AccountID)
	if err != nil {
		return "", err
	}
	for _, r := range rs.keyword {
		if !appliesTo(r.Groups, m.GroupID) || !matches(r, text) {
			continue
		}
		reply, err := s.tpl.render(r.Reply, replyData{Name: m.MemberName, Group: m.GroupID})
		if err != nil {
			s.secondary(ctx, "keyword reply "+r.ID, err)
			return "", nil
		}
		return reply, nil
	}
	return "", nil
}

func matches(r qunyun.KeywordRule, text string) bool {
	for _, k := range r.Keywords {
		if k == "" {
			continue
		}
		if r.Match == "contains" && strings.Contains(text, k) {
			return true
		}
		if r.Match != "contains" && text == k {
			return true
		}
	}
	return false
}

// appliesTo reports whether a rule limited to groups covers groupID; an
// empty list covers every group and 1:1.
func appliesTo(groups []string, groupID string) bool {
	return len(groups) == 0 || slices.Contains(groups, groupID)
}
