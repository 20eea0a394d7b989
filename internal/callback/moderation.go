package callback

import (
	"context"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// ModerationStore is what the callback needs of the moderation store
// (dynamo.Moderation): an account's lists and allow-list, and the cases
// moderators answer.
type ModerationStore interface {
	Rules(ctx context.Context, accountID string) (qunyun.ModerationRules, bool, error)
	Allowed(ctx context.Context, accountID string) ([]dynamo.Allow, error)
	Case(ctx context.Context, code string) (qunyun.ModerationCase, bool, error)
	Decide(ctx context.Context, code string, d qunyun.ModerationDecision) (qunyun.ModerationCase, error)
	PutAllow(ctx context.Context, a dynamo.Allow) error
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
			if group == dynamo.AllowScopeAccount {
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
