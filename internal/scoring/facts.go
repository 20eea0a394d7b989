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
	f := &facts{perMember: map[string]int{}, deliveryStates: map[string]int{},
		contrib: map[string]*qunyun.Contributions{}, names: map[string]string{},
		texts: map[string][]string{}, opened: map[string][]string{}}
	in := func(t time.Time) bool { return !t.Before(d.Start) && t.Before(d.End) }
	staff := map[string]bool{}
	for _, m := range d.Members {
		if m.Role.Staff() {
			staff[m.ID] = true
		}
		f.names[m.ID] = m.Name
	}
	c := func(id string) *qunyun.Contributions {
		if f.contrib[id] == nil {
			f.contrib[id] = &qunyun.Contributions{}
		}
		return f.contrib[id]
	}

	// Messages: activity, ads, questions, answers and connections.
	msgs := make([]qunyun.Message, 0, len(d.Log.Messages))
	for _, m := range d.Log.Messages {
		if in(m.At) && m.MemberID != "" {
			msgs = append(msgs, m)
		}
	}
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].At.Before(msgs[j].At) })
	byID := make(map[string]*qunyun.Message, len(msgs))
	links := map[string]int{}
	type question struct {
		asker string
		at    time.Time
		done  bool
	}
	questions := map[string]*question{}
	pairs := map[[2]string]bool{}
	reach := map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		byID[m.ID] = m
		f.perMember[m.MemberID]++
		if m.MemberName != "" {
			f.names[m.MemberID] = m.MemberName
		}
		mc := c(m.MemberID)
		ad := hasAny(m.Signals, adSignals)
		isLink := m.Kind == qunyun.KindLink || m.Kind == qunyun.KindMiniProgram || m.Kind == qunyun.KindFile
		if isLink && !staff[m.MemberID] {
			links[m.MemberID]++
			if links[m.MemberID] > linkFlood {
				ad = true
			}
		}
		if ad && !staff[m.MemberID] {
			f.ads++
			continue // an ad is neither a contribution nor a connection
		}
		if m.Text != "" {
			f.texts[m.MemberID] = append(f.texts[m.MemberID], m.Text)
		}
		// Who this message answers or talks to.
		var to []string
		if q := byID[m.ReplyTo]; q != nil && q.MemberID != m.MemberID {
			to = append(to, q.MemberID)
		}
		for _, id := range m.Mentions {
			if id != m.MemberID && id != "" && !slices.Contains(to, id) {
				to = append(to, id)
			}
		}
		answered := false
		for _, other := range to {
			a, b := m.MemberID, other
			if b < a {
				a, b = b, a
			}
			pairs[[2]string{a, b}] = true
			reach[a], reach[b] = true, true
		}
		if q := questions[m.ReplyTo]; q != nil && q.asker != m.MemberID && !s.isVote(m.Text) {
			answered = true
			if !q.done {
				q.done = true
				f.answered++
				f.responseMins = append(f.responseMins, m.At.Sub(q.at).Minutes())
			}
		}
		switch {
		case answered:
			mc.Answers++
		case isLink:
			mc.Shares++
		case s.isQuestion(m.Text) && !staff[m.MemberID]:
			mc.Questions++
			f.questions++
			questions[m.ID] = &question{asker: m.MemberID, at: m.At}
		default:
			mc.Chats++
		}
	}
	f.activity.Messages = len(msgs)
	f.activity.Speakers = len(f.perMember)
	for _, n := range f.perMember {
		f.topSpeaker = max(f.topSpeaker, n)
	}
	f.pairs, f.reach = len(pairs), len(reach)

	// Session questions answered by the host (or anyone) count as answers.
	for _, sd := range d.Sessions {
		st := sd.Session.State
		// Held: it opened (a window that passed unopened is closed quietly)
		// and its host came, even after the no-show alert.
		run := sd.Session.Run
		if in(sd.Session.Start) && st != qunyun.SessionCancelled && st != qunyun.SessionScheduled &&
			st != qunyun.SessionReminded && !run.OpenedAt.IsZero() && (run.HostSeen || !run.NoShow) {
			f.sessions++
		}
		for _, q := range sd.Questions {
			if !in(q.At) || !q.Shown() {
				continue
			}
			// The question is a group message too: when the messages above
			// already counted it (and perhaps its quoted answer), count only
			// what they missed.
			if seen := questions[q.MessageID]; seen != nil && q.MessageID != "" {
				if q.Answered && !seen.done {
					seen.done = true
					f.answered++
					f.responseMins = append(f.responseMins, q.AnsweredAt.Sub(q.At).Minutes())
					if q.AnsweredBy != "" && q.AnsweredBy != q.MemberID {
						c(q.AnsweredBy).Answers++
					}
				}
				continue
			}
			f.questions++
			c(q.MemberID).Questions++
			if q.Answered {
				f.answered++
				f.responseMins = append(f.responseMins, q.AnsweredAt.Sub(q.At).Minutes())
				if q.AnsweredBy != "" && q.AnsweredBy != q.MemberID {
					c(q.AnsweredBy).Answers++
				}
			}
		}
	}

	// Deliveries: what went out, and pushes for the leave check.
	var pushTimes []time.Time
	for _, dl := range d.Log.Deliveries {
		if dl.TargetKind != "" && dl.TargetKind != qunyun.TargetGroup {
			continue
		}
		if dl.State == qunyun.DeliverySent && !dl.At.After(d.End) {
			pushTimes = append(pushTimes, dl.At)
		}
		if !in(dl.At) {
			continue
		}
		f.deliveryStates[string(dl.State)]++
		if dl.State == qunyun.DeliverySent {
			f.sent++
			if d.Contents[dl.ContentID].Benefit {
				f.benefitSent++
			}
		}
	}
	f.pushes = len(pushTimes)

	// Opens: reading heat, shares onward, benefits.
	readers := map[string]bool{}
	benefitReaders := map[string]bool{}
	sharedFrom := map[string]bool{}
	for i, o := range d.Log.Opens {
		if !in(o.At) {
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
		if d.Contents[o.ContentID].Benefit {
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
				c(o.MemberID).Shares++
			}
			continue
		}
		if o.MemberID != "" {
			c(o.MemberID).Reads++
			if o.ContentID != "" {
				f.opened[o.MemberID] = append(f.opened[o.MemberID], o.ContentID)
			}
		}
	}
	f.readers, f.benefitReaders = len(readers), len(benefitReaders)

	// Contributions staff approved: content the member made for everyone.
	for _, ct := range d.Log.Contributions {
		if in(ct.At) {
			c(ct.MemberID).Contributed++
		}
	}

	// Check-ins and their rewards.
	checkers := map[string]bool{}
	for _, ci := range d.Log.Checkins {
		if !in(ci.At) {
			continue
		}
		checkers[ci.MemberID] = true
		for _, r := range d.CheckinRules {
			if r.RewardEvery > 0 && ci.Streak > 0 && ci.Streak%r.RewardEvery == 0 && ruleApplies(r.AccountID, r.Groups, d.Group) {
				f.rewards++
				break
			}
		}
	}
	f.checkers = len(checkers)

	// Size: needed by every rate, so it comes after everyone seen today.
	seen := make([]string, 0, len(f.contrib)+len(checkers)+len(d.Levels))
	for id := range f.contrib { // who wrote, asked, answered or read
		seen = append(seen, id)
	}
	for id := range checkers {
		seen = append(seen, id)
	}
	for id := range d.Levels {
		seen = append(seen, id)
	}
	f.members, f.membersSeen = size(d.Members, seen, d.End)
	f.activity.Members, f.activity.MembersSeen = f.members, f.membersSeen
	f.activity.MessagesPerMember = round3(share(float64(len(msgs)), float64(f.members)))

	// Prizes: contest wins of the group's members settled during the day.
	for _, m := range d.Members {
		if inGroupAt(m, d.End) {
			f.prizes += d.Prizes[m.ID]
		}
	}

	// Membership: joins, leaves, and leaves within 24 h after a push.
	for _, e := range d.Log.Events {
		if !in(e.At) {
			continue
		}
		switch e.Type {
		case qunyun.EventMemberJoined:
			f.activity.Joins++
		case qunyun.EventMemberLeft:
			f.activity.Leaves++
			for _, p := range pushTimes {
				if !e.At.Before(p) && e.At.Sub(p) <= 24*time.Hour {
					f.pushLeaves++
					break
				}
			}
		}
	}
	return f
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
