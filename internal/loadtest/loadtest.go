// Package loadtest is the load and fault runner behind `qunyun load`: it
// sends real signed and encrypted callbacks (internal/simulate/callbacks) to
// a running stack at a fixed rate with a mix of channels and a share of
// duplicates — WeChat's retries: the identical request sent again, some
// while the first is still in flight, some seconds later — retrying each as
// WeChat does; then, once the stack has finished what it was sent (Settle),
// it reads back what the table holds and counts what was lost, is still in
// flight, was stored twice or answered with an error, with latency
// percentiles.
//
// The sequence of requests (which channel, group, member, text and which
// earlier request a duplicate repeats) comes from one seeded random source,
// so two runs with the same seed send the same traffic (apart from the ids,
// which carry the start time so that runs against one table never collide).
// Wall-clock timing only decides when each request leaves.
//
// It must not write to the table or reach into the stack's code: the stack
// is a black box behind its gateway, and the table is read only to check.
package loadtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
)

// Mix is the share of each channel in the traffic; shares need not sum to 1.
type Mix map[qunyun.Channel]float64

// ParseMix reads "relay=0.6,wecom=0.2,bot=0.1,oa=0.1" ("bot" is short for
// wecom-bot).
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mix %q: want channel=share, e.g. relay=0.6", part)
		}
		ch := qunyun.Channel(strings.TrimSpace(name))
		if ch == "bot" {
			ch = qunyun.ChannelWeComBot
		}
		if !ch.Valid() {
			return nil, fmt.Errorf("mix %q: channel %q is not oa, wecom, bot or relay", part, name)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("mix %q: share must be a number ≥ 0", part)
		}
		m[ch] += v
	}
	total := 0.0
	for _, v := range m {
		total += v
	}
	if total == 0 {
		return nil, fmt.Errorf("mix %q: no channel has a share above 0", s)
	}
	return m, nil
}

// String prints the mix in a stable order.
func (m Mix) String() string {
	var parts []string
	for _, ch := range m.channels() {
		parts = append(parts, fmt.Sprintf("%s=%g", ch, m[ch]))
	}
	return strings.Join(parts, ",")
}

func (m Mix) channels() []qunyun.Channel {
	var out []qunyun.Channel
	for ch, v := range m {
		if v > 0 {
			out = append(out, ch)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Target is where one channel's traffic goes: its account and the groups
// (WeChat chat ids) it writes to. OA traffic is 1:1 and needs no groups.
type Target struct {
	Account qunyun.Account
	Groups  []string
}

// Options describe a run.
type Options struct {
	Rate     float64       // requests per second, duplicates included
	Duration time.Duration // how long to send
	Mix      Mix
	Dup      float64 // share of requests that repeat an earlier one, 0 to 1
	Seed     uint64
	Targets  map[qunyun.Channel]Target
	// Now is the stack's clock: event times and relay timestamps come from
	// it, because the callback checks them against its own clock.
	Now func() time.Time
	// MaxInFlight bounds concurrent requests; 0 means 1024.
	MaxInFlight int
	// Progress, when set, is called about once a second with the count sent.
	Progress func(sent, total int)
}

func (o Options) validate() error {
	switch {
	case o.Rate <= 0:
		return fmt.Errorf("rate must be above 0 requests a second")
	case o.Duration <= 0:
		return fmt.Errorf("duration must be above 0")
	case o.Dup < 0 || o.Dup >= 1:
		return fmt.Errorf("dup %v must be at least 0 and below 1", o.Dup)
	case len(o.Mix) == 0:
		return fmt.Errorf("no channel mix")
	case o.Now == nil:
		return fmt.Errorf("no clock")
	}
	for _, ch := range o.Mix.channels() {
		t, ok := o.Targets[ch]
		if !ok || t.Account.ID == "" {
			return fmt.Errorf("the mix names %s but the stack has no %s account", ch, ch)
		}
		if t.Account.Kind != ch {
			return fmt.Errorf("account %s is %s, not %s", t.Account.ID, t.Account.Kind, ch)
		}
		if ch != qunyun.ChannelOA && len(t.Groups) == 0 {
			return fmt.Errorf("no groups to send %s traffic to", ch)
		}
	}
	return nil
}

// Sent is one distinct callback the run sent (duplicates share it).
type Sent struct {
	Request callbacks.Request
	GroupID string // "" for OA 1:1
	SentAt  time.Time
	// Copies is how many times it was sent as its own request: 1 plus the
	// duplicates (each of which WeChat-retries on its own).
	Copies   int
	Accepted bool // some try of some copy got 200
}

// Attempt is the outcome of sending one copy.
type Attempt struct {
	Index  int // into Run.Sent
	Dup    bool
	Result callbacks.Result
	At     time.Duration // when it was sent, from the run's start
}

// Run is what a run sent.
type Run struct {
	Options  Options
	Sent     []*Sent
	Attempts []Attempt
	Began    time.Time
	Elapsed  time.Duration
}

// Start sends the traffic and waits for every answer.
func Start(ctx context.Context, s *callbacks.Sender, o Options) (*Run, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1024
	}
	rnd := rand.New(rand.NewPCG(o.Seed, 1))
	gen := &generator{
		rnd: rnd, opts: o, b: &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(o.Seed))},
		run:    strconv.FormatUint(o.Seed, 36) + "-" + strconv.FormatInt(o.Now().Unix()%1e6, 36),
		runNum: o.Now().UnixMilli() % 1e9,
	}
	total := int(o.Rate * o.Duration.Seconds())
	run := &Run{Options: o, Began: time.Now()} // wallclock: a load run paces requests in real time
	interval := time.Duration(float64(time.Second) / o.Rate)
	sn := &sending{ctx: ctx, sender: s, run: run, slots: make(chan struct{}, o.MaxInFlight)}
	lastTick := time.Now() // wallclock: pacing
	for i := 0; i < total; i++ {
		// Pace against the start time, not the previous send, so a slow
		// moment does not lower the rate of the whole run.
		if wait := time.Until(run.Began.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				sn.wg.Wait()
				return run, fmt.Errorf("load run stopped after %d of %d requests: %w", i, total, ctx.Err())
			}
		}
		idx, dup, err := sn.choose(gen)
		if err != nil {
			sn.wg.Wait()
			return run, err
		}
		if err := sn.start(idx, dup); err != nil {
			sn.wg.Wait()
			return run, err
		}
		if o.Progress != nil && time.Since(lastTick) >= time.Second {
			lastTick = time.Now() // wallclock: pacing
			o.Progress(i+1, total)
		}
	}
	sn.wg.Wait()
	run.Elapsed = time.Since(run.Began)
	if o.Progress != nil {
		o.Progress(total, total)
	}
	return run, nil
}

