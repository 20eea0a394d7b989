// Package eventbus is the local stack's EventBridge: an event bus that
// speaks the PutEvents wire protocol (so functions reach it by setting
// AWS_ENDPOINT_URL_EVENTBRIDGE) and routes events to functions by their rules'
// event patterns, and an EventBridge Scheduler that invokes functions at their
// schedule expressions' times on an injected (possibly fast) clock.
//
// Wiring, for the local stack:
//
//	b, err := eventbus.New(eventbus.Config{
//		Invoker:   invoker,   // runs a function with a payload
//		Clock:     clk,       // the stack's clock; scaled clocks are fine
//		Rules:     rules,     // from template.yaml EventBridgeRule events
//		Schedules: schedules, // from template.yaml ScheduleV2 events
//	})
//	mux.Handle("/_local/bus", b.DeliveriesHandler())
//	mux.Handle("/", b)             // PutEvents (JSON 1.1, X-Amz-Target)
//	go b.Run(ctx)                  // the scheduler loop
//	...
//	srv.Shutdown(ctx); b.Wait()    // let in-flight deliveries finish
//
// Differences from AWS, on purpose: rule deliveries run at once in their own
// goroutine and are not retried (a failure is logged and recorded); a
// schedule's fires start in time order, at most Config.Overlap of one
// schedule at once (AWS sets no such bound), and catch up on every missed
// time when the loop wakes late; input
// transformers, dead-letter queues, archives and event size limits are not
// emulated. PutEvents to a bus no rule names fails that entry, to surface
// typos.
//
// It must not know what the functions do or how they are run: that is the
// Invoker's job. It reads no files and no environment; the caller passes the
// rules and schedules it read from template.yaml.
package eventbus

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qunyun/qunyun/internal/eventpattern"
)

// Invoker runs a function with a payload, as Lambda's Invoke would.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) error
}

// Clock tells the (possibly virtual) time.
type Clock interface {
	Now() time.Time
}

// Rule routes events on a bus that match Pattern to Function.
type Rule struct {
	Function     string
	EventBusName string // "" means "default"
	Pattern      []byte // an EventBridge event pattern (JSON)
}

// Schedule invokes Function at the times of Expression, a rate(...) or
// cron(...) schedule expression, evaluated in Timezone (IANA; "" means UTC).
// Input is the payload ("" means "{}"), with the scheduler's context
// attributes such as <aws.scheduler.scheduled-time> substituted.
type Schedule struct {
	Name       string // for the schedule ARN; "" means Function
	Function   string
	Expression string
	Timezone   string
	Input      string
}

// Config configures a Bus. Invoker and Clock are required.
type Config struct {
	Invoker   Invoker
	Clock     Clock
	Rules     []Rule
	Schedules []Schedule

	Account       string        // "" means 123456789012
	Region        string        // "" means us-east-1
	MaxDeliveries int           // how many deliveries Deliveries keeps; 0 means 200
	Poll          time.Duration // longest real wait of the scheduler loop; 0 means 200ms
	Logger        *slog.Logger  // nil means slog.Default()
	NewID         func() string // event and execution ids; nil means random UUIDs
	// Overlap is how many invocations of one schedule may run at once; 0
	// means 2. Scheduler invokes its targets asynchronously, so in AWS a
	// tick may start before the previous one has finished; the functions
	// must allow it. Different schedules never wait for each other.
	Overlap int
	// Serial runs one invocation at a time, in an order that does not
	// depend on the machine: the schedules due fire one after another
	// (earliest time first, then in Schedules' order), none while a rule
	// delivery is in flight, and rule deliveries run one at a time in the
	// order their events were put. Nothing in AWS does this; a
	// discrete-event driver on a stepped clock (qunyun simulate) needs it
	// so that the same inputs give the same outcome.
	Serial bool
}

// Delivery records one invocation made by the bus or the scheduler.
type Delivery struct {
	Kind          string          `json:"kind"` // "rule" or "schedule"
	Function      string          `json:"function"`
	ID            string          `json:"id"` // event id, or scheduler execution id
	EventBusName  string          `json:"eventBusName,omitempty"`
	Source        string          `json:"source,omitempty"`
	DetailType    string          `json:"detailType,omitempty"`
	Schedule      string          `json:"schedule,omitempty"`
	ScheduledTime time.Time       `json:"scheduledTime,omitzero"`
	At            time.Time       `json:"at"` // clock time of the invocation
	Payload       json.RawMessage `json:"payload"`
	Error         string          `json:"error,omitempty"`
}

// Bus is the local EventBridge. Its methods are safe for concurrent use.
type Bus struct {
	invoker Invoker
	clock   Clock
	account string
	region  string
	poll    time.Duration
	log     *slog.Logger
	newID   func() string

	rules []compiledRule
	buses map[string]bool

	schedMu   sync.Mutex // guards the schedules, so each time fires once
	schedules []*schedule
	overlap   int
	wake      chan struct{} // an invocation finished, or the hold moved
	hold      time.Time     // see HoldAfter; zero: none

	inflight sync.WaitGroup
	ruleRuns atomic.Int64 // rule deliveries in flight

	serial     bool
	queueMu    sync.Mutex
	queue      []queued // Serial: rule deliveries not started, in order
	delivering bool     // Serial: a queued delivery is running

	mu         sync.Mutex
	deliveries []Delivery
	max        int
}

type compiledRule struct {
	Rule
	pattern *eventpattern.Pattern
}

