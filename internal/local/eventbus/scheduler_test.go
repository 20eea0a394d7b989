package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/local/eventbus"
)

func mustShanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// scheduledTimes returns the scheduledTime field of each call's JSON payload.
func scheduledTimes(t *testing.T, calls []call) []string {
	t.Helper()
	var out []string
	for _, c := range calls {
		var p struct{ ScheduledTime string }
		if err := json.Unmarshal([]byte(c.Payload), &p); err != nil {
			t.Fatalf("payload %q: %v", c.Payload, err)
		}
		out = append(out, c.Function+"@"+p.ScheduledTime)
	}
	return out
}

// byFunction orders "Function@time" strings by function, keeping the
// order of each function's own.
func byFunction(fired []string) []string {
	out := append([]string(nil), fired...)
	slices.SortStableFunc(out, func(a, b string) int {
		fa, _, _ := strings.Cut(a, "@")
		fb, _, _ := strings.Cut(b, "@")
		return strings.Compare(fa, fb)
	})
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestScheduleFiresAtItsMinuteInShanghai(t *testing.T) {
	sh := mustShanghai(t)
	clk := &fakeClock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, sh)} // Sunday noon
	inv := &fakeInvoker{}
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Schedules: []eventbus.Schedule{{
		Name:       "MorningPush",
		Function:   "PushFunction",
		Expression: "cron(0 8 ? * MON-FRI *)",
		Timezone:   "Asia/Shanghai",
		Input:      `{"scheduledTime":"<aws.scheduler.scheduled-time>","executionId":"<aws.scheduler.execution-id>","attempt":"<aws.scheduler.attempt-number>","arn":"<aws.scheduler.schedule-arn>"}`,
	}}})
	ctx := context.Background()

	if next, ok := b.NextFire(); !ok || !next.Equal(time.Date(2026, 11, 23, 8, 0, 0, 0, sh)) {
		t.Fatalf("NextFire = %v %v, want Monday 08:00 Shanghai", next, ok)
	}
	clk.Set(time.Date(2026, 11, 23, 7, 59, 59, 0, sh))
	if n := b.RunDue(ctx); n != 0 {
		t.Fatalf("at 07:59:59 fired %d, want 0", n)
	}
	clk.Set(time.Date(2026, 11, 23, 8, 0, 0, 0, sh))
	if n := b.RunDue(ctx); n != 1 {
		t.Fatalf("at 08:00:00 fired %d, want 1", n)
	}
	clk.Set(time.Date(2026, 11, 23, 8, 0, 40, 0, sh))
	if n := b.RunDue(ctx); n != 0 {
		t.Fatalf("08:00 fired again (%d): each time fires once", n)
	}

	calls := inv.Calls()
	var p map[string]string
	if err := json.Unmarshal([]byte(calls[0].Payload), &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"scheduledTime": "2026-11-23T00:00:00Z", // 08:00 in Shanghai, in UTC as Scheduler sends it
		"executionId":   "id-1",
		"attempt":       "1",
		"arn":           "arn:aws:scheduler:us-east-1:123456789012:schedule/default/MorningPush",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q (payload %s)", k, p[k], v, calls[0].Payload)
		}
	}
	d := b.Deliveries()
	if len(d) != 1 || d[0].Kind != "schedule" || d[0].Schedule != "MorningPush" || d[0].ID != "id-1" ||
		!d[0].ScheduledTime.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("deliveries %+v", d)
	}
}

func TestScheduleCatchesUpInOrderWhenLate(t *testing.T) {
	sh := mustShanghai(t)
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, sh)
	clk := &fakeClock{now: start}
	inv := &fakeInvoker{}
	input := `{"scheduledTime":"<aws.scheduler.scheduled-time>"}`
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Overlap: 1, Schedules: []eventbus.Schedule{
		{Function: "ScoringFunction", Expression: "cron(0 2 * * ? *)", Timezone: "Asia/Shanghai", Input: input},
		{Function: "SessionFunction", Expression: "cron(30 1 ? * MON *)", Timezone: "Asia/Shanghai", Input: input},
	}})
	// The loop wakes three days late: every missed time fires once, each
	// schedule's in order (the two schedules run side by side).
	clk.Set(start.Add(72 * time.Hour))
	if n := b.RunDue(context.Background()); n != 4 {
		t.Fatalf("fired %d, want 4", n)
	}
	want := []string{
		"ScoringFunction@2026-11-22T18:00:00Z", // 23 Nov 02:00 Shanghai
		"ScoringFunction@2026-11-23T18:00:00Z",
		"ScoringFunction@2026-11-24T18:00:00Z",
		"SessionFunction@2026-11-22T17:30:00Z", // Monday 23 Nov 01:30 Shanghai
	}
	if got := byFunction(scheduledTimes(t, inv.Calls())); !equal(got, want) {
		t.Errorf("fired\n %v\nwant\n %v", got, want)
	}
	if n := b.RunDue(context.Background()); n != 0 {
		t.Errorf("second RunDue fired %d, want 0", n)
	}
}

