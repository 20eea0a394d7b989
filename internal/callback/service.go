package callback

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Store is what the callback needs from the table (*dynamo.Table).
type Store interface {
	RecordMessage(ctx context.Context, m qunyun.Message) (bool, error)
	RecordGroupEvent(ctx context.Context, e qunyun.GroupEvent) (bool, error)
	RecordAccountEvent(ctx context.Context, e qunyun.AccountEvent) (bool, error)
	GroupLiveSession(ctx context.Context, groupID string) (qunyun.LiveSession, bool, error)
	CaptureQuestion(ctx context.Context, q qunyun.Question) (bool, error)
	VoteQuestion(ctx context.Context, sessionID, questionSK, memberID string) (bool, error)
	OpenQuestion(ctx context.Context, sessionID, replyTo string) (string, bool, error)
	CheckIn(ctx context.Context, groupID, memberID, today, yesterday string) (qunyun.CheckinStreak, bool, error)
	RecordCheckin(ctx context.Context, groupID, memberID, localDate string, streak int, at time.Time) error
	Rules(ctx context.Context, accountID string) ([]qunyun.KeywordRule, []qunyun.CheckinRule, error)
	Group(ctx context.Context, id string) (qunyun.Group, bool, error)
	Member(ctx context.Context, groupID, memberID string) (qunyun.Member, bool, error)
	UpdateGroup(ctx context.Context, id string, fn func(g *qunyun.Group, found bool) error) (qunyun.Group, error)
	UpdateMember(ctx context.Context, groupID, memberID string, fn func(m *qunyun.Member, found bool) error) (qunyun.Member, error)
	Link(ctx context.Context, code string) (qunyun.Link, bool, error)
	RecordLinkOpen(ctx context.Context, l qunyun.Link, o qunyun.LinkOpen, requestID, ua string) error
	TouchPerson(ctx context.Context, accountID, memberID string, at time.Time, subscribed bool) error
	DeletePersonData(ctx context.Context, accountID, memberID string) (int, error)
	AnchorBotMessage(ctx context.Context, accountID, msgID string, now time.Time) (time.Time, error)
}

var _ Store = (*dynamo.Table)(nil)

// Publisher puts events on the bus (*bus.Publisher).
type Publisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// Inbound is one callback, normalised: at most one of Message, GroupEvents
// and AccountEvent is set. The handler builds it from the wire formats.
type Inbound struct {
	Account      qunyun.Account
	Message      *qunyun.Message
	GroupEvents  []qunyun.GroupEvent
	AccountEvent *qunyun.AccountEvent
	// BotWelcome asks for the smart bot's welcome (enter_chat).
	BotWelcome bool
}

// Outcome is what the handler answers with.
type Outcome struct {
	Reply     string // passive reply text, "" for none
	Duplicate bool   // the callback had been recorded before
}

// Service records inbound callbacks once and runs the inline rules.
type Service struct {
	Store     Store
	Bus       Publisher // nil: publish nothing (tools, tests)
	Now       func() time.Time
	Log       *slog.Logger
	Metrics   *metrics.Emitter // nil: no metrics
	Texts     Texts
	Moderator *moderation.Checker
	Flood     *moderation.Flood

	live    *cache[string, qunyun.LiveSession]
	rules   *cache[string, ruleSet]
	groups  *cache[string, qunyun.Group]
	members *cache[string, qunyun.Member]
	links   *cache[string, qunyun.Link]
	tpl     templates
}

type ruleSet struct {
	keyword []qunyun.KeywordRule
	checkin []qunyun.CheckinRule
}

// Cache lifetimes. The live pointer is short so at most the first half
// minute of a session goes uncaptured in a container that cached "no
// session"; rules and groups change by config apply, a minute is fine.
const (
	liveTTL   = 30 * time.Second
	rulesTTL  = 60 * time.Second
	groupTTL  = 5 * time.Minute
	memberTTL = 5 * time.Minute
	linkTTL   = 10 * time.Minute
)

