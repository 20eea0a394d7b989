package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/segment"
)

// Sessions is what the session function keeps of its sessions: the
// sessions, the live session of their group, questions, recaps and the
// week's planning marks (dynamo.Sessions).
type Sessions interface {
	Session(ctx context.Context, id string) (qunyun.Session, bool, error)
	SessionsStarting(ctx context.Context, from, to time.Time) ([]qunyun.Session, error)
	GroupSessions(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.Session, error)
	CreateSession(ctx context.Context, s qunyun.Session) (bool, error)
	TransitionSession(ctx context.Context, id string, from, to qunyun.SessionState, fn func(*qunyun.Session)) (qunyun.Session, bool, error)
	UpdateSession(ctx context.Context, id string, fn func(*qunyun.Session) error) (qunyun.Session, bool, error)
	CancelSession(ctx context.Context, id string) (qunyun.Session, bool, error)
	PutLiveSession(ctx context.Context, l qunyun.LiveSession) (bool, error)
	DeleteLiveSession(ctx context.Context, groupID, sessionID string) error
	Questions(ctx context.Context, sessionID string) ([]qunyun.Question, error)
	MarkAnswered(ctx context.Context, sessionID, key, answer, by string, at time.Time) (bool, error)
	HideQuestion(ctx context.Context, sessionID, key string) error
	VoteQuestion(ctx context.Context, sessionID, key, memberID string) (bool, error)
	MergeQuestion(ctx context.Context, sessionID, key, into string) error
	SessionMessages(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.Message, error)
	PutRecapOnce(ctx context.Context, r qunyun.Recap) (qunyun.Recap, error)
	Recap(ctx context.Context, sessionID string) (qunyun.Recap, bool, error)
	AddRecapDigestMember(ctx context.Context, sessionID, memberID string) error
	EnsureSessionPageKey(ctx context.Context, sessionID, key string) (string, error)
	SessionPageKey(ctx context.Context, sessionID string) (string, bool, error)
	MarkWeekPlanned(ctx context.Context, weekStart time.Time, sessions int, unmet []string) (bool, error)
	WeekPlanned(ctx context.Context, weekStart time.Time) (bool, error)
}

// Catalog is what the session function reads of the community: groups,
// hosts, members and the sessions operators asked for (dynamo.Catalog).
type Catalog interface {
	Group(ctx context.Context, id string) (qunyun.Group, bool, error)
	Groups(ctx context.Context) ([]qunyun.Group, error)
	Host(ctx context.Context, id string) (qunyun.Host, bool, error)
	Hosts(ctx context.Context) ([]qunyun.Host, error)
	Members(ctx context.Context, groupID string) ([]qunyun.Member, error)
	SessionTargets(ctx context.Context) ([]qunyun.SessionTarget, error)
}

// Publisher puts events on the bus; *bus.Publisher implements it.
type Publisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// Life-cycle timing.
const (
	RemindBefore  = 30 * time.Minute // the host's reminder
	ClosingNotice = 5 * time.Minute  // the group's closing notice before the end
	NoShowAfter   = 10 * time.Minute // no host message this long after opening: alert
	RecapAfter    = time.Minute      // let the last captured questions land (callback cache)
	// RecapFor is how long a recap stays worth posting: into the next
	// morning when quiet hours hold it back after an evening session.
	RecapFor   = 24 * time.Hour
	QueueEvery = 5 * time.Minute // at most one question queue to the host this often
	// CancelNoticeAhead is how far ahead the tick looks for cancelled
	// sessions whose group has not been told yet.
	CancelNoticeAhead = 24 * time.Hour
	lookBehind        = 6 * time.Hour // sessions the tick still looks at after their start
	lateTolerance     = time.Minute   // an opening later than this says so
	queueMax          = 10            // questions in one queue message
	recapTop          = 5
	recapKeyPoints    = 5
)

// PlanAt is when the tick plans the next week: Sunday 20:00 Asia/Shanghai
// (any tick from then until the week starts plans it, once).
var PlanAt = struct {
	Day  time.Weekday
	Hour int
}{time.Sunday, 20}

