package simulate

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/wechat"
)

// Clock is the stack's clock (*clock.Scaled for a fast one, clock.Real).
type Clock interface {
	Now() time.Time
}

// realDuration is how long the virtual duration d lasts in real time on c.
func realDuration(c Clock, d time.Duration) time.Duration {
	if sc, ok := c.(interface {
		RealDuration(time.Duration) time.Duration
	}); ok {
		return sc.RealDuration(d)
	}
	return d
}

// Stack is how the simulation reaches a running stack: its gateway (the
// callback's routes, the tracked-link redirect and the sandbox's control
// endpoints under /_local/sandbox), its table (read only) and its clock.
type Stack struct {
	Gateway string
	Table   *dynamo.Table
	Clock   Clock
	HTTP    *http.Client
	// NextFire, when set, tells the earliest scheduled time whose
	// invocation has not finished (eventbus.Bus.Unfinished): the run waits
	// for the schedules to catch up before it ends and measures how far
	// they fall behind.
	NextFire func() (time.Time, bool)
	// Hold and Settled, when both are set (eventbus.Bus.HoldAfter and
	// Settled), make the run go in step with the stack's scheduler: the
	// ticks of a minute, then what the members do in that minute, then the
	// next minute's ticks, each waiting for the bus deliveries the other
	// started. On a fast clock the order of a tick and a member's action
	// would otherwise depend on the machine's load, and so would the
	// summary.
	Hold    func(time.Time)
	Settled func(time.Time) bool
	// Step, when set, makes the run a discrete-event simulation on a
	// stepped clock (local.Stack.Step): it moves the stack's clock to a
	// time, fires the schedules due and waits for all they set off; Settle
	// waits for what a request set off. Virtual time then moves only when
	// the run says, so the machine's speed cannot change what happens, and
	// the run goes as fast as the stack can work. NextFire must be set too.
	Step   func(context.Context, time.Time) error
	Settle func(context.Context) error
}

// Simulation plays a World against a Stack.
type Simulation struct {
	Stack Stack
	World *World
	Seed  uint64
	Start time.Time // local midnight of day 0
	Days  int
	// Hosts maps a host id (as sessions name it) to the member id it speaks under.
	Hosts map[string]string
	// Workers is how many callbacks are in flight at once; 0 means 8.
	Workers int
	// Bridge, when set, is the relay bridge the stack posts to (the local
	// stack's): members open the links in its messages too.
	Bridge *bridge.Server
	// Opening, for Live, are events it plays at their own times besides
	// the chat (see Opening).
	Opening []Event
	// Progress, when set, hears about each simulated day as it begins.
	Progress func(day, days int, sent int)
	Log      *slog.Logger

	events   eventHeap
	step     *lockstep
	stats    stats
	maxLag   time.Duration // how late the run acted, at most
	lateness Lateness
	builder  *callbacks.Builder
	sender   *callbacks.Sender
	sessions map[string]bool // sessions whose Q&A is planned
	tasks    map[string]bool // tasks seen
	codes    map[string]bool // tracked links seen
	callsN   map[string]int  // sandbox calls read, per path
	bridgeN  int             // bridge posts read
	version  map[string]int  // member version per WeCom group
	seq      int
}

// stats are counted by the workers.
type stats struct {
	mu       sync.Mutex
	sent     Counts
	accepted Counts
	rejected map[string]int // kind: status → count
	samples  []string
	opens    int
	confirms int
	qa       int
}

func (s *stats) add(k Kind, ok bool, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[k]++
	if ok {
		s.accepted[k]++
		return
	}
	s.rejected[string(k)+" "+why]++
	if len(s.samples) < 5 {
		s.samples = append(s.samples, string(k)+": "+why)
	}
}

// Observation times: how often the simulation looks at what the stack did.
const (
	sandboxEvery  = 20 * time.Minute
	sessionsEvery = time.Hour
	// The nightly scoring runs at 02:00 Asia/Shanghai; the run ends when
	// the last simulated day has been scored.
	nightlyAfter = 2*time.Hour + 30*time.Minute
)

// internal kinds, never sent.
const (
	kindObserveSandbox  Kind = "observe-sandbox"
	kindObserveSessions Kind = "observe-sessions"
	kindConfirm         Kind = "confirm"
	kindOpen            Kind = "open"
)

