package session

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Moderators hide a question by writing, in the group during the session,
// "隐藏 <n>" (n is the number the host's queue shows: the n-th question
// asked in the session) or by quoting the question and writing "隐藏".
var hideCommand = regexp.MustCompile(`^\s*隐藏\s*(\d+)?\s*$`)

// minAnswerRunes keeps "好的", "收到" and the like from counting as answers
// when the host does not quote the question.
const minAnswerRunes = 4

// qaState is what one look at the window found.
type qaState struct {
	questions []qunyun.Question
	messages  []qunyun.Message
	hostSpoke bool
}

// reconcile reads the window's questions and messages, applies moderators'
// hides and records the host's answers. Every write is idempotent (hiding
// twice is harmless; the first recorded answer wins), so it runs on every
// tick and once more before the recap.
func (s *Service) reconcile(ctx context.Context, sess qunyun.Session, until time.Time) (qaState, error) {
	var st qaState
	_, h, err := s.parties(ctx, sess)
	if err != nil {
		return st, err
	}
	host := hostMember(h)
	qs, err := s.Sessions.Questions(ctx, sess.ID)
	if err != nil {
		return st, err
	}
	msgs, err := s.Sessions.SessionMessages(ctx, sess.GroupID, sess.Start, until)
	if err != nil {
		return st, err
	}
	slices.SortStableFunc(msgs, func(a, b qunyun.Message) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(qs, func(a, b qunyun.Question) int { return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Key, b.Key)) })
	st.messages = msgs

	staff, err := s.staffOf(ctx, sess.GroupID)
	if err != nil {
		return st, err
	}
	staff[host] = true
	byMessage := map[string]int{}
	for i, q := range qs {
		byMessage[q.MessageID] = i
	}
	// Hides first, so a hidden question is never taken as answered.
	if err := s.applyHides(ctx, sess, msgs, qs, staff, byMessage); err != nil {
		return st, err
	}
	var words [][]string
	if len(qs) > 0 {
		if words, err = s.questionWords(qs); err != nil {
			return st, err
		}
	}
	if err := s.mergeRepeats(ctx, sess, qs, words, host); err != nil {
		return st, err
	}
	if st.hostSpoke, err = s.recordAnswers(ctx, sess, msgs, qs, words, byMessage, host); err != nil {
		return st, err
	}
	st.questions = qs
	return st, nil
}

// applyHides hides the questions staff's hide commands among msgs point
// at, by number or by quoting (byMessage: question index by message id).
func (s *Service) applyHides(ctx context.Context, sess qunyun.Session, msgs []qunyun.Message, qs []qunyun.Question,
	staff map[string]bool, byMessage map[string]int) error {
	for _, m := range msgs {
		if !staff[m.MemberID] {
			continue
		}
		match := hideCommand.FindStringSubmatch(m.Text)
		if match == nil {
			continue
		}
		i := -1
		if match[1] != "" {
			if n, err := strconv.Atoi(match[1]); err == nil && n >= 1 && n <= len(qs) {
				i = n - 1
			}
		} else if j, ok := byMessage[m.ReplyTo]; ok && m.ReplyTo != "" {
			i = j
		}
		if i < 0 || qs[i].Hidden {
			continue
		}
		if err := s.Sessions.HideQuestion(ctx, sess.ID, qs[i].Key); err != nil {
			return err
		}
		qs[i].Hidden = true
	}
	return nil
}

// recordAnswers records the host's answers (pairing.go): a host message
// answers the question it quotes, numbers, @s the asker of, or repeats the
// words of; else none. hostSpoke says whether the host wrote at all.
func (s *Service) recordAnswers(ctx context.Context, sess qunyun.Session, msgs []qunyun.Message, qs []qunyun.Question,
	words [][]string, byMessage map[string]int, host string) (hostSpoke bool, err error) {
	used := map[string]bool{}
	// A host message that answered a question on an earlier run is used:
	// reading it again must not make it the answer to another one too.
	for _, m := range msgs {
		for _, q := range qs {
			if q.Answered && q.AnsweredBy == m.MemberID && q.AnsweredAt.Equal(m.At) && strings.Contains(m.Text, q.Answer) {
				used[m.ID] = true
				break
			}
		}
	}
	for _, m := range msgs {
		if m.MemberID != host || host == "" {
			continue
		}
		hostSpoke = true
		if used[m.ID] || (m.ReplyTo == "" && utf8.RuneCountInString(strings.TrimSpace(m.Text)) < minAnswerRunes) {
			continue
		}
		open := func(i int) bool {
			return qs[i].Shown() && !qs[i].Answered && qs[i].At.Before(m.At) && qs[i].MemberID != host
		}
		i, text := pairAnswer(m, qs, words, byMessage, open)
		if i < 0 {
			continue
		}
		if _, err := s.Sessions.MarkAnswered(ctx, sess.ID, qs[i].Key, text, m.MemberID, m.At); err != nil {
			return hostSpoke, err
		}
		qs[i].Answered, qs[i].Answer, qs[i].AnsweredBy, qs[i].AnsweredAt = true, text, m.MemberID, m.At
		used[m.ID] = true
	}
	return hostSpoke, nil
}

