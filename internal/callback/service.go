package callback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/contribution"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

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
	Store   Stores
	Bus     Publisher // nil: publish nothing (tools, tests)
	Now     func() time.Time
	Log     *slog.Logger
	Metrics *metrics.Emitter // nil: no metrics
	Texts   Texts
	// Moderator checks by the built-in lists (texts.yaml); Moderation, when
	// set, gives each account its community.yaml lists and allow-list.
	Moderator  *moderation.Checker
	Moderation ModerationStore
	Flood      *moderation.Flood
	// Contributions files editors' submissions as drafts (nil: none);
	// Submitting are the submission markers, checks and replies.
	Contributions ContributionStore
	Submitting    contribution.Texts
	// Staff lists community.yaml's staff (dynamo.People.Staff; nil: none),
	// to know an editor writing 1:1 under another account's id.
	Staff func(ctx context.Context) ([]qunyun.Staff, error)
	// ResumeAfter is how long after its work last failed Resume leaves a
	// record to WeChat's retries (0: DefaultResumeAfter).
	ResumeAfter time.Duration

	live    *cache[struct{}, map[string]qunyun.LiveSession]
	rules   *cache[string, ruleSet]
	groups  *cache[string, qunyun.Group]
	members *cache[string, qunyun.Member]
	links   *cache[string, qunyun.Link]
	// checkers are the accounts' moderation checkers (rulesTTL).
	checkers *cache[string, *moderation.Checker]
	tpl      templates
}

// Cache lifetimes. The live sessions are short so at most the first half
// minute of a session goes uncaptured in a container that read them just
// before it opened (they are one read for every group, whatever their
// number); rules and groups change by config apply, a minute is fine.
const (
	liveTTL   = 30 * time.Second
	rulesTTL  = 60 * time.Second
	groupTTL  = 5 * time.Minute
	memberTTL = 5 * time.Minute
	linkTTL   = 10 * time.Minute
)

// NewService builds a service with the embedded texts and moderation lists.
// now is required: the callback's business time comes only from the clock
// its main wires (internal/clock).
func NewService(store Stores, pub Publisher, now func() time.Time, m *metrics.Emitter, log *slog.Logger) (*Service, error) {
	texts, err := DefaultTexts()
	if err != nil {
		return nil, err
	}
	submitting, err := contribution.DefaultTexts()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		return nil, errors.New("callback: NewService needs a clock")
	}
	s := &Service{
		Store: store, Bus: pub, Now: now, Metrics: m, Log: log, Texts: texts, Submitting: submitting,
		Moderator: moderation.NewChecker(texts.defaultRules(), nil),
		Flood:     moderation.NewFlood(texts.FloodMax, texts.FloodWindow),
		live:      newCache[struct{}, map[string]qunyun.LiveSession](liveTTL, 1),
		rules:     newCache[string, ruleSet](rulesTTL, 1000),
		groups:    newCache[string, qunyun.Group](groupTTL, 10000),
		members:   newCache[string, qunyun.Member](memberTTL, 50000),
		links:     newCache[string, qunyun.Link](linkTTL, 50000),
		checkers:  newCache[string, *moderation.Checker](rulesTTL, 1000),
	}
	return s, nil
}

// Handle records in once and runs what must answer now. It fails (and the
// handler answers 503 so WeChat or the bridge retries) when the record
// could not be written, or when the work after it failed: the record then
// still lists that work, and the retry does it (each step is idempotent)
// before marking it done. A retry of a record whose work is done is a pure
// duplicate: it changes nothing, publishes nothing and answers the reply the
// record kept (a 1:1 message's forward-only touch, made before the record,
// is a conditional write that no longer applies).
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
		out.Reply = s.botWelcome(ctx, in)
	}
	return out, err
}

// botWelcome is the smart bot's welcome of the account in's event came
// to. The event is recorded by now: a failed read of the account's texts
// gets the default welcome rather than a retry.
func (s *Service) botWelcome(ctx context.Context, in Inbound) string {
	account := in.Account.ID
	if in.AccountEvent != nil && in.AccountEvent.AccountID != "" {
		account = in.AccountEvent.AccountID
	}
	rs, err := s.ruleSet(ctx, account)
	s.secondary(ctx, "read the texts of "+account, err)
	return ownOr(rs.texts.BotWelcome, s.Texts.BotWelcomeReply)
}