// Service runs sessions. All fields are required except Segmenter (default
// segment.Shared) and PublicBaseURL (no link in reminders).
type Service struct {
	Sessions      Sessions
	Catalog       Catalog
	Bus           Publisher
	Clock         clock.Clock
	Segmenter     func() (*segment.Segmenter, error)
	PublicBaseURL string
	Log           *slog.Logger

	memory tickMemory // the tick's list of sessions (tickcache.go)
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Input is the scheduled invocation's payload (ScheduleV2 Input).
type Input struct {
	Kind          string `json:"kind"`
	ScheduledTime string `json:"scheduledTime"`
}

// envelope is the part of an EventBridge event the handler reads.
type envelope struct {
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

// Handle is the Lambda handler: a scheduled tick ({"kind":"tick",...}) or
// a bus event (an EventBridge envelope), told apart by their JSON.
func (s *Service) Handle(ctx context.Context, raw json.RawMessage) error {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "session: input is not a JSON object: %v", err)
	}
	if env.DetailType != "" {
		return s.HandleEvent(ctx, env.DetailType, env.Detail)
	}
	var in Input
	if err := json.Unmarshal(raw, &in); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "session: bad scheduled input: %v", err)
	}
	switch in.Kind {
	case "tick":
		return s.Tick(ctx)
	case "nightly":
		s.log().Info("session: nothing to do at night")
		return nil
	}
	return qunyun.Errorf(qunyun.EINVALID, "session: unknown input kind %q", in.Kind)
}

