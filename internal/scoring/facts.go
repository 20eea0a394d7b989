package scoring

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// facts are the numbers of one group-day that the scores are made of.
type facts struct {
	activity       qunyun.Activity
	members        int // the group's size at the end of the day (0: unknown), see size
	membersSeen    int // of members, those only seen in the group, not recorded
	perMember      map[string]int
	topSpeaker     int // messages of the most active speaker
	ads            int
	sent           int // deliveries to the group that went out
	benefitSent    int
	deliveryStates map[string]int
	opens, readers int
	shares         int
	benefitReaders int
	sessions       int
	questions      int
	answered       int
	responseMins   []float64 // time to first response of each answered question
	pairs, reach   int
	checkers       int
	rewards        int
	prizes         int
	pushLeaves     int
	pushes         int // pushes in the 24 h before the day and during it
	contrib        map[string]*qunyun.Contributions
	names          map[string]string
	texts          map[string][]string // each member's message texts
	opened         map[string][]string // content ids each member opened
}

// adSignals are the moderation signals that count as ads or spam by
// themselves; a link counts only when its author floods links.
var adSignals = []string{qunyun.SignalQRCode, qunyun.SignalCard, qunyun.SignalSensitive, qunyun.SignalFlood}

// linkFlood is how many links one non-staff member may post in a day before
// the rest count as ads.
const linkFlood = 3

func (s *Scorer) facts(d GroupDay) *facts {
	t := newTally(s, d)
	t.messages()
	t.sessions()
	t.deliveries()
	t.opens()
	t.contributions()
	t.checkins()
	t.size() // needed by every rate, so it comes after everyone seen today
	t.prizes()
	t.membership()
	return t.f
}

// answer counts a question answered, and how long the answer took.
func (f *facts) answer(asked, answered time.Time) {
	f.answered++
	f.responseMins = append(f.responseMins, answered.Sub(asked).Minutes())
}

// A tally counts one group-day into facts, one kind of log item a method,
// in the order facts calls them: each reads what those before it noted.
type tally struct {
	s *Scorer
	d GroupDay
	f *facts

	staff     map[string]bool
	links     map[string]int       // links each member posted so far
	questions map[string]*question // the day's questions, by message id
	pushTimes []time.Time          // pushes sent to the group up to the day's end
	checkers  map[string]bool
}

// question is a question asked in a group message.
type question struct {
	asker string
	at    time.Time
	done  bool // answered
}

func newTally(s *Scorer, d GroupDay) *tally {
	f := &facts{perMember: map[string]int{}, deliveryStates: map[string]int{},
		contrib: map[string]*qunyun.Contributions{}, names: map[string]string{},
		texts: map[string][]string{}, opened: map[string][]string{}}
	t := &tally{s: s, d: d, f: f, staff: map[string]bool{}, links: map[string]int{},
		questions: map[string]*question{}, checkers: map[string]bool{}}
	for _, m := range d.Members {
		if m.Role.Staff() {
			t.staff[m.ID] = true
		}
		f.names[m.ID] = m.Name
	}
	return t
}

// in reports whether at falls on the day.
func (t *tally) in(at time.Time) bool { return !at.Before(t.d.Start) && at.Before(t.d.End) }

// credit returns the contributions of member id, to add to.
func (t *tally) credit(id string) *qunyun.Contributions {
	if t.f.contrib[id] == nil {
		t.f.contrib[id] = &qunyun.Contributions{}
	}
	return t.f.contrib[id]
}

// messages counts activity, ads, questions, answers and connections.
func (t *tally) messages() {
	f := t.f
	msgs := make([]qunyun.Message, 0, len(t.d.Log.Messages))
	for _, m := range t.d.Log.Messages {
		if t.in(m.At) && m.MemberID != "" {
			msgs = append(msgs, m)
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].At.Before(msgs[j].At) })
	byID := make(map[string]*qunyun.Message, len(msgs))
	pairs := map[[2]string]bool{}
	reach := map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		byID[m.ID] = m
		f.perMember[m.MemberID]++
		if m.MemberName != "" {
			f.names[m.MemberID] = m.MemberName
		}
		t.credit(m.MemberID) // even an ad's author was seen
		isLink := m.Kind == qunyun.KindLink || m.Kind == qunyun.KindMiniProgram || m.Kind == qunyun.KindFile
		if t.isAd(m, isLink) {
			f.ads++
			continue // an ad is neither a contribution nor a connection
		}
		if m.Text != "" {
			f.texts[m.MemberID] = append(f.texts[m.MemberID], m.Text)
		}
		for _, other := range talksTo(m, byID) {
			a, b := m.MemberID, other
			if b < a {
				a, b = b, a
			}
			pairs[[2]string{a, b}] = true
			reach[a], reach[b] = true, true
		}
		t.classify(m, isLink)
	}
	f.activity.Messages = len(msgs)
	f.activity.Speakers = len(f.perMember)
	for _, n := range f.perMember {
		f.topSpeaker = max(f.topSpeaker, n)
	}
	f.pairs, f.reach = len(pairs), len(reach)
}