// Run plays the timeline and the reactions, then waits for the last night's
// scoring and summarises. The timeline must come from Plan on s.World.
func (s *Simulation) Run(ctx context.Context, timeline []Event) (*Summary, error) {
	if s.Log == nil {
		s.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.Stack.HTTP == nil {
		s.Stack.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	if s.Workers <= 0 {
		s.Workers = 8
	}
	s.stats = stats{sent: Counts{}, accepted: Counts{}, rejected: map[string]int{}}
	s.builder = &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(s.Seed)), Now: s.Stack.Clock.Now}
	s.sender = &callbacks.Sender{Base: strings.TrimRight(s.Stack.Gateway, "/"), Client: s.Stack.HTTP}
	s.sessions, s.tasks, s.codes, s.callsN, s.version = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]int{}, map[string]int{}
	s.bridgeN = 0
	s.events = nil
	for _, e := range timeline {
		s.push(e)
	}
	end := s.Start.AddDate(0, 0, s.Days)
	for t := s.Start; t.Before(end); t = t.Add(sandboxEvery) {
		s.push(Event{At: t, Kind: kindObserveSandbox})
	}
	for t := s.Start; t.Before(end); t = t.Add(sessionsEvery) {
		s.push(Event{At: t, Kind: kindObserveSessions})
	}

	if s.Stack.Step != nil {
		if s.Stack.Settle == nil || s.Stack.NextFire == nil {
			return nil, errors.New("simulate: a stepped stack needs Settle and NextFire")
		}
		if err := s.loopStepped(ctx); err != nil {
			return nil, err
		}
		// The last night's scoring, then what the stack made of it all.
		if err := s.stepTo(ctx, end.Add(nightlyAfter)); err != nil {
			return nil, err
		}
		return s.summarise(ctx, end)
	}

	// One queue per worker, and a group's events always on the same one:
	// a question reaches the stack before the "+1" quoting it.
	queues := make([]chan job, s.Workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan job, 4)
		wg.Add(1)
		// Each worker rebuilds stale requests with its own builder: nonces
		// and AES padding do not change what the stack records.
		b := &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(s.Seed + uint64(i) + 1)), Now: s.Stack.Clock.Now}
		go func() {
			defer wg.Done()
			for j := range queues[i] {
				s.do(ctx, b, j)
				s.step.done(j.e.seq)
			}
		}()
	}
	s.step = newLockstep(s.Stack.Hold, s.Stack.Settled)
	err := s.loop(ctx, queues, end)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	s.step.release()
	if err != nil {
		return nil, err
	}
	// Let the stack score the last day, then read what it made of it all.
	if err := s.waitUntil(ctx, end.Add(nightlyAfter)); err != nil {
		return nil, err
	}
	if err := s.waitScheduler(ctx, end.Add(nightlyAfter)); err != nil {
		return nil, err
	}
	return s.summarise(ctx, end)
}

type job struct {
	e   Event
	req callbacks.Request
}