// Steps of the work after a record (qunyun.Followup.Steps). A step carries
// what it needs that the record does not: the session of a vote, the rule
// of a check-in.
const (
	stepModeration = "moderation" // publish ModerationHit (signals on the record)
	stepQuestion   = "question"   // capture into the record's session, publish QuestionAsked
	stepVote       = "vote"       // vote:session=<sid>&question=<question SK> (URL query form)
	stepCheckin    = "checkin"    // checkin:<rule id>
	stepApply      = "apply"      // a group event: member, group, member count, MemberJoined
	// stepBridgeReply publishes the message's reply (its check-in's, else
	// the keyword reply kept on the record) as a DeliveryRequested to its
	// relay group; push posts it through the bridge once (its id is the
	// message's).
	stepBridgeReply = "bridge-reply"
	// stepDecide (moderation.go): a moderator's answer to an alert.
)

// FollowupError is a failure of the work after a record. The record exists
// and still lists the work, so the handler asks for a retry (503).
type FollowupError struct{ Err error }

func (e *FollowupError) Error() string { return "work after the record: " + e.Err.Error() }
func (e *FollowupError) Unwrap() error { return e.Err }

// canReply reports whether the channel answers with a passive reply (OA
// 1:1 and the smart bot); elsewhere replies are neither built nor kept,
// except in a relay group (bridged).
func canReply(ch qunyun.Channel) bool {
	return ch == qunyun.ChannelOA || ch == qunyun.ChannelWeComBot
}

// bridged reports whether m is a relay group's message, whose keyword and
// check-in replies go back through the bridge: a bridge's callback has no
// passive reply, so push posts them (stepBridgeReply).
func bridged(ch qunyun.Channel, m qunyun.Message) bool {
	return ch == qunyun.ChannelRelay && m.GroupID != ""
}

func (s *Service) message(ctx context.Context, acct qunyun.Account, m qunyun.Message) (Outcome, error) {
	// Everything that decides the work after the record is read before it:
	// a failed read answers 503 with nothing recorded, rather than a record
	// whose question or check-in is silently lost.
	var f qunyun.Followup
	if m.GroupID != "" {
		live, isLive, err := s.liveSession(ctx, m.GroupID)
		if err != nil {
			return Outcome{}, err
		}
		if isLive && m.MemberID != live.HostMemberID {
			switch {
			case s.isVote(m.Text):
				// The question is chosen now and kept in the step, so a retry
				// votes for it even if a newer question came in meanwhile.
				sk, found, err := s.Store.Sessions.OpenQuestion(ctx, live.SessionID, m.ReplyTo)
				if err != nil {
					return Outcome{}, err
				}
				if found {
					f.Steps = append(f.Steps, stepVote+":"+url.Values{"session": {live.SessionID}, "question": {sk}}.Encode())
				}
			case s.isQuestion(m.Text):
				m.SessionID = live.SessionID
				f.Steps = append(f.Steps, stepQuestion)
			}
		}
		m.Signals = s.signals(ctx, m)
		if len(m.Signals) > 0 {
			f.Steps = append(f.Steps, stepModeration)
		}
	}
	if m.GroupID == "" && m.Kind == qunyun.KindText && s.Moderation != nil &&
		(acct.Kind == qunyun.ChannelWeCom || acct.Kind == qunyun.ChannelWeComBot) {
		if step, ok := s.decision(m.Text); ok {
			f.Steps = append(f.Steps, step)
		}
	}
	submission := s.isSubmission(m)
	if submission {
		f.Steps = append(f.Steps, stepSubmit)
	}
	rule, err := s.checkinRule(ctx, m)
	if err != nil {
		return Outcome{}, err
	}
	if rule != nil {
		f.Steps = append(f.Steps, stepCheckin+":"+rule.ID)
	} else if (canReply(acct.Kind) || bridged(acct.Kind, m)) && !submission {
		// A keyword reply needs no write: it is kept with the record itself.
		if f.Reply, err = s.keywordReply(ctx, m); err != nil {
			return Outcome{}, err
		}
	}
	if bridged(acct.Kind, m) && (rule != nil || f.Reply != "") {
		// After the check-in (its reply is the one to post).
		f.Steps = append(f.Steps, stepBridgeReply)
	}
	stored, rec, err := s.Store.Log.RecordMessage(ctx, m, f)
	if err != nil {
		if f.Pending() {
			// The write may have landed with its answer lost: if no retry
			// gets further, its work would be listed with nobody to do it.
			// A note of a record that does not exist is cleared by Resume.
			s.noteStuck(ctx, qunyun.Record{Message: &m})
		}
		return Outcome{}, err
	}
	out := Outcome{Duplicate: !rec.Created, Reply: rec.Reply}
	if !rec.Pending() {
		return out, nil
	}
	// First delivery, or a retry of one whose work did not finish: the work
	// follows the record as written (its signals and session), not what this
	// delivery computed.
	reply, err := s.finishMessage(ctx, stored, rec)
	if err != nil {
		return Outcome{}, err
	}
	out.Reply = reply
	return out, nil
}

