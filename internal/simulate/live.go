package simulate

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/simulate/callbacks"
)

// Live plays a light simulation in real time until ctx ends: the Opening
// events at their times, about one group message every `every` (members
// who were there from the start chat, ask and answer in the groups whose
// chat the bridge sees, and now and then ask the smart bot), the owners
// confirm tasks and members open links as in Run, and members take part in
// sessions that start. It is the demo life of `make run`: enough to see
// the system work, never a load.
func (s *Simulation) Live(ctx context.Context, every time.Duration) error {
	s.prepare()
	for _, e := range s.Opening {
		s.push(e)
	}
	if every <= 0 {
		every = 4 * time.Second
	}
	chat, err := s.newLiveChat()
	if err != nil {
		return err
	}

	jobs, stop := s.startWorker(ctx)
	defer stop()

	// enqueue hands j to the worker; false when ctx ended first.
	enqueue := func(j job) bool {
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	send := func(e Event) error {
		j, err := s.jobFor(e)
		if err != nil {
			return fmt.Errorf("live: %w", err)
		}
		enqueue(j)
		return nil
	}
	nextChat := time.Now() // wallclock: Live paces chat in real time
	var lastSandbox, lastSessions time.Time
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := s.Stack.Clock.Now()
		if time.Since(lastSandbox) >= 15*time.Second {
			lastSandbox = time.Now() // wallclock: Live paces chat in real time
			s.observeSandbox(ctx, now)
		}
		if time.Since(lastSessions) >= 30*time.Second {
			lastSessions = time.Now() // wallclock: Live paces chat in real time
			s.observeSessions(ctx, now.Add(-sessionsEvery))
		}
		// The opening and the reactions that are due (confirmations,
		// opens, session Q&A).
		for s.events.Len() > 0 && !s.events[0].At.After(now) {
			if err := send(heap.Pop(&s.events).(Event)); err != nil {
				return err
			}
		}
		if time.Now().Before(nextChat) { // wallclock: Live paces chat in real time
			continue
		}
		// Half to one and a half times `every`, so it does not tick like a clock.
		nextChat = time.Now().Add(every/2 + time.Duration(chat.p.rnd.Int64N(int64(every)))) // wallclock: Live paces chat in real time
		if err := send(chat.next(now)); err != nil {
			return err
		}
	}
}

// startWorker sends Live's jobs, one at a time, until stop, which waits
// for the job in hand.
func (s *Simulation) startWorker(ctx context.Context) (jobs chan<- job, stop func()) {
	ch := make(chan job, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	b := &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(s.Seed + 1)), Now: s.Stack.Clock.Now}
	go func() {
		defer wg.Done()
		for j := range ch {
			s.do(ctx, b, j)
		}
	}()
	return ch, func() { close(ch); wg.Wait() }
}

// liveChat is Live's group chat: a random speaker says what their persona
// says, and an answer replies to the latest open question of the group
// asked by someone else.
type liveChat struct {
	p        *planner
	speakers []speaker
	open     map[*Group][]Event // questions waiting for an answer, per group
	// botGroups are where members ask the smart bot: the groups only it hears.
	botGroups []*Group
}

// speaker is a member who says something, in their group.
type speaker struct {
	g *Group
	m *Member
}

// newLiveChat finds who talks: the members who say something, in groups
// whose chat the bridge carries and that are meant to be lively; newcomers
// only once they joined, in the Opening.
func (s *Simulation) newLiveChat() (*liveChat, error) {
	var speakers []speaker
	for _, g := range s.World.Groups {
		if g.Chat.ID == "" || g.Profile.activity < 0.5 {
			continue
		}
		for _, m := range g.Members {
			if m.Persona != Lurker && m.Persona != Spammer && m.Persona != Newcomer {
				speakers = append(speakers, speaker{g, m})
			}
		}
	}
	if len(speakers) == 0 {
		return nil, fmt.Errorf("live: no group whose chat the bridge carries")
	}
	// wallclock: a random seed
	p := &planner{rnd: rand.New(rand.NewPCG(s.Seed, uint64(time.Now().UnixNano()))), world: s.World, seed: s.Seed}
	c := &liveChat{p: p, speakers: speakers, open: map[*Group][]Event{}}
	for _, g := range s.World.Groups {
		if g.Chat.ID == "" && g.Bot.ID != "" && len(g.Members) > 0 {
			c.botGroups = append(c.botGroups, g)
		}
	}
	return c, nil
}

// botEvery: every so many acts of Live's chat, a member asks the smart bot.
const botEvery = 10

// next is the next chat message, said at now.
func (c *liveChat) next(now time.Time) Event {
	p := c.p
	p.seq++
	if len(c.botGroups) > 0 && p.seq%botEvery == 0 {
		g := c.botGroups[p.rnd.IntN(len(c.botGroups))]
		return Event{At: now, Kind: KindBot, Group: g, Member: g.Members[p.rnd.IntN(len(g.Members))],
			ID: fmt.Sprintf("live-%d-%d", now.UnixMilli(), p.seq), Text: texts.pick(p.rnd, texts.BotAsks, 0)}
	}
	sp := c.speakers[p.rnd.IntN(len(c.speakers))]
	g, m := sp.g, sp.m
	e := p.message(g, m, personaTraits[m.Persona], now)
	e.ID = fmt.Sprintf("live-%d-%d", now.UnixMilli(), p.seq)
	switch e.Scene {
	case sceneQuestion:
		c.open[g] = append(c.open[g], e)
	case sceneAnswer:
		if q := c.open[g]; len(q) > 0 && q[len(q)-1].Member != m {
			e.ReplyTo, e.Mentions = q[len(q)-1].ID, []string{q[len(q)-1].Member.ID}
			c.open[g] = q[:len(q)-1]
		} else {
			e.Text = texts.pick(p.rnd, texts.Chatter, 0)
		}
	}
	e.Scene = 0
	return e
}

// Sent returns how many callbacks a Live (or Run) has sent and had
// accepted so far.
func (s *Simulation) Sent() (sent, accepted int) {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	for _, v := range s.stats.sent {
		sent += v
	}
	for _, v := range s.stats.accepted {
		accepted += v
	}
	return sent, accepted
}
