package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// Kind is what a planned event is.
type Kind string

const (
	KindJoin    Kind = "join"
	KindLeave   Kind = "leave"
	KindMessage Kind = "message" // a group message through the relay bridge
	KindCheckin Kind = "checkin" // a group message that checks in (打卡)
	KindBot     Kind = "bot"     // a group message that @-mentions the smart bot
	KindOA      Kind = "oa"      // a 1:1 message to the Official Account
	KindVote    Kind = "vote"    // a 1:1 "投票 N" for a session question
	KindDismiss Kind = "dismiss" // the owner dismisses the group (pop-up groups)
)

// Event is one thing a member (or an owner) does at a virtual time.
type Event struct {
	At       time.Time
	Kind     Kind
	Group    *Group
	Member   *Member
	Text     string
	ID       string // the message's or event's own id (relay id, bot msgid, OA MsgId)
	ReplyTo  string // id of the message it answers
	Mentions []string
	Scene    int // join or quit scene
	seq      int // creation order: breaks ties in time, so sorting is stable
	version  int // a WeCom group's member version after a join or leave
}

// planner turns the world into a timeline. Every choice comes from rnd, in a
// fixed order (groups by id, members in order, days in order), so the same
// seed gives the same timeline.
type planner struct {
	rnd   *rand.Rand
	world *World
	seed  uint64
	seq   int
	out   []Event
}

// Plan returns every event of days days from start (a local midnight), in
// time order. Session Q&A, owner confirmations and link opens are not in
// it: they react to what the stack does and are planned as it does them.
func Plan(rnd *rand.Rand, w *World, seed uint64, start time.Time, days int) []Event {
	p := &planner{rnd: rnd, world: w, seed: seed}
	for _, g := range w.Groups {
		for _, m := range g.Members {
			if m.Persona == Newcomer {
				m.JoinDay = 1 + rnd.IntN(max(1, days-1))
				if days == 1 {
					m.JoinDay = 0
				}
			}
		}
	}
	for _, g := range w.Groups {
		p.group(g, start, days)
	}
	sort.SliceStable(p.out, func(i, j int) bool {
		if !p.out[i].At.Equal(p.out[j].At) {
			return p.out[i].At.Before(p.out[j].At)
		}
		return p.out[i].seq < p.out[j].seq
	})
	return p.out
}

func (p *planner) add(e Event) {
	p.seq++
	e.seq = p.seq
	e.At = e.At.Truncate(time.Second)
	if e.ID == "" {
		e.ID = fmt.Sprintf("sim-%d-%d", p.seed, p.seq)
	}
	p.out = append(p.out, e)
}

// chatHours weighs the hours of a day by how much people chat.
var chatHours = [24]float64{0.1, 0.05, 0.02, 0.02, 0.02, 0.05, 0.3, 1, 1.2, 1, 1.2, 1.5, 3, 1.5, 1, 1, 1, 1.2, 1.5, 1.5, 3, 3, 2, 0.8}

func (p *planner) chatTime(day time.Time) time.Time {
	total := 0.0
	for _, w := range chatHours {
		total += w
	}
	x := p.rnd.Float64() * total
	h := 0
	for ; h < 23; h++ {
		if x < chatHours[h] {
			break
		}
		x -= chatHours[h]
	}
	return day.Add(time.Duration(h)*time.Hour + time.Duration(p.rnd.IntN(3600))*time.Second)
}

func (p *planner) between(day time.Time, from, to time.Duration) time.Time {
	return day.Add(from + time.Duration(p.rnd.Int64N(int64(to-from))))
}

func (p *planner) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 { // normal approximation, enough for chat volume
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*p.rnd.NormFloat64())))
	}
	l, k, q := math.Exp(-lambda), 0, 1.0
	for {
		q *= p.rnd.Float64()
		if q <= l {
			return k
		}
		k++
	}
}