// Tick moves every current session one or more steps along its life cycle
// and plans next week when it is time. Each step is a conditional update,
// so running Tick twice, or late, changes nothing more than running it once.
func (s *Service) Tick(ctx context.Context) error {
	s.warmUp()
	now := s.Clock.Now()
	var errs []error
	if err := s.planIfDue(ctx, now); err != nil {
		errs = append(errs, err)
	}
	sessions, err := s.currentSessions(ctx, now, now.Add(-lookBehind), now.Add(CancelNoticeAhead))
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, ss := range sessions {
		var due bool
		switch ss.State {
		case qunyun.SessionRecapped:
			due = false
		case qunyun.SessionCancelled:
			due = !ss.Run.CancelNotified
		default:
			due = !ss.Start.After(now.Add(RemindBefore))
		}
		if !due {
			continue
		}
		if err := s.Advance(ctx, ss.ID); err != nil {
			// One broken session must not stop the others.
			s.log().Error("session: advance", "session", ss.ID, "err", err)
			errs = append(errs, fmt.Errorf("session %s: %w", ss.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Advance takes one session as far along as the clock allows.
func (s *Service) Advance(ctx context.Context, id string) error {
	for range 8 { // at most every state once
		sess, found, err := s.Sessions.Session(ctx, id)
		if err != nil {
			return err
		}
		if !found {
			return qunyun.Errorf(qunyun.ENOTFOUND, "session %s not found", id)
		}
		moved, err := s.step(ctx, sess, s.Clock.Now())
		if err != nil || !moved {
			return err
		}
	}
	return nil
}

// step does what is due in the session's current state; moved reports a
// state change, so Advance looks again.
func (s *Service) step(ctx context.Context, sess qunyun.Session, now time.Time) (moved bool, err error) {
	switch sess.State {
	case qunyun.SessionCancelled:
		return false, s.notifyCancelled(ctx, sess, now)
	case qunyun.SessionScheduled:
		if now.Before(sess.Start.Add(-RemindBefore)) {
			return false, nil
		}
		if now.Before(sess.Start) {
			if err := s.remind(ctx, sess); err != nil {
				return false, err
			}
			if err := s.preview(ctx, sess); err != nil {
				return false, err
			}
		}
		return s.move(ctx, sess, qunyun.SessionScheduled, qunyun.SessionReminded, nil)
	case qunyun.SessionReminded:
		if now.Before(sess.Start) {
			return false, nil
		}
		if !now.Before(sess.End) {
			// The whole window passed without a tick (an outage): opening
			// now would announce a session that is over. Close it quietly;
			// the recap will show that nothing happened.
			s.log().Warn("session: window passed before it could open", "session", sess.ID)
			return s.move(ctx, sess, qunyun.SessionReminded, qunyun.SessionClosed, func(x *qunyun.Session) { x.Run.ClosedAt = now })
		}
		return s.open(ctx, sess, now)
	case qunyun.SessionOpen, qunyun.SessionClosing:
		if err := s.watch(ctx, sess, now); err != nil {
			return false, err
		}
		if sess.State == qunyun.SessionOpen && !now.Before(sess.End.Add(-ClosingNotice)) && now.Before(sess.End) {
			if err := s.closingNotice(ctx, sess); err != nil {
				return false, err
			}
			return s.move(ctx, sess, qunyun.SessionOpen, qunyun.SessionClosing, nil)
		}
		if !now.Before(sess.End) {
			return s.close(ctx, sess, now)
		}
		return false, nil
	case qunyun.SessionClosed:
		if now.Before(sess.End.Add(RecapAfter)) {
			return false, nil
		}
		return s.recap(ctx, sess, now)
	}
	return false, nil
}

func (s *Service) move(ctx context.Context, sess qunyun.Session, from, to qunyun.SessionState, fn func(*qunyun.Session)) (bool, error) {
	_, moved, err := s.Sessions.TransitionSession(ctx, sess.ID, from, to, fn)
	if err != nil {
		return false, fmt.Errorf("session %s %s→%s: %w", sess.ID, from, to, err)
	}
	if moved {
		s.log().Info("session: moved", "session", sess.ID, "from", from, "to", to)
	}
	return moved, nil
}

// context loads the group and host a message needs.
func (s *Service) parties(ctx context.Context, sess qunyun.Session) (qunyun.Group, qunyun.Host, error) {
	g, found, err := s.Catalog.Group(ctx, sess.GroupID)
	if err != nil {
		return g, qunyun.Host{}, err
	}
	if !found {
		g = qunyun.Group{ID: sess.GroupID}
	}
	h, found, err := s.Catalog.Host(ctx, sess.HostID)
	if err != nil {
		return g, h, err
	}
	if !found {
		h = qunyun.Host{ID: sess.HostID}
	}
	return g, h, nil
}

// hostMember is the id the host writes under in group messages.
func hostMember(h qunyun.Host) string {
	if h.MemberID != "" {
		return h.MemberID
	}
	return h.WeComUserID
}

// DeliveryID is the deterministic id of one message of a session, so a
// retried step asks push for the same delivery and push sends it once.
// Session and group ids never contain '/'.
func DeliveryID(sessionID, step, target string) string {
	return "session/" + sessionID + "/" + step + "/" + target
}

// deliver asks push to send text until deadline: an announcement of the
// session is worth nothing once the session is over (push withdraws an
// owner's unconfirmed task then), a recap for RecapFor after it.
func (s *Service) deliver(ctx context.Context, sess qunyun.Session, step string, kind qunyun.TargetKind, target, text string, urgent bool, deadline time.Time) error {
	req := qunyun.DeliveryRequest{
		ID:         DeliveryID(sess.ID, step, target),
		Source:     qunyun.SourceSession,
		TargetKind: kind,
		TargetID:   target,
		GroupID:    sess.GroupID,
		AccountID:  sess.AccountID,
		Content:    &qunyun.Content{ID: "session-" + step, Kind: qunyun.ContentText, Text: text},
		Urgent:     urgent,
		Deadline:   deadline,
	}
	if err := s.Bus.Publish(ctx, bus.Event{DetailType: qunyun.EventDeliveryRequested, Detail: req}); err != nil {
		return fmt.Errorf("session %s: request %s delivery: %w", sess.ID, step, err)
	}
	return nil
}

func (s *Service) remind(ctx context.Context, sess qunyun.Session) error {
	g, h, err := s.parties(ctx, sess)
	if err != nil {
		return err
	}
	if h.WeComUserID == "" {
		s.log().Warn("session: host has no WeCom user id; no reminder", "session", sess.ID, "host", h.ID)
		return nil
	}
	if sess.AccountID == "" {
		sess.AccountID = g.AccountID
	}
	v := newView(sess, g, h)
	if v.Link, err = s.PageLink(ctx, sess.ID); err != nil {
		return err
	}
	text, err := render("reminder", v)
	if err != nil {
		return err
	}
	return s.deliver(ctx, sess, "reminder", qunyun.TargetStaff, h.WeComUserID, text, false, sess.Start)
}

// preview tells the group, when the host is reminded, when the session is
// and how to ask. Where a group is reached through its owner's
// confirmation (a WeCom customer group's task), this is what gives the
// owner time: the opening and the closing notice are due at moments an
// owner rarely meets, the preview has until the session ends.
func (s *Service) preview(ctx context.Context, sess qunyun.Session) error {
	g, h, err := s.parties(ctx, sess)
	if err != nil {
		return err
	}
	text, err := render("preview", newView(sess, g, h))
	if err != nil {
		return err
	}
	return s.deliver(ctx, sess, "preview", qunyun.TargetGroup, sess.GroupID, text, false, sess.End)
}

// open makes the session live in its group and announces it, then records
// the state change. Both side effects are idempotent (a put and a delivery
// with a fixed id), so a crash before the state change only repeats them.
func (s *Service) open(ctx context.Context, sess qunyun.Session, now time.Time) (bool, error) {
	g, h, err := s.parties(ctx, sess)
	if err != nil {
		return false, err
	}
	if sess.AccountID == "" {
		sess.AccountID = g.AccountID
	}
	live, err := s.Sessions.PutLiveSession(ctx, qunyun.LiveSession{SessionID: sess.ID, GroupID: sess.GroupID, HostMemberID: hostMember(h), End: sess.End})
	if err != nil {
		return false, err
	}
	if !live {
		// Another session of the group is still open (booked over this one
		// before apply checked bookings): wait for it rather than take its
		// questions; a later tick opens this one, saying how late.
		s.log().Error("session: group already has a live session; not opened yet", "session", sess.ID, "group", sess.GroupID)
		return false, nil
	}
	late := 0
	if d := now.Sub(sess.Start); d > lateTolerance {
		late = int(d / time.Minute)
	}
	v := newView(sess, g, h)
	v.LateBy = late
	v.PreviousRecap = s.previousRecapForDigest(ctx, sess)
	text, err := render("opening", v)
	if err != nil {
		return false, err
	}
	if err := s.deliver(ctx, sess, "opening", qunyun.TargetGroup, sess.GroupID, text, false, sess.End); err != nil {
		return false, err
	}
	if err := s.Bus.Publish(ctx, bus.Event{DetailType: qunyun.EventSessionOpened, Detail: map[string]any{
		"id": sess.ID + "/opened", "session": sess.ID, "group": sess.GroupID, "host": sess.HostID, "lateByMinutes": late,
	}}); err != nil {
		return false, err
	}
	return s.move(ctx, sess, qunyun.SessionReminded, qunyun.SessionOpen, func(x *qunyun.Session) {
		x.Run.OpenedAt = now
		x.Run.LateBy = late
		x.AccountID = sess.AccountID
	})
}

// previousRecapForDigest returns the key points of the group's previous
// recap when some absent members could not be reached 1:1: the opening
// announcement carries them, which is their "next group digest".
func (s *Service) previousRecapForDigest(ctx context.Context, sess qunyun.Session) []string {
	prev, err := s.Sessions.GroupSessions(ctx, sess.GroupID, sess.Start.Add(-30*24*time.Hour), sess.Start)
	if err != nil {
		s.log().Warn("session: previous sessions", "session", sess.ID, "err", err)
		return nil
	}
	for i := len(prev) - 1; i >= 0; i-- {
		if prev[i].ID == sess.ID || prev[i].State != qunyun.SessionRecapped {
			continue
		}
		r, found, err := s.Sessions.Recap(ctx, prev[i].ID)
		if err != nil || !found || len(r.DigestMembers) == 0 {
			return nil
		}
		return r.KeyPoints[:min(2, len(r.KeyPoints))]
	}
	return nil
}

func (s *Service) closingNotice(ctx context.Context, sess qunyun.Session) error {
	g, h, err := s.parties(ctx, sess)
	if err != nil {
		return err
	}
	text, err := render("closing", newView(sess, g, h))
	if err != nil {
		return err
	}
	return s.deliver(ctx, sess, "closing", qunyun.TargetGroup, sess.GroupID, text, false, sess.End)
}

// close ends capture and records the state; the recap follows a minute later.
func (s *Service) close(ctx context.Context, sess qunyun.Session, now time.Time) (bool, error) {
	if err := s.Sessions.DeleteLiveSession(ctx, sess.GroupID, sess.ID); err != nil {
		return false, err
	}
	if err := s.Bus.Publish(ctx, bus.Event{DetailType: qunyun.EventSessionClosed, Detail: map[string]any{
		"id": sess.ID + "/closed", "session": sess.ID, "group": sess.GroupID, "host": sess.HostID,
	}}); err != nil {
		return false, err
	}
	return s.move(ctx, sess, sess.State, qunyun.SessionClosed, func(x *qunyun.Session) { x.Run.ClosedAt = now })
}

// notifyCancelled tells the group once that a session it may have heard of
// will not happen; a session cancelled after its start says nothing.
func (s *Service) notifyCancelled(ctx context.Context, sess qunyun.Session, now time.Time) error {
	if sess.Run.CancelNotified || !now.Before(sess.Start) {
		return nil
	}
	g, h, err := s.parties(ctx, sess)
	if err != nil {
		return err
	}
	if sess.AccountID == "" {
		sess.AccountID = g.AccountID
	}
	text, err := render("cancelled", newView(sess, g, h))
	if err != nil {
		return err
	}
	if err := s.deliver(ctx, sess, "cancelled", qunyun.TargetGroup, sess.GroupID, text, false, sess.Start); err != nil {
		return err
	}
	_, _, err = s.Sessions.UpdateSession(ctx, sess.ID, func(x *qunyun.Session) error {
		if x.Run.CancelNotified {
			return qunyun.ErrNoChange
		}
		x.Run.CancelNotified = true
		return nil
	})
	return err
}
