package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
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
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Schedules: []eventbus.Schedule{
		{Function: "ScoringFunction", Expression: "cron(0 2 * * ? *)", Timezone: "Asia/Shanghai", Input: input},
		{Function: "SessionFunction", Expression: "cron(30 1 ? * MON *)", Timezone: "Asia/Shanghai", Input: input},
	}})
	// The loop wakes three days late: every missed time fires once, in order.
	clk.Set(start.Add(72 * time.Hour))
	if n := b.RunDue(context.Background()); n != 4 {
		t.Fatalf("fired %d, want 4", n)
	}
	want := []string{
		"SessionFunction@2026-11-22T17:30:00Z", // Monday 23 Nov 01:30 Shanghai
		"ScoringFunction@2026-11-22T18:00:00Z", // 23 Nov 02:00 Shanghai
		"ScoringFunction@2026-11-23T18:00:00Z",
		"ScoringFunction@2026-11-24T18:00:00Z",
	}
	if got := scheduledTimes(t, inv.Calls()); !equal(got, want) {
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
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: clk, Schedules: []eventbus.Schedule{
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