// New checks the rules and schedules and returns a Bus. Schedules start
// counting from the clock's time now: a rate fires first at once (as
// Scheduler does without a StartDate), a cron at its first time at or after
// now. Nothing fires until RunDue or Run is called.
func New(cfg Config) (*Bus, error) {
	if cfg.Invoker == nil || cfg.Clock == nil {
		return nil, fmt.Errorf("eventbus: Invoker and Clock are required")
	}
	b := &Bus{
		invoker: cfg.Invoker,
		clock:   cfg.Clock,
		account: cmp(cfg.Account, "123456789012"),
		region:  cmp(cfg.Region, "us-east-1"),
		poll:    cfg.Poll,
		log:     cfg.Logger,
		newID:   cfg.NewID,
		buses:   map[string]bool{"default": true},
		max:     cfg.MaxDeliveries,
		overlap: cfg.Overlap,
		serial:  cfg.Serial,
		wake:    make(chan struct{}, 1),
	}
	if b.overlap <= 0 {
		b.overlap = 2
	}
	if b.poll <= 0 {
		b.poll = 200 * time.Millisecond
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.newID == nil {
		b.newID = newUUID
	}
	if b.max <= 0 {
		b.max = 200
	}
	for i, r := range cfg.Rules {
		p, err := eventpattern.Compile(r.Pattern)
		if err != nil {
			return nil, fmt.Errorf("eventbus: rule %d (function %s): %w", i, r.Function, err)
		}
		r.EventBusName = cmp(r.EventBusName, "default")
		b.rules = append(b.rules, compiledRule{Rule: r, pattern: p})
		b.buses[r.EventBusName] = true
	}
	start := b.clock.Now()
	for i, s := range cfg.Schedules {
		sc, err := newSchedule(s, start, b.region, b.account)
		if err != nil {
			return nil, fmt.Errorf("eventbus: schedule %d (function %s): %w", i, s.Function, err)
		}
		b.schedules = append(b.schedules, sc)
	}
	return b, nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Deliveries returns the most recent deliveries, oldest first.
func (b *Bus) Deliveries() []Delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Delivery(nil), b.deliveries...)
}

// DeliveriesHandler serves Deliveries as JSON, for the developer endpoint
// /_local/bus.
func (b *Bus) DeliveriesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(map[string]any{"deliveries": b.Deliveries()}); err != nil {
			b.log.WarnContext(r.Context(), "eventbus: write deliveries", "err", err)
		}
	})
}

// Wait blocks until the rule deliveries and scheduled invocations in
// flight have finished. At shutdown, call it after the HTTP server has
// stopped taking requests and Run's context is done.
func (b *Bus) Wait() {
	// A dispatch that saw Run's context still live has counted what it
	// started by the time the lock is free.
	b.schedMu.Lock()
	b.schedMu.Unlock() //nolint:staticcheck // an empty critical section on purpose
	b.inflight.Wait()
}

// queued is a rule delivery waiting its turn (Config.Serial).
type queued struct {
	ctx     context.Context
	d       Delivery
	payload []byte
}

// deliver runs a rule delivery in the background at once; in Serial mode
// it queues it for RunDue, which runs it once nothing else runs (the
// invocation that put the event included). ruleRuns counts it until done.
func (b *Bus) deliver(ctx context.Context, d Delivery, payload []byte) {
	b.ruleRuns.Add(1)
	if b.serial {
		b.queueMu.Lock()
		b.queue = append(b.queue, queued{ctx, d, payload})
		b.queueMu.Unlock()
		b.signal()
		return
	}
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		b.invoke(ctx, d, payload)
		b.ruleRuns.Add(-1)
		b.signal()
	}()
}

// startQueued starts the first queued delivery (Serial) and reports
// whether there was one; the caller makes sure nothing else runs.
func (b *Bus) startQueued() bool {
	b.queueMu.Lock()
	defer b.queueMu.Unlock()
	if len(b.queue) == 0 {
		return false
	}
	q := b.queue[0]
	b.queue = b.queue[1:]
	b.delivering = true
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		b.invoke(q.ctx, q.d, q.payload)
		b.queueMu.Lock()
		b.delivering = false
		b.queueMu.Unlock()
		b.ruleRuns.Add(-1)
		b.signal()
	}()
	return true
}

// invoke runs one delivery and records it.
func (b *Bus) invoke(ctx context.Context, d Delivery, payload []byte) {
	d.At = b.clock.Now()
	d.Payload = asJSON(payload)
	began := time.Now() // wallclock: invocation duration, for the log
	if err := b.invoker.Invoke(ctx, d.Function, payload); err != nil {
		d.Error = err.Error()
		b.log.ErrorContext(ctx, "eventbus: invoke failed", "kind", d.Kind, "function", d.Function, "id", d.ID, "err", err)
	} else {
		attrs := []any{"kind", d.Kind, "function", d.Function, "id", d.ID}
		if !d.ScheduledTime.IsZero() { // only schedules have one
			attrs = append(attrs, "scheduledTime", d.ScheduledTime)
		}
		b.log.InfoContext(ctx, "eventbus: invoked", append(attrs, "at", d.At, "ms", time.Since(began).Milliseconds())...)
	}
	b.mu.Lock()
	b.deliveries = append(b.deliveries, d)
	if over := len(b.deliveries) - b.max; over > 0 {
		b.deliveries = append([]Delivery(nil), b.deliveries[over:]...)
	}
	b.mu.Unlock()
}

// asJSON keeps a JSON payload as is and quotes anything else, so the
// deliveries list stays valid JSON.
func asJSON(payload []byte) json.RawMessage {
	if json.Valid(payload) {
		return append(json.RawMessage(nil), payload...)
	}
	q, _ := json.Marshal(string(payload)) // marshalling a string cannot fail
	return q
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