// staffOf returns the ids of the group's staff (owner, hosts, moderators,
// editors), who may hide questions and whom a no-show alert reaches.
func (s *Service) staffOf(ctx context.Context, groupID string) (map[string]bool, error) {
	members, err := s.Catalog.Members(ctx, groupID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, m := range members {
		if m.Active() && m.Role.Staff() {
			out[m.ID] = true
		}
	}
	return out, nil
}

// watch runs on every tick of an open session: Q&A bookkeeping, the host
// no-show alert and the host's question queue.
func (s *Service) watch(ctx context.Context, sess qunyun.Session, now time.Time) error {
	st, err := s.reconcile(ctx, sess, now)
	if err != nil {
		return err
	}
	if st.hostSpoke && !sess.Run.HostSeen {
		if _, _, err := s.Sessions.UpdateSession(ctx, sess.ID, func(x *qunyun.Session) error {
			if x.Run.HostSeen {
				return qunyun.ErrNoChange
			}
			x.Run.HostSeen = true
			return nil
		}); err != nil {
			return err
		}
		sess.Run.HostSeen = true
	}
	opened := later(sess.Start, sess.Run.OpenedAt)
	if !sess.Run.HostSeen && !sess.Run.NoShow && !now.Before(opened.Add(NoShowAfter)) {
		if err := s.alertNoShow(ctx, sess, now); err != nil {
			return err
		}
	}
	return s.forwardQueue(ctx, sess, st.questions, now)
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// alertNoShow handles a host who has not spoken: the group's moderators
// and owners are alerted (as every alert: qunyun.AlertTargets), the group
// gets a short notice so members are not left wondering, and the host is
// pinged; the alert and the ping offer the next slot the host could hold
// the session in instead (nextFreeSlot). The requests go out before the
// mark: their ids are fixed, so push sends each once even when two runs
// race or a run is retried.
func (s *Service) alertNoShow(ctx context.Context, sess qunyun.Session, now time.Time) error {
	g, h, err := s.parties(ctx, sess)
	if err != nil {
		return err
	}
	members, err := s.Catalog.Members(ctx, sess.GroupID)
	if err != nil {
		return err
	}
	targets := qunyun.AlertTargets(g, members)
	if len(targets) == 0 {
		s.log().Error("session: host no-show and nobody to alert", "session", sess.ID, "group", sess.GroupID)
	}
	v := newView(sess, g, h)
	v.WaitedMinutes = int(now.Sub(later(sess.Start, sess.Run.OpenedAt)) / time.Minute)
	if v.Reschedule, err = s.rescheduleSlot(ctx, sess, g, h, now); err != nil {
		return err
	}
	sends := []struct {
		step, template string
		kind           qunyun.TargetKind
		targets        []string
		urgent         bool
	}{
		{"noshow", "noshow", qunyun.TargetStaff, targets, true},
		{"noshow-group", "noshow_group", qunyun.TargetGroup, []string{sess.GroupID}, false},
		{"noshow-host", "noshow_host", qunyun.TargetStaff, []string{h.WeComUserID}, true},
	}
	for _, send := range sends {
		text, err := render(send.template, v)
		if err != nil {
			return err
		}
		for _, t := range send.targets {
			if t == "" {
				continue // a host without a WeCom user id cannot be pinged
			}
			if err := s.deliver(ctx, sess, send.step, send.kind, t, text, send.urgent, sess.End); err != nil {
				return err
			}
		}
	}
	_, _, err = s.Sessions.UpdateSession(ctx, sess.ID, func(x *qunyun.Session) error {
		if x.Run.NoShow {
			return qunyun.ErrNoChange
		}
		x.Run.NoShow = true
		return nil
	})
	return err
}

// rescheduleSlot is the next slot the host could hold the session in the
// group, in the group's time zone, or "" when the next weeks have none. It
// starts no sooner than the host could be reminded, and after this window.
func (s *Service) rescheduleSlot(ctx context.Context, sess qunyun.Session, g qunyun.Group, h qunyun.Host, now time.Time) (string, error) {
	after := later(sess.End, now.Add(RemindBefore+30*time.Minute))
	from := WeekStart(after).AddDate(0, 0, -1)
	others, err := s.Sessions.SessionsStarting(ctx, from, from.AddDate(0, 0, 7*(rescheduleWeeks+1)+2))
	if err != nil {
		return "", fmt.Errorf("session %s: sessions around a reschedule: %w", sess.ID, err)
	}
	at, ok := nextFreeSlot(sess, g, h, others, after)
	if !ok {
		return "", nil
	}
	return at.In(g.Location()).Format("1月2日 15:04"), nil
}

// forwardQueue sends the host the open questions, most votes first, at most
// once every QueueEvery and only when a question came in since the last one.
func (s *Service) forwardQueue(ctx context.Context, sess qunyun.Session, qs []qunyun.Question, now time.Time) error {
	if !sess.Run.QueueSent.IsZero() && now.Before(sess.Run.QueueSent.Add(QueueEvery)) {
		return nil
	}
	var open []queuedQuestion
	fresh := false
	for i, q := range qs {
		if !q.Shown() || q.Answered {
			continue
		}
		open = append(open, queuedQuestion{N: i + 1, Text: q.Text, Votes: q.Votes, MemberName: q.MemberName})
		fresh = fresh || q.At.After(sess.Run.QueueSent)
	}
	if len(open) == 0 || !fresh {
		return nil
	}
	g, h, err := s.parties(ctx, sess)
	if err != nil || h.WeComUserID == "" {
		return err
	}
	slices.SortStableFunc(open, func(a, b queuedQuestion) int { return cmp.Compare(b.Votes, a.Votes) })
	v := newView(sess, g, h)
	v.Questions = open[:min(len(open), queueMax)]
	text, err := render("queue", v)
	if err != nil {
		return err
	}
	sent := sess.Run.QueueSent
	_, marked, err := s.Sessions.UpdateSession(ctx, sess.ID, func(x *qunyun.Session) error {
		if !x.Run.QueueSent.Equal(sent) {
			return qunyun.ErrNoChange // another run sent it
		}
		x.Run.QueueSent = now
		return nil
	})
	if err != nil || !marked {
		return err
	}
	return s.deliver(ctx, sess, "queue-"+now.UTC().Format("150405"), qunyun.TargetStaff, h.WeComUserID, text, false, sess.End)
}

// questionWords are the key words of each question, for pairing answers
// and finding repeats.
func (s *Service) questionWords(qs []qunyun.Question) ([][]string, error) {
	seg, err := s.segmenter()
	if err != nil {
		return nil, err
	}
	words := make([][]string, len(qs))
	for i, q := range qs {
		// Without the marker and @s every question shares.
		words[i] = keyWords(seg, questionText(q.Text))
	}
	return words, nil
}

// mergeRepeats merges each open question that asks what an earlier shown
// one asked into it: its asker and voters vote for the earlier one (a
// member counts once), then it is marked merged. Both writes are
// idempotent, so a run cut short is finished by the next.
func (s *Service) mergeRepeats(ctx context.Context, sess qunyun.Session, qs []qunyun.Question, words [][]string, host string) error {
	for i := range qs {
		if !qs[i].Shown() || qs[i].Answered {
			continue
		}
		for j := range i {
			if !qs[j].Shown() || !repeats(words[j], words[i], questionText(qs[j].Text), questionText(qs[i].Text)) {
				continue
			}
			for _, voter := range append([]string{qs[i].MemberID}, qs[i].Voters...) {
				if voter == qs[j].MemberID || voter == host {
					continue
				}
				added, err := s.Sessions.VoteQuestion(ctx, sess.ID, qs[j].Key, voter)
				if err != nil {
					return err
				}
				if added {
					qs[j].Votes++
					qs[j].Voters = append(qs[j].Voters, voter)
				}
			}
			if err := s.Sessions.MergeQuestion(ctx, sess.ID, qs[i].Key, qs[j].Key); err != nil {
				return err
			}
			qs[i].MergedInto = qs[j].Key
			break
		}
	}
	return nil
}