func (s *Simulation) loop(ctx context.Context, queues []chan job, end time.Time) error {
	day := -1
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(Event)
		s.step.begin(e.seq, e.At)
		s.step.next(s.nextAt())
		if err := s.waitUntil(ctx, e.At); err != nil {
			return err
		}
		if err := s.step.wait(ctx, e.At); err != nil {
			return err
		}
		s.late(e.At)
		jobs := queues[s.queueOf(e, len(queues))]
		if d := int(e.At.Sub(s.Start) / (24 * time.Hour)); d > day && d < s.Days {
			day = d
			if s.Progress != nil {
				sent, _ := s.Sent()
				s.Progress(day, s.Days, sent)
			}
		}
		switch e.Kind {
		case kindObserveSandbox:
			s.observeSandbox(ctx, e.At)
			s.step.next(s.nextAt())
			s.step.done(e.seq)
		case kindObserveSessions:
			s.observeSessions(ctx, e.At)
			s.step.next(s.nextAt())
			s.step.done(e.seq)
		default:
			j, err := s.jobFor(e)
			if err != nil {
				return err
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// jobFor makes the job for an action: a confirmation or a link open as it
// is, anything else as its callback request, built in timeline order (a
// WeCom join or leave carries its group's next change version).
func (s *Simulation) jobFor(e Event) (job, error) {
	if e.Kind == kindConfirm || e.Kind == kindOpen {
		return job{e: e}, nil
	}
	if (e.Kind == KindJoin || e.Kind == KindLeave) && e.Group.Membership.Kind == qunyun.ChannelWeCom {
		s.version[e.Group.ID]++
		e.version = s.version[e.Group.ID]
	}
	req, err := s.buildWith(s.builder, e)
	if err != nil {
		return job{}, fmt.Errorf("simulate: %w", err)
	}
	return job{e: e, req: req}, nil
}

// loopStepped plays the events one at a time on a stepped clock: first
// every scheduled time up to the event's, each at its own time and settled,
// then the event at its own time, then whatever it set off, settled. One
// event at a time: two actions in flight together would race for the
// stack, and which won would depend on the machine.
func (s *Simulation) loopStepped(ctx context.Context) error {
	day := -1
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(Event)
		if err := s.stepTo(ctx, e.At); err != nil {
			return err
		}
		s.late(e.At)
		if d := int(e.At.Sub(s.Start) / (24 * time.Hour)); d > day && d < s.Days {
			day = d
			if s.Progress != nil {
				sent, _ := s.Sent()
				s.Progress(day, s.Days, sent)
			}
		}
		switch e.Kind {
		case kindObserveSandbox:
			s.observeSandbox(ctx, e.At)
			continue
		case kindObserveSessions:
			s.observeSessions(ctx, e.At)
			continue
		default:
			j, err := s.jobFor(e)
			if err != nil {
				return err
			}
			s.do(ctx, s.builder, j)
		}
		if err := s.Stack.Settle(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// stepTo moves the stepped clock to t: to each scheduled time on the way
// first, so every tick runs at its own time, after what came before it
// has settled.
func (s *Simulation) stepTo(ctx context.Context, t time.Time) error {
	for {
		next, ok := s.Stack.NextFire()
		if !ok || next.After(t) {
			break
		}
		if err := s.Stack.Step(ctx, next); err != nil {
			return err
		}
	}
	return s.Stack.Step(ctx, t)
}

// nextAt is the time of the next event in the queue, zero when none.
func (s *Simulation) nextAt() time.Time {
	if s.events.Len() == 0 {
		return time.Time{}
	}
	return s.events[0].At
}

// queueOf picks the worker for an event: by group, so one group's events
// reach the stack in order.
func (s *Simulation) queueOf(e Event, n int) int {
	key := e.ID
	if e.Group != nil {
		key = e.Group.ID
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// MaxLag is how late, on the stack's clock, the run got to act: a member
// acts once the stack's schedules up to that minute have finished (see
// Stack.Hold), so this is also how far the schedules fell behind the clock
// while the members were active. More than a few virtual minutes means the
// clock runs faster than the stack can follow (lower the speed): the
// functions then see a later time than the minute they run for.
func (s *Simulation) MaxLag() time.Duration { return s.maxLag }

// Lateness counts the run's actions and those more than one and ten
// virtual minutes late (see MaxLag).
type Lateness struct{ Actions, OverMinute, OverTenMinutes int }

// Lateness tells how often the run acted late.
func (s *Simulation) Lateness() Lateness { return s.lateness }

// late notes how late the run acts for an action due at t.
func (s *Simulation) late(t time.Time) {
	l := s.Stack.Clock.Now().Sub(t)
	s.maxLag = max(s.maxLag, l)
	s.lateness.Actions++
	if l > time.Minute {
		s.lateness.OverMinute++
	}
	if l > 10*time.Minute {
		s.lateness.OverTenMinutes++
	}
}

// waitScheduler waits until every schedule up to t has fired and the
// functions it started have had a moment to finish.
func (s *Simulation) waitScheduler(ctx context.Context, t time.Time) error {
	if s.Stack.NextFire == nil {
		return nil
	}
	for {
		next, ok := s.Stack.NextFire()
		if !ok || next.After(t) {
			break
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// The nightly run fans out by bus events; give them a moment.
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// waitUntil sleeps until the stack's clock reaches t.
func (s *Simulation) waitUntil(ctx context.Context, t time.Time) error {
	for {
		ahead := t.Sub(s.Stack.Clock.Now())
		if ahead <= 0 {
			return nil
		}
		wait := realDuration(s.Stack.Clock, ahead)
		if wait > 250*time.Millisecond {
			wait = 250 * time.Millisecond
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Simulation) push(e Event) {
	// Planned events are pushed first, so a reaction sorts after every
	// planned event of the same second.
	s.seq++
	e.seq = s.seq
	heap.Push(&s.events, e)
}

// buildWith turns an event into the callback WeChat, WeCom or the bridge
// sends, stamped with b's clock. It changes nothing, so a worker can
// rebuild a request the stack found stale.
func (s *Simulation) buildWith(b *callbacks.Builder, e Event) (callbacks.Request, error) {
	g, m := e.Group, e.Member
	switch e.Kind {
	case KindMessage, KindCheckin, KindVote:
		return b.Relay(g.Chat, wechat.RelayEvent{
			ID: e.ID, Type: wechat.RelayMessage, GroupID: g.ID, GroupName: g.Name, MemberID: m.ID, MemberName: m.Name,
			Kind: "text", Text: e.Text, Mentions: e.Mentions, ReplyTo: e.ReplyTo, Time: e.At.Unix(),
		}, b.Now())
	case KindBot:
		return b.BotMention(g.Bot, g.ID, m.ID, e.ID, texts.BotMention+" "+e.Text, e.At)
	case KindOA:
		return b.OAText(s.World.OA, m.ID, e.Text, msgID(e.ID), e.At)
	case KindJoin, KindLeave:
		if g.Membership.Kind == qunyun.ChannelWeCom {
			return b.WeComMembership(g.Membership, callbacks.Membership{
				ChatID: g.ID, Joined: e.Kind == KindJoin, Members: []string{m.ID}, Scene: e.Scene, MemberVersion: e.version,
			}, e.At)
		}
		typ := wechat.RelayMemberJoined
		if e.Kind == KindLeave {
			typ = wechat.RelayMemberLeft
		}
		return b.Relay(g.Membership, wechat.RelayEvent{
			ID: e.ID, Type: typ, GroupID: g.ID, GroupName: g.Name, MemberID: m.ID, MemberName: m.Name, Time: e.At.Unix(),
		}, b.Now())
	case KindDismiss:
		return b.WeComGroup(g.Membership, g.ID, wechat.ChatDismiss, e.At)
	}
	return callbacks.Request{}, fmt.Errorf("event kind %q cannot be sent", e.Kind)
}

// msgID is a positive 63-bit OA MsgId derived from the event id.
func msgID(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64() >> 1)
}

// do sends one job; it runs on a worker.
func (s *Simulation) do(ctx context.Context, b *callbacks.Builder, j job) {
	switch j.e.Kind {
	case kindConfirm:
		s.confirm(ctx, j.e.ID)
		return
	case kindOpen:
		s.open(ctx, j.e.ID, j.e.Member.ID)
		return
	}
	req := j.req
	for attempt := 0; ; attempt++ {
		res, err := s.sender.Send(ctx, req)
		if err != nil {
			if ctx.Err() == nil {
				s.stats.add(j.e.Kind, false, err.Error())
			}
			return // stopped: a request cut short is not counted
		}
		if res.Accepted {
			s.stats.add(j.e.Kind, true, "")
			return
		}
		// The callback refuses a request stamped more than five minutes
		// from its clock; on a fast clock that is a fraction of a real
		// second, so a request that queued is re-stamped and re-signed, as
		// a sender whose first try was refused would. Nothing was recorded.
		if res.Status == http.StatusUnauthorized && attempt < 5 {
			if again, err := s.buildWith(b, j.e); err == nil {
				req = again
				continue
			}
		}
		// A relay event's own time must be within 10 minutes of the
		// callback's clock, which on a fast clock is a fraction of a real
		// second too. A bridge that queued an event that long can only
		// re-date it to when it sends it: so does the run (never on a
		// stepped clock, which waits for each event at its own time).
		if res.Status == http.StatusBadRequest && req.Channel == qunyun.ChannelRelay && attempt < 5 {
			if now := b.Now(); now.Sub(j.e.At).Abs() > wechat.RelayMaxTimeSkew {
				e := j.e
				e.At = now
				if again, err := s.buildWith(b, e); err == nil {
					req = again
					continue
				}
			}
		}
		why := fmt.Sprintf("status %d", res.Status)
		if res.LastErr != nil {
			why = res.LastErr.Error()
		} else if len(res.Body) > 0 {
			why += ": " + strings.TrimSpace(string(res.Body[:min(len(res.Body), 120)]))
		}
		s.stats.add(j.e.Kind, false, why)
		s.Log.Warn("simulate: callback not accepted", "kind", j.e.Kind, "id", j.e.ID, "why", why)
		return
	}
}

// rndFor is a random source for a reaction to key: it depends on the seed
// and key only, not on when the stack did what is reacted to.
func (s *Simulation) rndFor(key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(s.Seed, h.Sum64()))
}

func seedBytes(seed uint64) [32]byte {
	var b [32]byte
	for i := range 8 {
		b[i] = byte(seed >> (8 * i))
	}
	return b
}

// observeSessions plans the Q&A of sessions about to start in simulated
// groups: members ask, the host answers, others "+1" questions they share.
func (s *Simulation) observeSessions(ctx context.Context, now time.Time) {
	list, err := s.Stack.Table.SessionsStarting(ctx, now, now.Add(2*sessionsEvery))
	if err != nil {
		s.Log.Warn("simulate: read sessions", "error", err)
		return
	}
	for _, ss := range list {
		if s.sessions[ss.ID] || ss.State == qunyun.SessionCancelled {
			continue
		}
		g := s.group(ss.GroupID)
		if g == nil || (g.Chat.ID == "" && g.Bot.ID == "") {
			continue
		}
		s.sessions[ss.ID] = true
		s.planSession(g, ss)
	}
}

func (s *Simulation) planSession(g *Group, ss qunyun.Session) {
	rnd := s.rndFor("session/" + ss.ID)
	host := s.member(g, s.Hosts[ss.HostID])
	var audience []*Member
	for _, m := range g.Members {
		if m.Persona != HostP && m.Persona != Spammer && m.Persona != Newcomer {
			audience = append(audience, m)
		}
	}
	if len(audience) == 0 || !ss.End.After(ss.Start.Add(15*time.Minute)) {
		return
	}
	span := ss.End.Sub(ss.Start) - 12*time.Minute
	id := func(n int) string { return fmt.Sprintf("sim-%d-s-%s-%d", s.Seed, ss.ID, n) }
	n := 0
	kind := KindMessage
	if g.Chat.ID == "" {
		kind = KindBot
	}
	if host != nil && kind == KindMessage {
		n++
		s.push(Event{At: ss.Start.Add(time.Minute), Kind: kind, Group: g, Member: host, ID: id(n), Text: texts.pick(rnd, texts.HostTalk, 0)})
	}
	questions := 3 + rnd.IntN(6)
	for range questions {
		asker := audience[rnd.IntN(len(audience))]
		at := ss.Start.Add(2*time.Minute + time.Duration(rnd.Int64N(int64(span))))
		n++
		q := Event{At: at, Kind: kind, Group: g, Member: asker, ID: id(n), Text: texts.pick(rnd, texts.Questions, 0)}
		s.push(q)
		s.stats.mu.Lock()
		s.stats.qa++
		s.stats.mu.Unlock()
		if kind != KindMessage {
			continue
		}
		for range rnd.IntN(4) {
			n++
			s.push(Event{At: at.Add(time.Duration(30+rnd.IntN(300)) * time.Second), Kind: KindVote, Group: g,
				Member: audience[rnd.IntN(len(audience))], ID: id(n), Text: texts.pick(rnd, texts.Votes, 0), ReplyTo: q.ID})
		}
		if host != nil && rnd.Float64() < 0.75 {
			n++
			s.push(Event{At: at.Add(time.Duration(2+rnd.IntN(8)) * time.Minute), Kind: kind, Group: g, Member: host, ID: id(n),
				Text: texts.pick(rnd, texts.Answers, 0), ReplyTo: q.ID, Mentions: []string{asker.ID}})
		}
	}
}

func (s *Simulation) group(id string) *Group {
	for _, g := range s.World.Groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (s *Simulation) member(g *Group, id string) *Member {
	for _, m := range g.Members {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// sandboxTask is what the sandbox's GET /tasks lists.
type sandboxTask struct {
	MsgID     string          `json:"msgid"`
	ChatIDs   []string        `json:"chatIds"`
	SentAt    time.Time       `json:"sentAt"`
	Cancelled bool            `json:"cancelled"`
	Created   time.Time       `json:"created"`
	Body      json.RawMessage `json:"body"`
}

// sandboxCall is what the sandbox's GET /calls lists.
type sandboxCall struct {
	At   time.Time       `json:"at"`
	Path string          `json:"path"`
	Body json.RawMessage `json:"body"`
}

// Paths of sends that reach members directly (a customer-group task reaches
// them only once its owner confirms: its links are read from the task).
var directSendPaths = []string{"/cgi-bin/appchat/send", "/cgi-bin/webhook/send", "/cgi-bin/message/custom/send"}

var linkCode = regexp.MustCompile(`/r/([A-Za-z0-9_-]{1,64})`)

// observeSandbox plays the group owners (who confirm most customer-group
// tasks, some late, a few never) and schedules link opens for what reached
// members.
//
// Reactions are timed from the observation's own virtual time, never from
// when the stack did something, so they do not move with the stack's load.
func (s *Simulation) observeSandbox(ctx context.Context, now time.Time) {
	var tasks []sandboxTask
	if err := s.getJSON(ctx, "/_local/sandbox/tasks", &tasks); err != nil {
		s.Log.Warn("simulate: read sandbox tasks", "error", err)
		return
	}
	for _, t := range tasks {
		if s.tasks[t.MsgID] || t.Cancelled {
			continue
		}
		s.tasks[t.MsgID] = true
		rnd := s.rndFor(taskKey(s.sender.Base, t.ChatIDs, t.Body))
		if rnd.Float64() < 0.1 {
			continue // this owner never confirms
		}
		at := now.Add(time.Duration(2+rnd.IntN(90)) * time.Minute)
		s.push(Event{At: at, Kind: kindConfirm, ID: t.MsgID})
		for _, chat := range t.ChatIDs {
			s.scheduleOpens(at, chat, string(t.Body))
		}
	}
	if s.Bridge != nil {
		posts := s.Bridge.Posts()
		for _, m := range posts[min(s.bridgeN, len(posts)):] {
			s.scheduleOpens(now, m.GroupID, m.Text+" "+m.URL)
		}
		s.bridgeN = len(posts)
	}
	for _, path := range directSendPaths {
		var calls []sandboxCall
		if err := s.getJSON(ctx, "/_local/sandbox/calls?path="+url.QueryEscape(path), &calls); err != nil {
			s.Log.Warn("simulate: read sandbox calls", "error", err)
			return
		}
		for _, c := range calls[min(s.callsN[path], len(calls)):] {
			s.scheduleOpens(now, "", string(c.Body))
		}
		s.callsN[path] = len(calls)
	}
}

// taskKey names a customer-group task for its owner's random choices by
// what the task says, not by its msgid (the sandbox numbers tasks in the
// order concurrent pushes reached it), and without the stack's address,
// which its tracked links carry: the simulation's stack listens on a free
// port, different in every run, and the same seed must make the same
// choices.
func taskKey(stackBase string, chatIDs []string, body []byte) string {
	text := string(body)
	if stackBase != "" {
		text = strings.ReplaceAll(text, stackBase, "")
	}
	return "task/" + strings.Join(chatIDs, ",") + "/" + text
}

// scheduleOpens has some members of the link's group open each tracked link
// in body, over the next hours.
func (s *Simulation) scheduleOpens(after time.Time, groupID, body string) {
	for _, m := range linkCode.FindAllStringSubmatch(body, -1) {
		code := m[1]
		if s.codes[code] {
			continue
		}
		s.codes[code] = true
		l, found, err := s.Stack.Table.Link(context.Background(), code)
		if err != nil || !found {
			continue
		}
		g := s.group(firstNonEmpty(l.GroupID, groupID))
		if g == nil {
			continue
		}
		rnd := s.rndFor("link/" + l.GroupID + "/" + l.ContentID + "/" + l.DeliveryID)
		share := 0.05 + 0.3*rnd.Float64()
		for _, mem := range g.Members {
			if rnd.Float64() < share {
				s.push(Event{At: after.Add(time.Duration(1+rnd.IntN(240)) * time.Minute), Kind: kindOpen, Group: g, Member: mem, ID: code})
			}
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Simulation) confirm(ctx context.Context, msgID string) {
	body := strings.NewReader(`{"msgid":` + jsonString(msgID) + `}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sender.Base+"/_local/sandbox/confirm", body)
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Stack.HTTP.Do(req)
	if err != nil {
		s.Log.Warn("simulate: confirm task", "task", msgID, "error", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		s.stats.mu.Lock()
		s.stats.confirms++
		s.stats.mu.Unlock()
	}
}

func (s *Simulation) open(ctx context.Context, code, member string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.sender.Base+"/r/"+url.PathEscape(code)+"?from="+url.QueryEscape(member), nil)
	if err != nil {
		return
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 MicroMessenger/8.0 (qunyun simulate)")
	// A member's browser follows the redirect to the article; the
	// simulation stops at the redirect.
	client := *s.Stack.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		s.Log.Warn("simulate: open link", "code", code, "error", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		s.stats.mu.Lock()
		s.stats.opens++
		s.stats.mu.Unlock()
	}
}

func (s *Simulation) getJSON(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.sender.Base+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.Stack.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// eventHeap orders events by time, then by creation.
type eventHeap []Event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].At.Equal(h[j].At) {
		return h[i].At.Before(h[j].At)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(Event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