// isAd reports whether m counts as an ad: a moderation signal, or a link
// beyond the flood of its non-staff author.
func (t *tally) isAd(m *qunyun.Message, isLink bool) bool {
	if t.staff[m.MemberID] {
		return false
	}
	ad := hasAny(m.Signals, adSignals)
	if isLink {
		t.links[m.MemberID]++
		if t.links[m.MemberID] > linkFlood {
			ad = true
		}
	}
	return ad
}

// talksTo returns who m answers (the author of the message it quotes) or
// mentions, its author aside.
func talksTo(m *qunyun.Message, byID map[string]*qunyun.Message) []string {
	var to []string
	if q := byID[m.ReplyTo]; q != nil && q.MemberID != m.MemberID {
		to = append(to, q.MemberID)
	}
	for _, id := range m.Mentions {
		if id != m.MemberID && id != "" && !slices.Contains(to, id) {
			to = append(to, id)
		}
	}
	return to
}

// classify credits m's author with an answer, a share, a question or a
// chat.
func (t *tally) classify(m *qunyun.Message, isLink bool) {
	answered := false
	if q := t.questions[m.ReplyTo]; q != nil && q.asker != m.MemberID && !t.s.isVote(m.Text) {
		answered = true
		if !q.done {
			q.done = true
			t.f.answer(q.at, m.At)
		}
	}
	mc := t.credit(m.MemberID)
	switch {
	case answered:
		mc.Answers++
	case isLink:
		mc.Shares++
	case t.s.isQuestion(m.Text) && !t.staff[m.MemberID]:
		mc.Questions++
		t.f.questions++
		t.questions[m.ID] = &question{asker: m.MemberID, at: m.At}
	default:
		mc.Chats++
	}
}

// sessions counts the sessions held; session questions answered by the
// host (or anyone) count as answers.
func (t *tally) sessions() {
	for _, sd := range t.d.Sessions {
		if t.in(sd.Session.Start) && held(sd.Session) {
			t.f.sessions++
		}
		for _, q := range sd.Questions {
			if t.in(q.At) && q.Shown() {
				t.sessionQuestion(q)
			}
		}
	}
}

// held reports whether a session opened (a window that passed unopened is
// closed quietly) and its host came, even after the no-show alert.
func held(s qunyun.Session) bool {
	st, run := s.State, s.Run
	return st != qunyun.SessionCancelled && st != qunyun.SessionScheduled && st != qunyun.SessionReminded &&
		!run.OpenedAt.IsZero() && (run.HostSeen || !run.NoShow)
}

func (t *tally) sessionQuestion(q qunyun.Question) {
	// The question is a group message too: when the messages already
	// counted it (and perhaps its quoted answer), count only what they
	// missed.
	if seen := t.questions[q.MessageID]; seen != nil && q.MessageID != "" {
		if q.Answered && !seen.done {
			seen.done = true
			t.sessionAnswer(q)
		}
		return
	}
	t.f.questions++
	t.credit(q.MemberID).Questions++
	if q.Answered {
		t.sessionAnswer(q)
	}
}

func (t *tally) sessionAnswer(q qunyun.Question) {
	t.f.answer(q.At, q.AnsweredAt)
	if q.AnsweredBy != "" && q.AnsweredBy != q.MemberID {
		t.credit(q.AnsweredBy).Answers++
	}
}

// deliveries counts what went out, and notes pushes for the leave check.
func (t *tally) deliveries() {
	f := t.f
	for _, dl := range t.d.Log.Deliveries {
		if dl.TargetKind != "" && dl.TargetKind != qunyun.TargetGroup {
			continue
		}
		if dl.State == qunyun.DeliverySent && !dl.At.After(t.d.End) {
			t.pushTimes = append(t.pushTimes, dl.At)
		}
		if !t.in(dl.At) {
			continue
		}
		f.deliveryStates[string(dl.State)]++
		if dl.State == qunyun.DeliverySent {
			f.sent++
			if t.d.Contents[dl.ContentID].Benefit {
				f.benefitSent++
			}
		}
	}
	f.pushes = len(t.pushTimes)
}

// opens counts reading heat, shares onward and benefits.
func (t *tally) opens() {
	f := t.f
	readers := map[string]bool{}
	benefitReaders := map[string]bool{}
	sharedFrom := map[string]bool{}
	for i, o := range t.d.Log.Opens {
		if !t.in(o.At) {
			continue
		}
		f.opens++
		// An open names only its link's recipient (a 1:1 link is theirs;
		// a group link names no one). Opened from a share, it was someone
		// the recipient shared it with: a reader we cannot name.
		who := o.MemberID
		if who == "" || o.From != "" {
			who = "anonymous#" + strconv.Itoa(i)
		}
		readers[who] = true
		if t.d.Contents[o.ContentID].Benefit {
			benefitReaders[who] = true
		}
		if o.From != "" {
			f.shares++
			// From is WeChat's share signal ("groupmessage",
			// "singlemessage", "timeline"), never a member: the share is
			// the recipient's, credited once per content when they are of
			// the group.
			_, member := f.names[o.MemberID]
			if key := o.MemberID + "#" + o.ContentID; member && !sharedFrom[key] {
				sharedFrom[key] = true
				t.credit(o.MemberID).Shares++
			}
			continue
		}
		if o.MemberID != "" {
			t.credit(o.MemberID).Reads++
			if o.ContentID != "" {
				f.opened[o.MemberID] = append(f.opened[o.MemberID], o.ContentID)
			}
		}
	}
	f.readers, f.benefitReaders = len(readers), len(benefitReaders)
}

