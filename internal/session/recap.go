package session

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/segment"
)

// recap builds the session's recap once (stored before anything is sent),
// sends it to the group and 1:1 to every absent member, then records the
// state. A retry finds the stored recap and asks push for the same
// deliveries (fixed ids), which push sends once.
func (s *Service) recap(ctx context.Context, sess qunyun.Session, now time.Time) (bool, error) {
	r, found, err := s.Sessions.Recap(ctx, sess.ID)
	if err != nil {
		return false, err
	}
	if !found {
		built, err := s.BuildRecap(ctx, sess, now)
		if err != nil {
			return false, err
		}
		if r, err = s.Sessions.PutRecapOnce(ctx, built); err != nil {
			return false, err
		}
	}
	if len(r.KeyPoints) == 0 && len(r.Top) == 0 {
		// Nothing was said (a no-show, or an outage over the whole window):
		// the recap is stored for the report, but a message saying nothing
		// would only teach members to ignore recaps.
		s.log().Warn("session: empty recap not sent", "session", sess.ID)
		return s.move(ctx, sess, qunyun.SessionClosed, qunyun.SessionRecapped, nil)
	}
	if err := s.deliver(ctx, sess, "recap", qunyun.TargetGroup, sess.GroupID, r.Text, false, sess.End.Add(RecapFor)); err != nil {
		return false, err
	}
	if len(r.Absent) > 0 {
		g, h, err := s.parties(ctx, sess)
		if err != nil {
			return false, err
		}
		v := recapView(sess, g, h, r)
		dm, err := render("recap_dm", v)
		if err != nil {
			return false, err
		}
		// Push owns the channel rules: an OA customer-service message only
		// inside the 48 h window, the daily fatigue limit. A member it cannot
		// reach comes back as a DeliveryFinished that is not "sent", and
		// HandleEvent puts them on the recap's digest list.
		for _, m := range r.Absent {
			if err := s.deliver(ctx, sess, "recap-dm", qunyun.TargetMember, m, dm, false, sess.End.Add(RecapFor)); err != nil {
				return false, err
			}
		}
	}
	return s.move(ctx, sess, qunyun.SessionClosed, qunyun.SessionRecapped, nil)
}

// BuildRecap assembles a session's recap from its questions and the
// group's messages in the window; it writes only the answers and hides it
// finds (idempotent). Exported for the CLI's preview.
func (s *Service) BuildRecap(ctx context.Context, sess qunyun.Session, now time.Time) (qunyun.Recap, error) {
	st, err := s.reconcile(ctx, sess, sess.End.Add(RecapAfter))
	if err != nil {
		return qunyun.Recap{}, err
	}
	g, h, err := s.parties(ctx, sess)
	if err != nil {
		return qunyun.Recap{}, err
	}
	host := hostMember(h)
	r := qunyun.Recap{SessionID: sess.ID, GroupID: sess.GroupID, HostID: sess.HostID, Topic: sess.Topic,
		Start: sess.Start, End: sess.End, CreatedAt: now}

	if err := s.keyPoints(&r, st.messages, host); err != nil {
		return r, err
	}
	recapQuestions(&r, st.questions)
	names, err := s.attendance(ctx, &r, sess, st, host)
	if err != nil {
		return r, err
	}
	v := recapView(sess, g, h, r)
	var shown []string
	for _, id := range r.Attendees[:min(len(r.Attendees), 20)] {
		shown = append(shown, cmp.Or(names[id], id))
	}
	v.AttendeeNames = strings.Join(shown, "、")
	if r.Text, err = render("recap", v); err != nil {
		return r, err
	}
	return r, nil
}

