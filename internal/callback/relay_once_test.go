package callback_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/wechat"
)

// A relay id is recorded once, whatever else a later body with that id
// says; a body whose time is far from the callback's clock is refused
// before anything is written.
func TestRelayIDRecordedOnce(t *testing.T) {
	a := newAttackStack(t)
	now := a.clk.Now()
	send := func(id string, at time.Time, group string) (int, string) {
		t.Helper()
		r, err := a.b.Relay(a.relay, wechat.RelayEvent{ID: id, Type: wechat.RelayMessage, GroupID: group,
			MemberID: "wxid_a", Kind: "text", Text: "投票 1", Time: at.Unix()}, now)
		if err != nil {
			t.Fatal(err)
		}
		return a.post(r)
	}
	msgs := func() []string {
		keys, _ := a.snapshot()
		var out []string
		for _, k := range keys {
			if bytes.Contains([]byte(k), []byte(" MSG#")) {
				out = append(out, k)
			}
		}
		return out
	}

	// The same id, with its time moved by a second and by a minute, and
	// naming another group: one record, the first delivery's.
	for i, c := range []struct {
		at    time.Time
		group string
	}{
		{now, "g1"},
		{now.Add(time.Second), "g1"},
		{now.Add(-time.Minute), "g1"},
		{now.Add(2 * time.Minute), "g2"},
	} {
		if status, body := send("bridge-1", c.at, c.group); status != 200 {
			t.Fatalf("delivery %d (time %s, group %s): %d %q", i, c.at, c.group, status, body)
		}
	}
	// The id again, as another type of event: not a second record either.
	join, err := a.b.Relay(a.relay, wechat.RelayEvent{ID: "bridge-1", Type: wechat.RelayMemberJoined, GroupID: "g1",
		MemberID: "wxid_b", Time: now.Unix()}, now)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := a.post(join); status != 200 {
		t.Fatalf("the id as a join: %d %q", status, body)
	}
	keys, _ := a.snapshot()
	for _, k := range keys {
		if bytes.Contains([]byte(k), []byte(" EVT#")) || bytes.Contains([]byte(k), []byte("MEMBER#")) {
			t.Errorf("the id as a join was recorded: %s", k)
		}
	}
	if got := msgs(); len(got) != 1 {
		t.Fatalf("relay id bridge-1 recorded %d times: %q", len(got), got)
	}

	// Near midnight both sides of the date line are inside the window: the
	// same id on each side is still one record.
	a.clk.Set(time.Date(2026, 11, 22, 23, 59, 30, 0, time.UTC))
	now = a.clk.Now()
	for _, at := range []time.Time{now, now.Add(time.Minute)} {
		if status, body := send("bridge-2", at, "g1"); status != 200 {
			t.Fatalf("bridge-2 at %s: %d %q", at, status, body)
		}
	}
	if got := msgs(); len(got) != 2 {
		t.Fatalf("want 2 messages (bridge-1, bridge-2), got %q", got)
	}

	// time bounded to ±10 min of the callback's clock: 400, nothing written.
	_, digest := a.snapshot()
	for _, at := range []time.Time{now.Add(-11 * time.Minute), now.Add(11 * time.Minute), time.Unix(1, 0)} {
		if status, body := send("bridge-late", at, "g1"); status != 400 {
			t.Errorf("time %s: %d %q, want 400", at, status, body)
		}
	}
	if _, d := a.snapshot(); d != digest {
		t.Fatal("a refused relay body wrote to the table")
	}
}