// group plans one group's whole run.
func (p *planner) group(g *Group, start time.Time, days int) {
	if g.Purpose == qunyun.PurposeResourcePopup {
		p.popup(g, start)
		return
	}
	left := map[*Member]time.Time{}
	joined := map[*Member]time.Time{}
	// The members present from the start join during day 0, at the hours
	// people are awake: the community is launched that day. (All at once
	// would be a burst no real launch has, and more than a fast clock's
	// schedules can follow.)
	for _, m := range g.Members {
		if m.JoinDay < 0 {
			at := p.chatTime(start)
			joined[m] = at
			p.join(g, m, at, wechat.JoinByInvite)
		}
	}
	for d := 0; d < days; d++ {
		day := start.AddDate(0, 0, d)
		activity := g.Profile.activity * math.Pow(g.Profile.decay, float64(d))
		var msgs []Event
		for _, m := range g.Members {
			if _, gone := left[m]; gone {
				continue
			}
			tr := personaTraits[m.Persona]
			if m.Persona == Newcomer {
				if m.JoinDay > d {
					continue
				}
				if m.JoinDay == d {
					at := p.between(day, 9*time.Hour, 21*time.Hour)
					joined[m] = at
					p.join(g, m, at, wechat.JoinByQRCode)
					msgs = append(msgs, Event{At: at.Add(time.Duration(1+p.rnd.IntN(10)) * time.Minute), Kind: KindMessage,
						Group: g, Member: m, Text: texts.pick(p.rnd, texts.Greetings, 0)})
				}
				// A newcomer's interest fades day by day.
				tr.perDay /= float64(1 + d - m.JoinDay)
			}
			for range p.poisson(tr.perDay * activity) {
				at := p.chatTime(day)
				if at.Before(joined[m]) {
					continue
				}
				msgs = append(msgs, p.message(g, m, tr, at))
			}
			if g.Profile.checkins && p.rnd.Float64() < tr.checkin*math.Min(1, activity*2) {
				msgs = append(msgs, Event{At: p.between(day, 6*time.Hour+30*time.Minute, 9*time.Hour+30*time.Minute),
					Kind: KindCheckin, Group: g, Member: m, Text: texts.pick(p.rnd, texts.Checkin, d+1)})
			}
			if p.world.OA.ID != "" && p.rnd.Float64() < tr.oa {
				msgs = append(msgs, Event{At: p.between(day, 9*time.Hour, 22*time.Hour), Kind: KindOA, Group: g, Member: m,
					Text: texts.pick(p.rnd, texts.OA, 1+p.rnd.IntN(5))})
			}
			if p.rnd.Float64() < tr.leave*g.Profile.leave {
				left[m] = p.between(day, 8*time.Hour, 23*time.Hour)
			}
		}
		p.threads(g, msgs, left, day)
	}
}

// message draws one group message of a persona.
func (p *planner) message(g *Group, m *Member, tr traits, at time.Time) Event {
	e := Event{At: at, Kind: KindMessage, Group: g, Member: m}
	x := p.rnd.Float64()
	switch {
	case x < tr.spam:
		e.Text = texts.pick(p.rnd, texts.Spam, 0)
	case x < tr.spam+tr.ask:
		e.Text = texts.pick(p.rnd, texts.Questions, 0)
		e.Kind = KindMessage
		e.Scene = sceneQuestion
	case x < tr.spam+tr.ask+tr.answer:
		e.Text = texts.pick(p.rnd, texts.Answers, 0)
		e.Scene = sceneAnswer
	default:
		e.Text = texts.pick(p.rnd, texts.Chatter, 0)
	}
	if m.Persona == HostP && e.Scene != sceneAnswer {
		e.Text = texts.pick(p.rnd, texts.HostTalk, 0)
	}
	return e
}

// Scenes that only the planner uses, to thread answers to questions; they
// never reach a callback (Scene is sent only for joins and leaves).
const (
	sceneQuestion = -1
	sceneAnswer   = -2
)

