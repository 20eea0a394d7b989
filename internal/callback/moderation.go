package callback

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// ModerationStore is what the callback needs of the moderation store
// (dynamo.Moderation): an account's lists and allow-list, and the cases
// moderators answer.
type ModerationStore interface {
	Rules(ctx context.Context, accountID string) (qunyun.ModerationRules, bool, error)
	Allowed(ctx context.Context, accountID string) ([]qunyun.Allow, error)
	Case(ctx context.Context, code string) (qunyun.ModerationCase, bool, error)
	Decide(ctx context.Context, code string, d qunyun.ModerationDecision) (qunyun.ModerationCase, error)
	PutAllow(ctx context.Context, a qunyun.Allow) error
}

// defaultRules are the lists of texts.yaml: what an account that gives
// none in community.yaml moderates by.
func (t Texts) defaultRules() qunyun.ModerationRules {
	return qunyun.ModerationRules{SensitiveWords: t.SensitiveWords, QRWords: t.QRWords, MiniProgramWords: t.MiniProgramWords}
}

// checker returns the account's checker: its community.yaml lists (the
// defaults where it gives none) and the allow-list its moderators grew,
// cached like the keyword rules. A failed read moderates by the defaults:
// at worst the moderators see an alert their allow-list would have spared.
func (s *Service) checker(ctx context.Context, accountID string) *moderation.Checker {
	if s.Moderation == nil {
		return s.Moderator
	}
	c, _, err := s.checkers.load(accountID, s.Now(), func() (*moderation.Checker, bool, error) {
		rules, _, err := s.Moderation.Rules(ctx, accountID)
		if err != nil {
			return nil, false, err
		}
		allows, err := s.Moderation.Allowed(ctx, accountID)
		if err != nil {
			return nil, false, err
		}
		var allowed []moderation.Allowance
		for _, a := range allows {
			group := a.Scope
			if group == qunyun.AllowScopeAccount {
				group = ""
			}
			allowed = append(allowed, moderation.Allowance{Group: group, Kind: a.Kind, Value: a.Value})
		}
		return moderation.NewChecker(rules.WithDefaults(s.Texts.defaultRules()), allowed), true, nil
	})
	if err != nil {
		s.secondary(ctx, "read moderation lists of "+accountID, err)
		return s.Moderator
	}
	return c
}

// stepDecide is a moderator's answer to an alert:
// decide:action=<qunyun.Action*>&code=<case>&word=<the word they used>.
const stepDecide = "decide"

// decision reads "<word> <code>" (「无误 K3F9QX」): a moderator's answer to
// an alert, sent 1:1 to the WeCom app or the smart bot. ok is false for
// any other text.
func (s *Service) decision(text string) (step string, ok bool) {
	word, code, found := strings.Cut(strings.TrimSpace(stripMention(text)), " ")
	code = moderation.NormaliseCode(code)
	if !found || code == "" || strings.ContainsAny(code, " \t") {
		return "", false
	}
	for action, words := range s.Texts.ModerationActions {
		if slices.Contains(words, word) {
			return stepDecide + ":" + url.Values{"action": {action}, "code": {code}, "word": {word}}.Encode(), true
		}
	}
	return "", false
}

// decide carries out a moderator's answer and returns the reply to them:
// only a moderator or owner the group's alerts reach may decide; "fine"
// allows what the case flagged in its group (this container at once,
// others within the minute their lists are cached); hide, mute and remove
// are recorded with who and when, and the reply says what the channel
// leaves to the moderator. A retry records nothing twice.
func (s *Service) decide(ctx context.Context, m qunyun.Message, arg string) (string, error) {
	v, err := url.ParseQuery(arg)
	if err != nil {
		return "", err
	}
	code, action := v.Get("code"), qunyun.ModerationAction(v.Get("action"))
	data := replyData{Code: code, Action: v.Get("word")}
	replies := s.Texts.ModerationReplies
	c, found, err := s.Moderation.Case(ctx, code)
	if err != nil {
		return "", err
	}
	if !found {
		return s.moderatorReply(ctx, m, replies.NotFound, data)
	}
	g, _, err := s.group(ctx, c.GroupID)
	if err != nil {
		return "", err
	}
	members, err := s.Store.Catalog.Members(ctx, c.GroupID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(qunyun.AlertTargets(g, members), m.MemberID) {
		return s.moderatorReply(ctx, m, replies.NotAllowed, data)
	}
	d := qunyun.ModerationDecision{Action: action, By: m.MemberID, At: m.At, Done: action == qunyun.ActionFine}
	if c, err = s.Moderation.Decide(ctx, code, d); err != nil {
		return "", err
	}
	s.checkers.drop(c.AccountID)
	tpl := replies.Recorded
	if action == qunyun.ActionFine {
		tpl = replies.Fine
		for _, got := range c.Decisions {
			if got.Action == action && got.By == m.MemberID {
				data.Allowed = strings.Join(got.Allowed, "、")
			}
		}
		data.Allowed = strings.NewReplacer(moderation.AllowDomain+":", "", moderation.AllowPhrase+":", "").Replace(data.Allowed)
	}
	data.Limit = s.Texts.ChannelLimits[string(c.Channel)]
	return s.moderatorReply(ctx, m, tpl, data)
}

// moderatorReply renders the reply to a moderator. The smart bot answers
// passively; the WeCom app cannot, so push sends it as an app message
// (keyed by the moderator's message, so a retry asks for the same one).
func (s *Service) moderatorReply(ctx context.Context, m qunyun.Message, tpl string, data replyData) (string, error) {
	text, err := s.tpl.render(tpl, data)
	if err != nil {
		s.secondary(ctx, "moderator reply", err)
		return "", nil
	}
	if canReply(m.Channel) {
		return text, nil
	}
	return "", s.publish(ctx, qunyun.EventDeliveryRequested, m.At, qunyun.DeliveryRequest{
		ID: "moderation-reply/" + m.ID, Source: "moderation", TargetKind: qunyun.TargetStaff, TargetID: m.MemberID,
		AccountID: m.AccountID, Content: &qunyun.Content{ID: "moderation-reply", Kind: qunyun.ContentText, Text: text}, Urgent: true,
	})
}