func TestScheduleRate(t *testing.T) {
	start := time.Date(2026, 11, 22, 3, 21, 30, 0, time.UTC)
	clk := &fakeClock{now: start}
	inv := &fakeInvoker{}
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Overlap: 1, Schedules: []eventbus.Schedule{
		{Function: "PushFunction", Expression: "rate(5 minutes)", Input: `{"scheduledTime":"<aws.scheduler.scheduled-time>"}`},
	}})
	ctx := context.Background()
	if n := b.RunDue(ctx); n != 1 {
		t.Fatalf("at start fired %d, want 1 (a rate starts at once)", n)
	}
	clk.Set(start.Add(12 * time.Minute))
	if n := b.RunDue(ctx); n != 2 {
		t.Fatalf("12 minutes later fired %d, want 2", n)
	}
	want := []string{"PushFunction@2026-11-22T03:21:30Z", "PushFunction@2026-11-22T03:26:30Z", "PushFunction@2026-11-22T03:31:30Z"}
	if got := scheduledTimes(t, inv.Calls()); !equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
}

func TestScheduleDefaultsAndFailures(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC)}
	inv := &fakeInvoker{fail: map[string]bool{"ScoringFunction": true}}
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Schedules: []eventbus.Schedule{
		{Function: "ScoringFunction", Expression: "cron(0 0 * * ? *)"}, // UTC, no input
	}})
	clk.Set(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	if n := b.RunDue(context.Background()); n != 1 {
		t.Fatalf("fired %d, want 1", n)
	}
	if c := inv.Calls(); c[0].Payload != "{}" {
		t.Errorf("payload %q, want {} when Input is empty", c[0].Payload)
	}
	d := b.Deliveries()
	if d[0].Error != "function crashed" || d[0].Schedule != "ScoringFunction" {
		t.Errorf("delivery %+v, want the failure recorded under the function's name", d[0])
	}
	// A failed fire is not repeated: the scheduler does not retry locally.
	if n := b.RunDue(context.Background()); n != 0 {
		t.Errorf("refired %d", n)
	}
}