// threads orders a day's messages, links answers to the latest open
// question, has askers thank, turns spam into removals, sends questions in
// a bot-only group (or now and then in a WeCom group) to the smart bot,
// drops what members said after leaving, and adds the leaves.
func (p *planner) threads(g *Group, msgs []Event, left map[*Member]time.Time, day time.Time) {
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].At.Before(msgs[j].At) })
	var open []Event // questions not answered yet
	spams := map[*Member]int{}
	removed := map[*Member]bool{}
	botOnly := g.Chat.ID == ""
	for _, e := range msgs {
		if t, gone := left[e.Member]; (gone && !e.At.Before(t)) || removed[e.Member] {
			continue
		}
		if e.Kind == KindOA {
			p.add(e)
			continue
		}
		if e.Kind == KindCheckin && botOnly {
			continue
		}
		switch e.Scene {
		case sceneQuestion:
			e.Scene = 0
			if g.Bot.ID != "" && (botOnly || (g.Membership.Kind == qunyun.ChannelWeCom && p.rnd.Float64() < 0.1)) {
				e.Kind = KindBot
				if p.rnd.Float64() < 0.5 {
					e.Text = texts.pick(p.rnd, texts.BotAsks, 0)
				}
			}
			p.add(e)
			if e.Kind == KindMessage {
				open = append(open, p.out[len(p.out)-1])
			}
			continue
		case sceneAnswer:
			e.Scene = 0
			if len(open) == 0 || e.Member == open[len(open)-1].Member {
				e.Text = texts.pick(p.rnd, texts.Chatter, 0)
				break
			}
			q := open[len(open)-1]
			open = open[:len(open)-1]
			e.ReplyTo, e.Mentions = q.ID, []string{q.Member.ID}
			p.add(e)
			if p.rnd.Float64() < 0.4 {
				p.add(Event{At: e.At.Add(time.Duration(1+p.rnd.IntN(20)) * time.Minute), Kind: KindMessage, Group: g,
					Member: q.Member, Text: texts.pick(p.rnd, texts.Thanks, 0), ReplyTo: p.out[len(p.out)-1].ID})
			}
			continue
		}
		if botOnly && e.Kind == KindMessage {
			continue // the smart bot hears only what mentions it
		}
		p.add(e)
		if e.Member.Persona == Spammer {
			if spams[e.Member]++; spams[e.Member] >= 2 && g.Membership.ID != "" {
				removed[e.Member] = true
				p.leave(g, e.Member, e.At.Add(time.Duration(5+p.rnd.IntN(55))*time.Minute), wechat.QuitRemoved)
			}
		}
	}
	members := make([]*Member, 0, len(left))
	for m, t := range left {
		if !t.Before(day) && t.Before(day.Add(24*time.Hour)) && !removed[m] {
			members = append(members, m)
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].ID < members[j].ID })
	for _, m := range members {
		p.leave(g, m, left[m], wechat.QuitSelf)
	}
	for m := range removed {
		left[m] = day // gone for the rest of the run
	}
}

func (p *planner) join(g *Group, m *Member, at time.Time, scene int) {
	if g.Membership.ID != "" {
		p.add(Event{At: at, Kind: KindJoin, Group: g, Member: m, Scene: scene})
	}
}

func (p *planner) leave(g *Group, m *Member, at time.Time, scene int) {
	if g.Membership.ID != "" {
		p.add(Event{At: at, Kind: KindLeave, Group: g, Member: m, Scene: scene})
	}
}

// popup plans a resource pop-up group: members pour in at 10:00 on day 0,
// grab the resource within ten minutes, and the owner dismisses it.
func (p *planner) popup(g *Group, start time.Time) {
	open := start.Add(10 * time.Hour)
	minutes := g.Lifecycle.PopupMinutes
	if minutes <= 0 {
		minutes = 10
	}
	for _, m := range g.Members {
		at := p.between(open, 0, 2*time.Minute)
		p.join(g, m, at, wechat.JoinByQRCode)
		if p.rnd.Float64() < 0.5 && g.Chat.ID != "" {
			p.add(Event{At: at.Add(time.Duration(10+p.rnd.IntN(300)) * time.Second), Kind: KindMessage, Group: g, Member: m,
				Text: texts.pick(p.rnd, append(texts.Questions, texts.Thanks...), 0)})
		}
	}
	if g.Membership.Kind == qunyun.ChannelWeCom {
		p.add(Event{At: open.Add(time.Duration(minutes) * time.Minute), Kind: KindDismiss, Group: g})
	}
}

// Counts are what a timeline holds, by kind.
type Counts map[Kind]int

// Count tallies events by kind.
func Count(events []Event) Counts {
	c := Counts{}
	for _, e := range events {
		c[e.Kind]++
	}
	return c
}

// String prints counts in a stable order.
func (c Counts) String() string {
	var s string
	for _, k := range []Kind{KindMessage, KindCheckin, KindBot, KindOA, KindVote, KindJoin, KindLeave, KindDismiss} {
		if s != "" {
			s += " "
		}
		s += string(k) + "=" + strconv.Itoa(c[k])
	}
	return s
}