// NewService builds a service with the embedded texts and moderation lists.
func NewService(store Store, pub Publisher, now func() time.Time, log *slog.Logger) (*Service, error) {
	texts, err := DefaultTexts()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{
		Store: store, Bus: pub, Now: now, Log: log, Texts: texts,
		Moderator: &moderation.Checker{
			Sensitive:        moderation.NewMatcher(texts.SensitiveWords),
			QRWords:          moderation.NewMatcher(texts.QRWords),
			MiniProgramWords: moderation.NewMatcher(texts.MiniProgramWords),
		},
		Flood:   moderation.NewFlood(texts.FloodMax, texts.FloodWindow),
		live:    newCache[string, qunyun.LiveSession](liveTTL, 10000),
		rules:   newCache[string, ruleSet](rulesTTL, 1000),
		groups:  newCache[string, qunyun.Group](groupTTL, 10000),
		members: newCache[string, qunyun.Member](memberTTL, 50000),
		links:   newCache[string, qunyun.Link](linkTTL, 50000),
	}, nil
}

// Handle records in once and runs what must answer now. It fails (and the
// handler answers 503 so WeChat retries) only when a record could not be
// written; every record is a conditional put, so the retry is safe. Work
// after the record (rules, upserts, publishing) is logged and counted when
// it fails, never failed back to WeChat.
func (s *Service) Handle(ctx context.Context, in Inbound) (Outcome, error) {
	var out Outcome
	var err error
	switch {
	case in.Message != nil:
		out, err = s.message(ctx, in.Account, *in.Message)
	case len(in.GroupEvents) > 0:
		out, err = s.groupEvents(ctx, in.GroupEvents)
	case in.AccountEvent != nil:
		out, err = s.accountEvent(ctx, *in.AccountEvent)
	}
	if err == nil && in.BotWelcome && out.Reply == "" {
		out.Reply = s.Texts.BotWelcomeReply
	}
	return out, err
}

func (s *Service) message(ctx context.Context, acct qunyun.Account, m qunyun.Message) (Outcome, error) {
	var live qunyun.LiveSession
	var isLive bool
	var question, vote bool
	if m.GroupID != "" {
		live, isLive = s.liveSession(ctx, m.GroupID)
		if isLive && m.MemberID != live.HostMemberID {
			vote = s.isVote(m.Text)
			question = !vote && s.isQuestion(m.Text, m.Mentions, live.HostMemberID)
		}
		if question {
			m.SessionID = live.SessionID
		}
		m.Signals = s.signals(ctx, m)
	}

	created, err := s.Store.RecordMessage(ctx, m)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Duplicate: !created}

	if m.GroupID == "" {
		if created && acct.Kind == qunyun.ChannelOA {
			s.secondary(ctx, "touch person", s.Store.TouchPerson(ctx, m.AccountID, m.MemberID, m.At, false))
		}
	} else {
		if question {
			s.captureQuestion(ctx, m, live)
		}
		if vote {
			s.vote(ctx, m, live)
		}
		if created && len(m.Signals) > 0 {
			s.publish(ctx, qunyun.EventModerationHit, ModerationHit{
				ID: m.ID, AccountID: m.AccountID, GroupID: m.GroupID, MemberID: m.MemberID,
				MemberName: m.MemberName, MessageID: m.ID, Signals: m.Signals,
				Excerpt: moderation.Excerpt(m.Text, 60), Text: moderation.Excerpt(m.Text, 200),
			})
		}
	}
	// Inline replies run on retries too: WeChat retries when we were slow,
	// and the retry deserves the same answer. Each rule is idempotent.
	if reply, ok := s.checkin(ctx, m); ok {
		out.Reply = reply
	} else {
		out.Reply = s.keywordReply(ctx, m)
	}
	return out, nil
}

// ModerationHit is the detail of a ModerationHit event; push turns it into
// an alert to the group's moderators. Text (up to 200 characters) is what
// push quotes; Excerpt (60) is for one-line views.
type ModerationHit struct {
	ID         string   `json:"id"`
	AccountID  string   `json:"account"`
	GroupID    string   `json:"group"`
	MemberID   string   `json:"member"`
	MemberName string   `json:"memberName,omitempty"`
	MessageID  string   `json:"messageId"`
	Signals    []string `json:"signals"`
	Excerpt    string   `json:"excerpt"`
	Text       string   `json:"text"`
}