// sending is a run under way: its requests are chosen one after the other
// and sent concurrently, at most MaxInFlight at once.
type sending struct {
	ctx    context.Context
	sender *callbacks.Sender
	slots  chan struct{} // one per request in flight
	wg     sync.WaitGroup

	mu  sync.Mutex // guards run
	run *Run
}

// choose picks the next request: a duplicate of an earlier one (a share
// Options.Dup of them) or a new one from gen, recorded in the run.
func (sn *sending) choose(gen *generator) (idx int, dup bool, err error) {
	run := sn.run
	if len(run.Sent) > 0 && gen.rnd.Float64() < run.Options.Dup {
		idx = gen.pickDup(len(run.Sent))
		sn.mu.Lock()
		run.Sent[idx].Copies++
		sn.mu.Unlock()
		return idx, true, nil
	}
	req, group, err := gen.next()
	if err != nil {
		return 0, false, err
	}
	sn.mu.Lock()
	run.Sent = append(run.Sent, &Sent{Request: req, GroupID: group, SentAt: time.Now(), Copies: 1}) // wallclock: send time, for latency
	idx = len(run.Sent) - 1
	sn.mu.Unlock()
	return idx, false, nil
}

// start sends request idx once a slot is free, in the background; it
// fails only when the context ends first.
func (sn *sending) start(idx int, dup bool) error {
	select {
	case sn.slots <- struct{}{}:
	case <-sn.ctx.Done():
		return sn.ctx.Err()
	}
	sn.wg.Add(1)
	go sn.send(idx, dup)
	return nil
}

// send sends one copy of request idx and records the attempt.
func (sn *sending) send(idx int, dup bool) {
	defer sn.wg.Done()
	defer func() { <-sn.slots }()
	sn.mu.Lock()
	req := sn.run.Sent[idx].Request
	sn.mu.Unlock()
	at := time.Since(sn.run.Began) // wallclock: send time, for the trace
	res, _ := sn.sender.Send(sn.ctx, req)
	sn.mu.Lock()
	sn.run.Attempts = append(sn.run.Attempts, Attempt{Index: idx, Dup: dup, Result: res, At: at})
	if res.Accepted {
		sn.run.Sent[idx].Accepted = true
	}
	sn.mu.Unlock()
}
