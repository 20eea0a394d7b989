package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestPlan(t *testing.T) {
	tb, targs := tableArgs(t)
	if _, _, err := run(t, "", append([]string{"apply", "-f", demoFile}, targs...)...); err != nil {
		t.Fatal(err)
	}
	// Monday 2026-11-23 16:00 in Shanghai: "next" is the week of the
	// demo's manual founder session (Wednesday 2026-12-02).
	t.Setenv("QUNYUN_CLOCK_START", "2026-11-23T08:00:00Z")
	ctx := context.Background()
	week := time.Date(2026, 11, 30, 0, 0, 0, 0, qunyun.LoadLocation(""))

	out, _, err := run(t, "", append([]string{"plan", "--week", "2026-12-02", "--json"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "null") {
		t.Errorf("a list printed as null:\n%s", out)
	}
	var p planOutput
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if p.Week != "2026-11-30" || p.Applied || len(p.Sessions) == 0 {
		t.Fatalf("preview: %+v", p)
	}
	var founder *hostLoadOut
	for i, h := range p.Hosts {
		if h.HostID == "h-founder" {
			founder = &p.Hosts[i]
		}
		if h.Booked+h.Planned > h.Limit {
			t.Errorf("host over their limit: %+v", h)
		}
	}
	if founder == nil || founder.Booked != 1 || founder.Planned != 0 || founder.Limit != 1 || founder.Name != "林小满（创始人）" {
		t.Fatalf("founder's load (one manual session, limit 1): %+v", founder)
	}
	if ss, _ := (dynamo.Sessions{Table: tb}).SessionsStarting(ctx, week, week.AddDate(0, 0, 7)); len(ss) != 1 {
		t.Fatalf("the preview wrote sessions: %d in the week", len(ss))
	}

	// The table view says the same.
	text, _, err := run(t, "", append([]string{"plan"}, targs...)...)
	t.Log(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"week of 2026-11-30: the plan would add", "host load:", "h-founder", "1/1", p.Sessions[0].ID} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}

	// --apply books it and marks the week; planning again adds nothing.
	if _, _, err := run(t, "", append([]string{"plan", "--apply"}, targs...)...); err != nil {
		t.Fatal(err)
	}
	ss, err := dynamo.Sessions{Table: tb}.SessionsStarting(ctx, week, week.AddDate(0, 0, 7))
	if err != nil || len(ss) != 1+len(p.Sessions) {
		t.Fatalf("after --apply: %d sessions, want %d (%v)", len(ss), 1+len(p.Sessions), err)
	}
	if done, err := (dynamo.Sessions{Table: tb}).WeekPlanned(ctx, week); err != nil || !done {
		t.Fatalf("week not marked planned: %v %v", done, err)
	}
	out, _, err = run(t, "", append([]string{"plan", "--json"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || len(p.Sessions) != 0 {
		t.Fatalf("a second plan adds %d sessions (%v)", len(p.Sessions), err)
	}

	if _, _, err := run(t, "", append([]string{"plan", "--week", "someday"}, targs...)...); err == nil || !strings.Contains(err.Error(), `expected "this", "next" or a date`) {
		t.Fatalf("bad --week: %v", err)
	}
}