func TestRunLoop(t *testing.T) {
	start := time.Date(2026, 11, 22, 23, 59, 30, 0, time.UTC)
	clk := &fakeClock{now: start}
	inv := &fakeInvoker{seen: make(chan call, 10)}
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Poll: 5 * time.Millisecond, Schedules: []eventbus.Schedule{
		{Function: "PushFunction", Expression: "cron(* * * * ? *)", Input: `{"scheduledTime":"<aws.scheduler.scheduled-time>"}`},
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	select {
	case c := <-inv.seen:
		t.Fatalf("fired %v before the clock reached the next minute", c)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Set(start.Add(30 * time.Second))
	select {
	case c := <-inv.seen:
		if c.Payload != `{"scheduledTime":"2026-11-23T00:00:00Z"}` {
			t.Errorf("payload %s", c.Payload)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not fire after the clock moved")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// blockingInvoker holds every invocation until released, so a test can see
// what runs at the same time.
type blockingInvoker struct {
	mu      sync.Mutex
	running map[string]int // function → invocations in flight
	most    map[string]int // the most in flight at once
	times   map[string]int // scheduled time → how often it fired
	started chan string
	release chan struct{}
}

func newBlockingInvoker() *blockingInvoker {
	return &blockingInvoker{running: map[string]int{}, most: map[string]int{}, times: map[string]int{},
		started: make(chan string, 100), release: make(chan struct{})}
}

func (f *blockingInvoker) Invoke(ctx context.Context, function string, payload []byte) error {
	f.mu.Lock()
	f.running[function]++
	f.most[function] = max(f.most[function], f.running[function])
	f.times[function+" "+string(payload)]++
	f.mu.Unlock()
	f.started <- function
	select {
	case <-f.release:
	case <-ctx.Done():
	}
	f.mu.Lock()
	f.running[function]--
	f.mu.Unlock()
	return nil
}

// A slow tick holds up neither another function's schedule nor more than
// Overlap of its own; once it returns, the missed times fire, each once.
func TestSchedulesRunSideBySideAndOverlapIsBounded(t *testing.T) {
	start := time.Date(2026, 11, 22, 3, 0, 30, 0, time.UTC)
	clk := &fakeClock{now: start}
	inv := newBlockingInvoker()
	input := `{"scheduledTime":"<aws.scheduler.scheduled-time>"}`
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Poll: 5 * time.Millisecond, Schedules: []eventbus.Schedule{
		{Function: "PushFunction", Expression: "cron(* * * * ? *)", Input: input},
		{Function: "SessionFunction", Expression: "cron(* * * * ? *)", Input: input},
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		b.Wait()
	}()

	clk.Set(start.Add(5 * time.Minute)) // five minutes due for each schedule
	seen := map[string]int{}
	for range 4 { // two of each start although none has finished
		select {
		case f := <-inv.started:
			seen[f]++
		case <-time.After(5 * time.Second):
			t.Fatalf("only %v started: one schedule waits for the other", seen)
		}
	}
	if seen["PushFunction"] != 2 || seen["SessionFunction"] != 2 {
		t.Fatalf("started %v, want 2 of each (Overlap 2)", seen)
	}
	select {
	case f := <-inv.started:
		t.Fatalf("a third %s started while two were running", f)
	case <-time.After(50 * time.Millisecond):
	}
	if next, _ := b.Unfinished(); !next.Equal(time.Date(2026, 11, 22, 3, 1, 0, 0, time.UTC)) {
		t.Errorf("Unfinished = %v, want the oldest running time 03:01", next)
	}
	// Let everything run: the remaining six start as room frees up.
	go func() {
		for {
			select {
			case inv.release <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	deadline := time.After(5 * time.Second)
	for n := 4; n < 10; n++ {
		select {
		case <-inv.started:
		case <-deadline:
			t.Fatalf("%d of 10 fired", n)
		}
	}
	for wait := time.Now(); b.Busy() && time.Since(wait) < 5*time.Second; { // wallclock: a bound on waiting, not an assertion
		time.Sleep(time.Millisecond)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for k, n := range inv.times {
		if n != 1 {
			t.Errorf("%s fired %d times, want once", k, n)
		}
	}
	if len(inv.times) != 10 {
		t.Errorf("%d distinct times fired, want 10", len(inv.times))
	}
	if inv.most["PushFunction"] > 2 || inv.most["SessionFunction"] > 2 {
		t.Errorf("most in flight %v, want at most 2 each", inv.most)
	}
	if next, _ := b.Unfinished(); !next.Equal(time.Date(2026, 11, 22, 3, 6, 0, 0, time.UTC)) {
		t.Errorf("Unfinished = %v, want 03:06 once all is done", next)
	}
}

// A hold keeps the times after it, and every time while a rule delivery
// is in flight, from starting; Settled says when a driver may go on.
func TestHoldAfter(t *testing.T) {
	start := time.Date(2026, 11, 22, 3, 0, 30, 0, time.UTC)
	clk := &fakeClock{now: start}
	inv := newBlockingInvoker()
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Overlap: 1, Rules: []eventbus.Rule{
		{Function: "PushFunction", Pattern: []byte(`{"source":["qunyun"]}`)},
	}, Schedules: []eventbus.Schedule{
		{Function: "SessionFunction", Expression: "cron(* * * * ? *)", Input: `{"scheduledTime":"<aws.scheduler.scheduled-time>"}`},
	}})
	stop := make(chan struct{})
	defer close(stop)
	go func() { // release every invocation
		for {
			select {
			case inv.release <- struct{}{}:
			case <-stop:
				return
			}
		}
	}()
	minute := func(m int) time.Time { return time.Date(2026, 11, 22, 3, m, 0, 0, time.UTC) }
	b.HoldAfter(minute(2))
	clk.Set(start.Add(5 * time.Minute))
	if n := b.RunDue(context.Background()); n != 2 {
		t.Fatalf("fired %d with a hold at 03:02, want 2 (03:01, 03:02)", n)
	}
	if !b.Settled(minute(2)) || b.Settled(minute(3)) {
		t.Fatalf("Settled(03:02)=%v Settled(03:03)=%v, want true, false", b.Settled(minute(2)), b.Settled(minute(3)))
	}
	// A rule delivery in flight holds every time back.
	hold := make(chan struct{})
	stuck := &holdingInvoker{release: hold}
	clk.Set(start)
	b2 := newBus(t, eventbus.Config{Invoker: stuck, Clock: clk, Rules: []eventbus.Rule{
		{Function: "PushFunction", Pattern: []byte(`{"source":["qunyun"]}`)},
	}, Schedules: []eventbus.Schedule{
		{Function: "SessionFunction", Expression: "cron(* * * * ? *)"},
	}})
	b2.HoldAfter(minute(10))
	b2.PutEvents(context.Background(), []eventbus.Entry{{Source: "qunyun", DetailType: "MemberJoined", Detail: `{"id":"x"}`}})
	clk.Set(start.Add(2 * time.Minute))
	if n := b2.RunDue(context.Background()); n != 0 || b2.Settled(minute(1)) {
		t.Fatalf("fired %d while a rule delivery was in flight, want 0 and not settled", n)
	}
	close(hold)
	b2.Wait()
	if n := b2.RunDue(context.Background()); n != 2 {
		t.Fatalf("fired %d once the delivery finished, want 2", n)
	}
	clk.Set(start.Add(5 * time.Minute))
	b.HoldAfter(time.Time{})
	if n := b.RunDue(context.Background()); n != 3 {
		t.Fatalf("fired %d once the hold was lifted, want 3", n)
	}
}

// holdingInvoker holds rule deliveries (PushFunction) until release closes.
type holdingInvoker struct{ release chan struct{} }

func (h *holdingInvoker) Invoke(ctx context.Context, function string, _ []byte) error {
	if function == "PushFunction" {
		<-h.release
	}
	return nil
}

// serialInvoker records the order of invocations and whether two ever ran
// at once; a PushFunction invocation puts two events of its own, as a
// push tick asking for deliveries does.
type serialInvoker struct {
	bus     *eventbus.Bus
	mu      sync.Mutex
	running int
	overlap bool
	order   []string
}

func (s *serialInvoker) Invoke(ctx context.Context, function string, payload []byte) error {
	s.mu.Lock()
	s.running++
	s.overlap = s.overlap || s.running > 1
	s.order = append(s.order, function)
	s.mu.Unlock()
	if function == "PushFunction" && strings.Contains(string(payload), "tick") {
		s.bus.PutEvents(ctx, []eventbus.Entry{
			{Source: "qunyun", DetailType: "MemberJoined", Detail: `{"id":"a"}`},
			{Source: "qunyun", DetailType: "DeliveryRequested", Detail: `{"id":"b"}`},
		})
	}
	time.Sleep(2 * time.Millisecond) // room for a second invocation to start, were it allowed
	s.mu.Lock()
	s.running--
	s.mu.Unlock()
	return nil
}

func TestSerialRunsOneInvocationAtATimeInOrder(t *testing.T) {
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: start}
	inv := &serialInvoker{}
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Rules: rules, Serial: true, Schedules: []eventbus.Schedule{
		{Name: "push", Function: "PushFunction", Expression: "cron(* * * * ? *)", Input: `{"kind":"tick"}`},
		{Name: "session", Function: "SessionFunction", Expression: "cron(* * * * ? *)", Input: `{"kind":"tick"}`},
	}})
	inv.bus = b
	clk.Set(start.Add(2 * time.Minute))
	if n := b.RunDue(context.Background()); n != 6 {
		t.Fatalf("fired %d, want 6 (two schedules, three minutes)", n)
	}
	if !b.Settled(clk.Now()) {
		t.Fatal("RunDue returned before the deliveries its invocations set off finished")
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.overlap {
		t.Error("two invocations ran at once")
	}
	// Each minute: push's tick, its two deliveries in the order put, then
	// the session tick.
	minute := []string{"PushFunction", "SessionFunction", "PushFunction", "SessionFunction"}
	var want []string
	for range 3 {
		want = append(want, minute...)
	}
	if !equal(inv.order, want) {
		t.Errorf("order %v, want %v", inv.order, want)
	}
}