// MemberJoined is the detail of a MemberJoined event (push: welcome journey).
type MemberJoined struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account"`
	GroupID   string    `json:"group"`
	MemberID  string    `json:"member"`
	Name      string    `json:"name,omitempty"`
	Scene     int       `json:"scene"`
	At        time.Time `json:"at"`
}

// liveSession reads the group's live pointer through the cache. A failed
// read means no capture for this message, not a failed callback.
func (s *Service) liveSession(ctx context.Context, groupID string) (qunyun.LiveSession, bool) {
	now := s.Now()
	l, found, err := s.live.load(groupID, now, func() (qunyun.LiveSession, bool, error) {
		return s.Store.GroupLiveSession(ctx, groupID)
	})
	if err != nil {
		s.secondary(ctx, "read live session", err)
		return l, false
	}
	if !found || (!l.End.IsZero() && !l.End.After(now)) {
		return l, false
	}
	return l, true
}

// signals runs moderation on a group message; staff are exempt.
func (s *Service) signals(ctx context.Context, m qunyun.Message) []string {
	if s.Moderator == nil {
		return nil
	}
	sig, _ := s.Moderator.Signals(moderation.Message{Kind: m.Kind, Text: m.Text, URL: m.URL})
	if s.Flood != nil && s.Flood.Add(m.GroupID, m.MemberID, m.ID, m.At) {
		sig = append(sig, qunyun.SignalFlood)
	}
	if len(sig) == 0 {
		return nil
	}
	// Only now is the member's role worth a (cached) read.
	if mem, found := s.member(ctx, m.GroupID, m.MemberID); found && mem.Role.Staff() {
		return nil
	}
	return sig
}

func (s *Service) member(ctx context.Context, groupID, memberID string) (qunyun.Member, bool) {
	mem, found, err := s.members.load(groupID+"\x00"+memberID, s.Now(), func() (qunyun.Member, bool, error) {
		return s.Store.Member(ctx, groupID, memberID)
	})
	if err != nil {
		s.secondary(ctx, "read member", err)
	}
	return mem, found
}

func (s *Service) captureQuestion(ctx context.Context, m qunyun.Message, live qunyun.LiveSession) {
	q := qunyun.Question{
		SessionID: live.SessionID, GroupID: m.GroupID, MemberID: m.MemberID, MemberName: m.MemberName,
		Text: m.Text, At: m.At, MessageID: m.ID,
	}
	created, err := s.Store.CaptureQuestion(ctx, q)
	if err != nil {
		s.secondary(ctx, "capture question", err)
		return
	}
	if created {
		s.publish(ctx, qunyun.EventQuestionAsked, qunyun.QuestionAsked{
			ID: m.ID, SessionID: live.SessionID, GroupID: m.GroupID, QuestionKey: dynamo.QuestionSK(q),
		})
	}
}

func (s *Service) vote(ctx context.Context, m qunyun.Message, live qunyun.LiveSession) {
	sk, found, err := s.Store.OpenQuestion(ctx, live.SessionID, m.ReplyTo)
	if err != nil {
		s.secondary(ctx, "find question to vote for", err)
		return
	}
	if !found {
		return
	}
	if _, err := s.Store.VoteQuestion(ctx, live.SessionID, sk, m.MemberID); err != nil {
		s.secondary(ctx, "vote question", err)
	}
}

func (s *Service) ruleSet(ctx context.Context, accountID string) ruleSet {
	rs, _, err := s.rules.load(accountID, s.Now(), func() (ruleSet, bool, error) {
		kw, ci, err := s.Store.Rules(ctx, accountID)
		return ruleSet{kw, ci}, true, err
	})
	if err != nil {
		s.secondary(ctx, "read rules", err)
	}
	return rs
}