// contributions counts the contributions staff approved: content the
// member made for everyone.
func (t *tally) contributions() {
	for _, ct := range t.d.Log.Contributions {
		if t.in(ct.At) {
			t.credit(ct.MemberID).Contributed++
		}
	}
}

// checkins counts check-ins and their rewards.
func (t *tally) checkins() {
	for _, ci := range t.d.Log.Checkins {
		if !t.in(ci.At) {
			continue
		}
		t.checkers[ci.MemberID] = true
		for _, r := range t.d.CheckinRules {
			if r.RewardEvery > 0 && ci.Streak > 0 && ci.Streak%r.RewardEvery == 0 && ruleApplies(r.AccountID, r.Groups, t.d.Group) {
				t.f.rewards++
				break
			}
		}
	}
	t.f.checkers = len(t.checkers)
}

// size counts the group's members: those recorded and everyone seen.
func (t *tally) size() {
	f, d := t.f, t.d
	seen := make([]string, 0, len(f.contrib)+len(t.checkers)+len(d.Levels))
	for id := range f.contrib { // who wrote, asked, answered or read
		seen = append(seen, id)
	}
	for id := range t.checkers {
		seen = append(seen, id)
	}
	for id := range d.Levels {
		seen = append(seen, id)
	}
	f.members, f.membersSeen = size(d.Members, seen, d.End)
	f.activity.Members, f.activity.MembersSeen = f.members, f.membersSeen
	f.activity.MessagesPerMember = round3(share(float64(f.activity.Messages), float64(f.members)))
}

// prizes counts the contest wins of the group's members settled during
// the day.
func (t *tally) prizes() {
	for _, m := range t.d.Members {
		if inGroupAt(m, t.d.End) {
			t.f.prizes += t.d.Prizes[m.ID]
		}
	}
}

// membership counts joins, leaves, and leaves within 24 h after a push.
func (t *tally) membership() {
	for _, e := range t.d.Log.Events {
		if !t.in(e.At) {
			continue
		}
		switch e.Type {
		case qunyun.EventMemberJoined:
			t.f.activity.Joins++
		case qunyun.EventMemberLeft:
			t.f.activity.Leaves++
			for _, p := range t.pushTimes {
				if !e.At.Before(p) && e.At.Sub(p) <= 24*time.Hour {
					t.f.pushLeaves++
					break
				}
			}
		}
	}
}

// size is a group's size at end: the members its records place in the
// group then, plus the members seen in it (who spoke, read or checked in,
// that day or on a day before: their stored levels) whom no record lists.
// WeChat reports joins and leaves only for WeCom customer groups; a group
// seen only through a bot or a bridge has no records, so its size is the
// members seen, a floor, and seen says how many of the size rest on that.
// 0 means unknown: nobody recorded, nobody seen. It is never a made-up 1,
// which would turn one reader into a 100 % read rate.
func size(members []qunyun.Member, seen []string, end time.Time) (n, seenOnly int) {
	recorded := make(map[string]bool, len(members))
	for _, m := range members {
		recorded[m.ID] = true // in or out: a record that says they left wins over having seen them
		if inGroupAt(m, end) {
			n++
		}
	}
	for _, id := range seen {
		if id != "" && !recorded[id] {
			recorded[id] = true
			n++
			seenOnly++
		}
	}
	return n, seenOnly
}

// inGroupAt reports whether m was in the group at t, judged from its
// record as it is now, so re-running an old night after a later join or
// leave scores the night as it was.
func inGroupAt(m qunyun.Member, t time.Time) bool {
	if !m.JoinedAt.IsZero() && !m.JoinedAt.Before(t) {
		return false
	}
	return m.Active() || !m.LeftAt.Before(t)
}

func ruleApplies(account string, groups []string, g qunyun.Group) bool {
	if account != "" && g.AccountID != "" && account != g.AccountID {
		return false
	}
	return len(groups) == 0 || slices.Contains(groups, g.ID)
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

// isVote reports whether the whole message is a "+1" for what it quotes.
func (s *Scorer) isVote(text string) bool {
	return slices.Contains(s.texts.votes, strings.TrimSpace(text))
}

func (s *Scorer) isQuestion(text string) bool {
	if strings.ContainsAny(text, "?？") {
		return true
	}
	for _, w := range s.texts.questions {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
