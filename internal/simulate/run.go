package simulate

import (
	"container/heap"
	"context"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
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
	if s.Workers <= 0 {
		s.Workers = 8
	}
	s.prepare()
	s.bridgeN = 0
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
	var err error
	if s.Stack.Step != nil {
		err = s.runStepped(ctx, end)
	} else {
		err = s.runRealTime(ctx, end)
	}
	if err != nil {
		return nil, err
	}
	return s.summarise(ctx, end)
}

// prepare sets the defaults and starts a run (or a Live) afresh: no
// events queued, nothing counted, nothing seen yet.
func (s *Simulation) prepare() {
	if s.Log == nil {
		s.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.Stack.HTTP == nil {
		s.Stack.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	s.stats = stats{sent: Counts{}, accepted: Counts{}, rejected: map[string]int{}}
	s.builder = &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(s.Seed)), Now: s.Stack.Clock.Now}
	s.sender = &callbacks.Sender{Base: strings.TrimRight(s.Stack.Gateway, "/"), Client: s.Stack.HTTP}
	s.sessions, s.tasks, s.codes, s.callsN, s.version = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]int{}, map[string]int{}
	s.events = nil
}

// progress tells Progress, once per simulated day, that the day of an
// event at t has begun; day is the last day told.
func (s *Simulation) progress(t time.Time, day *int) {
	if d := int(t.Sub(s.Start) / (24 * time.Hour)); d > *day && d < s.Days {
		*day = d
		if s.Progress != nil {
			sent, _ := s.Sent()
			s.Progress(*day, s.Days, sent)
		}
	}
}

// nextAt is the time of the next event in the queue, zero when none.
func (s *Simulation) nextAt() time.Time {
	if s.events.Len() == 0 {
		return time.Time{}
	}
	return s.events[0].At
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

func (s *Simulation) push(e Event) {
	// Planned events are pushed first, so a reaction sorts after every
	// planned event of the same second.
	s.seq++
	e.seq = s.seq
	heap.Push(&s.events, e)
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