// checkin answers a check-in keyword in a group: one per member per local
// day of the group, with the streak.
func (s *Service) checkin(ctx context.Context, m qunyun.Message) (string, bool) {
	if m.GroupID == "" || m.Kind != qunyun.KindText {
		return "", false
	}
	text := stripMention(m.Text)
	rs := s.ruleSet(ctx, m.AccountID)
	var rule *qunyun.CheckinRule
	for i := range rs.checkin {
		r := &rs.checkin[i]
		words := r.Keywords
		if len(words) == 0 {
			words = s.Texts.CheckinKeywords
		}
		if appliesTo(r.Groups, m.GroupID) && slices.Contains(words, text) {
			rule = r
			break
		}
	}
	if rule == nil {
		return "", false
	}
	g, _ := s.group(ctx, m.GroupID)
	local := m.At.In(g.Location())
	today := local.Format(time.DateOnly)
	yesterday := local.AddDate(0, 0, -1).Format(time.DateOnly)
	streak, counted, err := s.Store.CheckIn(ctx, m.GroupID, m.MemberID, today, yesterday)
	if err != nil {
		s.secondary(ctx, "check in", err)
		return "", false
	}
	tpl := s.Texts.CheckinAgainReply
	if counted || streak.Last != today {
		tpl = firstNonEmpty(rule.Reply, s.Texts.CheckinReply)
	}
	// A retry after a counted check-in finds last == today: log it again
	// (the same item) so a crash between the two writes loses nothing.
	if streak.Last == today {
		s.secondary(ctx, "record check-in", s.Store.RecordCheckin(ctx, m.GroupID, m.MemberID, today, streak.Streak, m.At))
	}
	reply, err := s.tpl.render(tpl, replyData{Name: m.MemberName, Group: m.GroupID, Streak: streak.Streak, Total: streak.Total})
	if err != nil {
		s.secondary(ctx, "check-in reply", err)
		return "", false
	}
	return reply, true
}

