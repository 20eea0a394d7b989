package callback

import (
	"context"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Stores are the parts of the table the callback uses, each an interface
// of its own; main gives it the dynamo stores.
type Stores struct {
	Log        Log
	Followups  Followups
	Sessions   Sessions
	Catalog    Catalog
	Membership Membership
	Links      Links
	// Texts are the accounts' own replies; nil: every account uses
	// texts.yaml's.
	Texts AccountTexts
}

// Log is where the callback records what happened, once: messages, group
// and account events, check-ins, subscriptions and relay id claims
// (dynamo.Log).
type Log interface {
	RecordMessage(ctx context.Context, m qunyun.Message, f qunyun.Followup) (qunyun.Message, qunyun.Recorded, error)
	RecordGroupEvent(ctx context.Context, e qunyun.GroupEvent, f qunyun.Followup) (qunyun.Recorded, error)
	RecordAccountEvent(ctx context.Context, e qunyun.AccountEvent, f qunyun.Followup) (qunyun.Recorded, error)
	CheckIn(ctx context.Context, groupID, memberID, msgID, today, yesterday string) (qunyun.CheckinStreak, bool, error)
	RecordCheckin(ctx context.Context, groupID, memberID, localDate string, streak int, at time.Time) error
	NoteSubscribed(ctx context.Context, accountID, memberID string, at time.Time) error
	DeletePersonData(ctx context.Context, accountID, memberID string) (int, error)
	AnchorBotMessage(ctx context.Context, accountID, msgID string, now time.Time) (time.Time, error)
	ClaimRelayID(ctx context.Context, accountID, id string, c qunyun.RelayClaim) (qunyun.RelayClaim, error)
}

// Followups is the work after a record that is still to do, and the notes
// that let Resume finish it (dynamo.Followups).
type Followups interface {
	FinishFollowup(ctx context.Context, r qunyun.Record, reply string) error
	NoteStuckFollowup(ctx context.Context, r qunyun.Record, now time.Time) error
	FollowupNotes(ctx context.Context, date string) ([]qunyun.FollowupNote, error)
	ClaimFollowupNote(ctx context.Context, n *qunyun.FollowupNote, now time.Time) (bool, error)
	FollowupRecord(ctx context.Context, n qunyun.FollowupNote) (qunyun.StuckRecord, bool, error)
	ClearFollowupNote(ctx context.Context, n qunyun.FollowupNote) error
}

// Sessions is what the callback reads and writes of live sessions: which
// groups have one, and the questions members ask (dynamo.Sessions).
type Sessions interface {
	LiveSessions(ctx context.Context) (map[string]qunyun.LiveSession, error)
	CaptureQuestion(ctx context.Context, q qunyun.Question) (bool, error)
	VoteQuestion(ctx context.Context, sessionID, questionSK, memberID string) (bool, error)
	OpenQuestion(ctx context.Context, sessionID, replyTo string) (string, bool, error)
}

// Catalog is what the callback reads of the community, and the group
// records a group event changes (dynamo.Catalog).
type Catalog interface {
	Rules(ctx context.Context, accountID string) ([]qunyun.KeywordRule, []qunyun.CheckinRule, error)
	Group(ctx context.Context, id string) (qunyun.Group, bool, error)
	Member(ctx context.Context, groupID, memberID string) (qunyun.Member, bool, error)
	Members(ctx context.Context, groupID string) ([]qunyun.Member, error)
	MemberGroups(ctx context.Context, memberID string) ([]qunyun.Member, error)
	UpdateGroup(ctx context.Context, id string, fn func(g *qunyun.Group, found bool) error) (qunyun.Group, error)
}

// Membership is who is in a group: a join or leave moves the member in or
// out and adds what it did to the group's member count, creating the group
// from g when missing (dynamo.Membership).
type Membership interface {
	MoveMember(ctx context.Context, g qunyun.Group, memberID string, fn func(m *qunyun.Member, found bool) error) (int, error)
}

// Links are the tracked links the callback redirects and counts
// (dynamo.Links).
type Links interface {
	Link(ctx context.Context, code string) (qunyun.Link, bool, error)
	RecordLinkOpen(ctx context.Context, l qunyun.Link, o qunyun.LinkOpen, requestID, ua string) error
}

// AccountTexts are the replies an account set for itself in community.yaml
// (dynamo.Texts); found=false means it set none.
type AccountTexts interface {
	AccountTexts(ctx context.Context, accountID string) (qunyun.AccountTexts, bool, error)
}