// keyPoints fills in the recap's key points and keywords: the host's own
// words, ranked by information.
func (s *Service) keyPoints(r *qunyun.Recap, msgs []qunyun.Message, host string) error {
	var hostText []string
	for _, m := range msgs {
		if m.MemberID == host && host != "" && m.Text != "" && !hideCommand.MatchString(m.Text) {
			hostText = append(hostText, segment.Sentences(m.Text)...)
		}
	}
	if len(hostText) == 0 {
		return nil
	}
	seg, err := s.segmenter()
	if err != nil {
		return err
	}
	for _, ks := range seg.KeySentences(hostText, recapKeyPoints) {
		r.KeyPoints = append(r.KeyPoints, ks.Text)
	}
	for _, kw := range seg.Keywords(strings.Join(hostText, "\n"), 5) {
		r.Keywords = append(r.Keywords, kw.Word)
	}
	return nil
}

// recapQuestions fills in the recap's top questions, most votes first, then
// the earliest, and those left unanswered.
func recapQuestions(r *qunyun.Recap, questions []qunyun.Question) {
	var visible []qunyun.Question
	for _, q := range questions {
		if q.Shown() {
			visible = append(visible, q)
		}
	}
	slices.SortStableFunc(visible, func(a, b qunyun.Question) int { return cmp.Or(cmp.Compare(b.Votes, a.Votes), a.At.Compare(b.At)) })
	for i, q := range visible {
		rq := qunyun.RecapQuestion{Text: questionText(q.Text), MemberName: q.MemberName, Votes: q.Votes, Answer: q.Answer}
		if i < recapTop {
			r.Top = append(r.Top, rq)
		} else if !q.Answered {
			r.Unanswered = append(r.Unanswered, rq)
		}
	}
	for _, q := range r.Top {
		if q.Answer == "" {
			r.Unanswered = append(r.Unanswered, q)
		}
	}
}

// attendance fills in the recap's attendees, members who spoke or voted (or
// asked) in the window, and its absent members; it returns the names it
// knows by member id.
func (s *Service) attendance(ctx context.Context, r *qunyun.Recap, sess qunyun.Session, st qaState, host string) (map[string]string, error) {
	names := map[string]string{}
	attended := map[string]bool{}
	for _, m := range st.messages {
		attended[m.MemberID] = true
		if m.MemberName != "" {
			names[m.MemberID] = m.MemberName
		}
	}
	for _, q := range st.questions {
		attended[q.MemberID] = true
		for _, v := range q.Voters {
			attended[v] = true
		}
	}
	delete(attended, host)
	members, err := s.Catalog.Members(ctx, sess.GroupID)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.Name != "" {
			names[m.ID] = m.Name // the member record beats a display name in one message
		}
		if m.Active() && !m.Role.Staff() && m.ID != host && !attended[m.ID] && m.JoinedAt.Before(sess.End) {
			r.Absent = append(r.Absent, m.ID)
		}
	}
	for id := range attended {
		r.Attendees = append(r.Attendees, id)
	}
	slices.Sort(r.Attendees)
	slices.Sort(r.Absent)
	return names, nil
}

func recapView(sess qunyun.Session, g qunyun.Group, h qunyun.Host, r qunyun.Recap) view {
	v := newView(sess, g, h)
	v.KeyPoints, v.Top, v.Unanswered, v.Attendees = r.KeyPoints, r.Top, r.Unanswered, r.Attendees
	return v
}

func (s *Service) segmenter() (*segment.Segmenter, error) {
	load := s.Segmenter
	if load == nil {
		load = segment.Shared
	}
	seg, err := load()
	if err != nil {
		return nil, fmt.Errorf("recap key points: %w", err)
	}
	return seg, nil
}

// questionMarker is what members put before a question to ask it ("提问：",
// "Q:", "【提问】", "@host "): the recap shows the question without it.
var questionMarker = regexp.MustCompile(`^\s*(?:@\S+\s+)*(?:【提问】|提问\s*[:：]?|[Qq]\s*[:：])?\s*`)

func questionText(text string) string {
	if t := questionMarker.ReplaceAllString(text, ""); t != "" {
		return t
	}
	return text
}