func (s *Service) keywordReply(ctx context.Context, m qunyun.Message) string {
	if m.Kind != qunyun.KindText || m.Text == "" {
		return ""
	}
	text := stripMention(m.Text)
	for _, r := range s.ruleSet(ctx, m.AccountID).keyword {
		if !appliesTo(r.Groups, m.GroupID) || !matches(r, text) {
			continue
		}
		reply, err := s.tpl.render(r.Reply, replyData{Name: m.MemberName, Group: m.GroupID})
		if err != nil {
			s.secondary(ctx, "keyword reply "+r.ID, err)
			return ""
		}
		return reply
	}
	return ""
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

func (s *Service) group(ctx context.Context, id string) (qunyun.Group, bool) {
	g, found, err := s.groups.load(id, s.Now(), func() (qunyun.Group, bool, error) {
		return s.Store.Group(ctx, id)
	})
	if err != nil {
		s.secondary(ctx, "read group", err)
	}
	return g, found
}

func (s *Service) groupEvents(ctx context.Context, events []qunyun.GroupEvent) (Outcome, error) {
	out := Outcome{Duplicate: true}
	for _, e := range events {
		created, err := s.Store.RecordGroupEvent(ctx, e)
		if err != nil {
			// Earlier events of this callback may be recorded: the retry
			// finds them recorded and records the rest.
			return Outcome{}, err
		}
		if !created {
			continue
		}
		out.Duplicate = false
		s.secondary(ctx, "apply "+e.Type, s.apply(ctx, e))
		if e.Type == qunyun.EventMemberJoined && e.MemberID != "" {
			s.publish(ctx, qunyun.EventMemberJoined, MemberJoined{
				ID: e.ID, AccountID: e.AccountID, GroupID: e.GroupID, MemberID: e.MemberID,
				Name: e.MemberName, Scene: e.Scene, At: e.At,
			})
		}
	}
	return out, nil
}

// apply upserts the group and member records a recorded event implies.
func (s *Service) apply(ctx context.Context, e qunyun.GroupEvent) error {
	ensure := func(g *qunyun.Group, found bool) {
		if !found {
			g.ID, g.AccountID, g.CreatedAt, g.State = e.GroupID, e.AccountID, e.At, qunyun.GroupActive
		}
		g.UpdatedAt = s.Now()
	}
	switch e.Type {
	case qunyun.EventMemberJoined:
		if e.MemberID != "" {
			if _, err := s.Store.UpdateMember(ctx, e.GroupID, e.MemberID, func(m *qunyun.Member, found bool) error {
				m.GroupID, m.ID = e.GroupID, e.MemberID
				if m.Role == "" {
					m.Role = qunyun.RoleMember
				}
				if e.MemberName != "" {
					m.Name = e.MemberName
				}
				// Callbacks arrive out of order: only a newer join counts.
				if e.At.After(m.JoinedAt) {
					m.JoinedAt, m.JoinScene = e.At, e.Scene
				}
				return nil
			}); err != nil {
				return err
			}
		}
		_, err := s.Store.UpdateGroup(ctx, e.GroupID, func(g *qunyun.Group, found bool) error {
			ensure(g, found)
			return nil
		})
		return err
	case qunyun.EventMemberLeft:
		if e.MemberID == "" {
			return nil
		}
		_, err := s.Store.UpdateMember(ctx, e.GroupID, e.MemberID, func(m *qunyun.Member, found bool) error {
			m.GroupID, m.ID = e.GroupID, e.MemberID
			if e.At.After(m.LeftAt) {
				m.LeftAt, m.QuitScene = e.At, e.Scene
			}
			return nil
		})
		return err
	case qunyun.EventGroupCreated, qunyun.EventGroupRenamed, qunyun.EventGroupDismissed, EventGroupOwnerChanged:
		_, err := s.Store.UpdateGroup(ctx, e.GroupID, func(g *qunyun.Group, found bool) error {
			ensure(g, found)
			if e.GroupName != "" {
				g.Name = e.GroupName
			}
			switch e.Type {
			case qunyun.EventGroupDismissed:
				g.State = qunyun.GroupDismissed
			case EventGroupOwnerChanged:
				if e.MemberID != "" {
					g.OwnerID = e.MemberID
				}
			}
			return nil
		})
		return err
	}
	return nil
}

// Group events the bus does not carry but the log records.
const (
	EventGroupOwnerChanged  = "GroupOwnerChanged"
	EventGroupNoticeChanged = "GroupNoticeChanged"
)

func (s *Service) accountEvent(ctx context.Context, e qunyun.AccountEvent) (Outcome, error) {
	if e.Type == qunyun.EventUnsubscribed {
		// WeChat requires deleting the user's data. Delete first: if that
		// fails, nothing is recorded and the retry deletes again.
		n, err := s.Store.DeletePersonData(ctx, e.AccountID, e.MemberID)
		if err != nil {
			return Outcome{}, err
		}
		s.Log.InfoContext(ctx, "personal data deleted", "account", e.AccountID, "items", n)
	}
	created, err := s.Store.RecordAccountEvent(ctx, e)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Duplicate: !created}
	switch e.Type {
	case qunyun.EventSubscribed:
		if created {
			s.secondary(ctx, "touch person", s.Store.TouchPerson(ctx, e.AccountID, e.MemberID, e.At, true))
		}
		out.Reply = s.Texts.WelcomeReply
	case qunyun.EventMenuClicked:
		// A click menu item answers like its key typed as a keyword, so
		// operators configure menus and keywords in one place.
		out.Reply = s.keywordReply(ctx, qunyun.Message{AccountID: e.AccountID, MemberID: e.MemberID, Kind: qunyun.KindText, Text: e.Key})
	}
	return out, nil
}

// publish puts one event on the bus; a failure is logged and counted (the
// record exists, so WeChat must not retry).
func (s *Service) publish(ctx context.Context, detailType string, detail any) {
	if s.Bus == nil {
		return
	}
	if err := s.Bus.Publish(ctx, bus.Event{DetailType: detailType, Detail: detail}); err != nil {
		s.secondary(ctx, "publish "+detailType, err)
	}
}

// secondary logs and counts a failure of work done after the record.
func (s *Service) secondary(ctx context.Context, what string, err error) {
	if err == nil {
		return
	}
	s.Log.ErrorContext(ctx, "callback: "+what+" failed after the record", "error", err.Error())
	s.Metrics.Emit(metrics.Metric{Name: "SecondaryFailures", Value: 1})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