// finishMessage does the work a message record lists, then marks it done
// with the reply; it returns that reply.
func (s *Service) finishMessage(ctx context.Context, m qunyun.Message, rec qunyun.Recorded) (string, error) {
	reply, err := s.followMessage(ctx, m, rec.Steps, rec.Reply)
	if err == nil {
		if reply == "" || !canReply(m.Channel) {
			reply = rec.Reply
		}
		err = s.Store.Followups.FinishFollowup(ctx, qunyun.Record{Message: &m}, reply)
	}
	if err != nil {
		s.noteStuck(ctx, qunyun.Record{Message: &m})
		return "", &FollowupError{err}
	}
	return reply, nil
}

// noteStuck notes a record whose work failed, so Resume finds it if no
// retry finishes it. Best effort: the retry is the first remedy.
func (s *Service) noteStuck(ctx context.Context, r qunyun.Record) {
	if err := s.Store.Followups.NoteStuckFollowup(ctx, r, s.Now()); err != nil {
		s.secondary(ctx, "note unfinished work", err)
	}
}

// followMessage does a message's work after its record; it returns the
// check-in reply when there is one. kept is the reply kept on the record.
func (s *Service) followMessage(ctx context.Context, m qunyun.Message, steps []string, kept string) (reply string, err error) {
	for _, step := range steps {
		name, arg, _ := strings.Cut(step, ":")
		switch name {
		case stepQuestion:
			err = s.captureQuestion(ctx, m)
		case stepVote:
			var v url.Values
			if v, err = url.ParseQuery(arg); err == nil {
				// A member votes once per question: a retry adds nothing.
				_, err = s.Store.Sessions.VoteQuestion(ctx, v.Get("session"), v.Get("question"), m.MemberID)
			}
		case stepModeration:
			err = s.publish(ctx, qunyun.EventModerationHit, m.At, s.moderationHit(ctx, m))
		case stepCheckin:
			reply, err = s.checkin(ctx, m, arg)
		case stepDecide:
			reply, err = s.decide(ctx, m, arg)
		case stepSubmit:
			reply, err = s.submit(ctx, m)
		case stepBridgeReply:
			err = s.replyThroughBridge(ctx, m, orString(reply, kept))
		default:
			// Written by a newer version of this code: leave it to that one.
			err = qunyun.Errorf(qunyun.EINTERNAL, "unknown step %q", step)
		}
		if err != nil {
			return "", fmt.Errorf("%s of %s: %w", name, m.ID, err)
		}
	}
	return reply, nil
}

