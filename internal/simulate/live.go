package simulate

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
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
	if s.Log == nil {
		s.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.Stack.HTTP == nil {
		s.Stack.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	if every <= 0 {
		every = 4 * time.Second
	}
	s.stats = stats{sent: Counts{}, accepted: Counts{}, rejected: map[string]int{}}
	s.builder = &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(s.Seed)), Now: s.Stack.Clock.Now}
	s.sender = &callbacks.Sender{Base: strings.TrimRight(s.Stack.Gateway, "/"), Client: s.Stack.HTTP}
	s.sessions, s.tasks, s.codes, s.callsN, s.version = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]int{}, map[string]int{}
	s.events = nil
	for _, e := range s.Opening {
		s.push(e)
	}

	// Who talks: the members who say something, in groups whose chat the
	// bridge carries and that are meant to be lively; newcomers only once
	// they joined, in the Opening.
	type speaker struct {
		g *Group
		m *Member
	}
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
		return fmt.Errorf("live: no group whose chat the bridge carries")
	}
	// Where members ask the smart bot: the groups only it hears.
	var botGroups []*Group
	for _, g := range s.World.Groups {
		if g.Chat.ID == "" && g.Bot.ID != "" && len(g.Members) > 0 {
			botGroups = append(botGroups, g)
		}
	}
	// wallclock: a random seed
	p := &planner{rnd: rand.New(rand.NewPCG(s.Seed, uint64(time.Now().UnixNano()))), world: s.World, seed: s.Seed}
	open := map[*Group][]Event{} // questions waiting for an answer, per group

	jobs := make(chan job, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	b := &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(s.Seed + 1)), Now: s.Stack.Clock.Now}
	go func() {
		defer wg.Done()
		for j := range jobs {
			s.do(ctx, b, j)
		}
	}()
	defer func() { close(jobs); wg.Wait() }()

	send := func(e Event) error {
		req, err := s.buildWith(s.builder, e)
		if err != nil {
			return fmt.Errorf("live: %w", err)
		}
		select {
		case jobs <- job{e: e, req: req}:
		case <-ctx.Done():
		}
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
			j, err := s.jobFor(heap.Pop(&s.events).(Event))
			if err != nil {
				return fmt.Errorf("live: %w", err)
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return nil
			}
		}
		if time.Now().Before(nextChat) { // wallclock: Live paces chat in real time
			continue
		}
		// Half to one and a half times `every`, so it does not tick like a clock.
		nextChat = time.Now().Add(every/2 + time.Duration(p.rnd.Int64N(int64(every)))) // wallclock: Live paces chat in real time
		p.seq++
		if len(botGroups) > 0 && p.seq%botEvery == 0 {
			g := botGroups[p.rnd.IntN(len(botGroups))]
			e := Event{At: now, Kind: KindBot, Group: g, Member: g.Members[p.rnd.IntN(len(g.Members))],
				ID: fmt.Sprintf("live-%d-%d", now.UnixMilli(), p.seq), Text: texts.pick(p.rnd, texts.BotAsks, 0)}
			if err := send(e); err != nil {
				return err
			}
			continue
		}
		sp := speakers[p.rnd.IntN(len(speakers))]
		g, m := sp.g, sp.m
		e := p.message(g, m, personaTraits[m.Persona], now)
		e.ID = fmt.Sprintf("live-%d-%d", now.UnixMilli(), p.seq)
		switch e.Scene {
		case sceneQuestion:
			open[g] = append(open[g], e)
		case sceneAnswer:
			if q := open[g]; len(q) > 0 && q[len(q)-1].Member != m {
				e.ReplyTo, e.Mentions = q[len(q)-1].ID, []string{q[len(q)-1].Member.ID}
				open[g] = q[:len(q)-1]
			} else {
				e.Text = texts.pick(p.rnd, texts.Chatter, 0)
			}
		}
		e.Scene = 0
		if err := send(e); err != nil {
			return err
		}
	}
}

// botEvery: every so many acts of Live's chat, a member asks the smart bot.
const botEvery = 10

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