// replyThroughBridge asks push to post text in m's relay group as the
// answer to m: it @s the member and quotes their message. The request's id
// is m's, so a retry asks for the same delivery, which push posts once.
func (s *Service) replyThroughBridge(ctx context.Context, m qunyun.Message, text string) error {
	if strings.TrimSpace(text) == "" {
		return nil // a broken template: nothing to post
	}
	sum := sha256.Sum256([]byte(m.AccountID + "\x00" + m.ID))
	return s.publish(ctx, qunyun.EventDeliveryRequested, m.At, qunyun.DeliveryRequest{
		ID: "reply-" + hex.EncodeToString(sum[:12]), Source: qunyun.SourceReply,
		TargetKind: qunyun.TargetGroup, TargetID: m.GroupID, GroupID: m.GroupID, AccountID: m.AccountID,
		Content:  &qunyun.Content{ID: "reply", Kind: qunyun.ContentText, Text: text},
		Mentions: []string{m.MemberID}, ReplyTo: m.ID,
	})
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ModerationHit is the detail of a ModerationHit event; push batches it
// into an alert to the group's moderators. Text (up to 200 characters) is
// what push quotes; Excerpt (60) is for one-line views. Words and Domains
// are what was flagged, so a moderator's "fine" can allow exactly that.
type ModerationHit struct {
	ID         string         `json:"id"`
	AccountID  string         `json:"account"`
	Channel    qunyun.Channel `json:"channel"`
	GroupID    string         `json:"group"`
	MemberID   string         `json:"member"`
	MemberName string         `json:"memberName,omitempty"`
	MessageID  string         `json:"messageId"`
	Signals    []string       `json:"signals"`
	Words      []string       `json:"words,omitempty"`
	Domains    []string       `json:"domains,omitempty"`
	Excerpt    string         `json:"excerpt"`
	Text       string         `json:"text"`
}

// moderationHit describes a flagged message; the signals are the record's.
func (s *Service) moderationHit(ctx context.Context, m qunyun.Message) ModerationHit {
	h := ModerationHit{
		ID: m.ID, AccountID: m.AccountID, Channel: m.Channel, GroupID: m.GroupID, MemberID: m.MemberID,
		MemberName: m.MemberName, MessageID: m.ID, Signals: m.Signals,
		Excerpt: moderation.Excerpt(m.Text, 60), Text: moderation.Excerpt(m.Text, 200),
		Domains: moderation.Domains(m.Text + " " + m.URL),
	}
	if slices.Contains(m.Signals, qunyun.SignalSensitive) && s.Moderator != nil {
		_, h.Words = s.checker(ctx, m.AccountID).Signals(moderation.Message{Group: m.GroupID, Kind: m.Kind, Text: m.Text, URL: m.URL})
	}
	return h
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

// liveSession returns the group's live session, from the live sessions of
// every group read at most liveTTL ago.
func (s *Service) liveSession(ctx context.Context, groupID string) (qunyun.LiveSession, bool, error) {
	now := s.Now()
	all, _, err := s.live.load(struct{}{}, now, func() (map[string]qunyun.LiveSession, bool, error) {
		all, err := s.Store.Sessions.LiveSessions(ctx)
		return all, true, err
	})
	if err != nil {
		return qunyun.LiveSession{}, false, err
	}
	l, found := all[groupID]
	if !found || (!l.End.IsZero() && !l.End.After(now)) {
		return l, false, nil
	}
	return l, true, nil
}

// signals runs moderation on a group message; staff are exempt.
func (s *Service) signals(ctx context.Context, m qunyun.Message) []string {
	if s.Moderator == nil {
		return nil
	}
	sig, _ := s.checker(ctx, m.AccountID).Signals(moderation.Message{Group: m.GroupID, Kind: m.Kind, Text: m.Text, URL: m.URL})
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

// member reads a member through the cache. A failed read counts as "not
// staff": at worst the moderators get one alert too many.
func (s *Service) member(ctx context.Context, groupID, memberID string) (qunyun.Member, bool) {
	mem, found, err := s.members.load(groupID+"\x00"+memberID, s.Now(), func() (qunyun.Member, bool, error) {
		return s.Store.Catalog.Member(ctx, groupID, memberID)
	})
	if err != nil {
		s.secondary(ctx, "read member", err)
	}
	return mem, found
}

// captureQuestion puts the question into the message's session and
// publishes QuestionAsked. It publishes on a retry too, the capture having
// been made before: the session function rebuilds the host's queue from the
// table, so a second QuestionAsked of one question sends nothing new.
func (s *Service) captureQuestion(ctx context.Context, m qunyun.Message) error {
	q := qunyun.Question{
		SessionID: m.SessionID, GroupID: m.GroupID, MemberID: m.MemberID, MemberName: m.MemberName,
		Text: m.Text, At: m.At, MessageID: m.ID,
	}
	if _, err := s.Store.Sessions.CaptureQuestion(ctx, q); err != nil {
		return err
	}
	return s.publish(ctx, qunyun.EventQuestionAsked, m.At, qunyun.QuestionAsked{
		ID: m.ID, SessionID: m.SessionID, GroupID: m.GroupID, QuestionKey: qunyun.QuestionKey(q),
	})
}

// rewardOf is rule r's reward for a check-in logged with streak logged (0:
// a late check-in, in no streak): every RewardEvery days of a streak, the
// same milestones scoring counts as benefits.
func rewardOf(r qunyun.CheckinRule, logged int) string {
	if r.RewardEvery <= 0 || r.Reward == "" || logged <= 0 || logged%r.RewardEvery != 0 {
		return ""
	}
	return r.Reward
}

func (s *Service) group(ctx context.Context, id string) (qunyun.Group, bool, error) {
	return s.groups.load(id, s.Now(), func() (qunyun.Group, bool, error) {
		return s.Store.Catalog.Group(ctx, id)
	})
}

func (s *Service) accountEvent(ctx context.Context, e qunyun.AccountEvent) (Outcome, error) {
	var f qunyun.Followup
	switch e.Type {
	case qunyun.EventUnsubscribed:
		// WeChat requires deleting the user's data. Delete first: if that
		// fails, nothing is recorded and the retry deletes again.
		n, err := s.Store.Log.DeletePersonData(ctx, e.AccountID, e.MemberID)
		if err != nil {
			return Outcome{}, err
		}
		s.Log.InfoContext(ctx, "personal data deleted", "account", e.AccountID, "items", n)
	case qunyun.EventSubscribed:
		// Before the record: forward-only, so a retry changes nothing.
		if err := s.Store.Log.NoteSubscribed(ctx, e.AccountID, e.MemberID, e.At); err != nil {
			return Outcome{}, err
		}
		rs, err := s.ruleSet(ctx, e.AccountID)
		if err != nil {
			return Outcome{}, err
		}
		f.Reply = ownOr(rs.texts.Welcome, s.Texts.WelcomeReply)
	case qunyun.EventMenuClicked:
		// A click menu item answers like its key typed as a keyword, so
		// operators configure menus and keywords in one place.
		reply, err := s.keywordReply(ctx, qunyun.Message{AccountID: e.AccountID, MemberID: e.MemberID, Kind: qunyun.KindText, Text: e.Key})
		if err != nil {
			return Outcome{}, err
		}
		f.Reply = reply
	}
	rec, err := s.Store.Log.RecordAccountEvent(ctx, e, f)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Duplicate: !rec.Created, Reply: rec.Reply}, nil
}

// publish puts one event on the bus, with at, the time of the record it
// comes from, as its time. A retry publishes the same event again: the
// same detail id, which consumers dedupe on, and the same time, which they
// date their work by (push keys a delivery by the event's date), so a
// re-publish after midnight is still the same event to them.
func (s *Service) publish(ctx context.Context, detailType string, at time.Time, detail any) error {
	if s.Bus == nil {
		return nil
	}
	if err := s.Bus.Publish(ctx, bus.Event{DetailType: detailType, Time: at, Detail: detail}); err != nil {
		return fmt.Errorf("publish %s: %w", detailType, err)
	}
	return nil
}

// secondary logs and counts a failure that a retry cannot mend (a broken
// reply template) or that costs nothing lasting (a cache read).
func (s *Service) secondary(ctx context.Context, what string, err error) {
	if err == nil {
		return
	}
	s.Log.ErrorContext(ctx, "callback: "+what+" failed", "error", err.Error())
	s.Metrics.Emit(metrics.Metric{Name: "SecondaryFailures", Value: 1})
}
