package community_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/community"
)

// A plan slot inside the quiet hours of a group it selects is warned
// about, in each group's own quiet hours; slots outside them, paused
// plans, plans that have ended and groups the plan does not select are
// not.
func TestQuietSlots(t *testing.T) {
	const file = `
accounts:
  - {id: wc, kind: wecom}
defaults:
  caps: {quietStart: "22:00", quietEnd: "08:00"}
groups:
  - {id: g-early, account: wc, purpose: general}
  - {id: g-late, account: wc, purpose: general, caps: {quietStart: "21:30", quietEnd: "09:00"}}
  - {id: g-shelf, account: wc, purpose: shelf}
contents:
  - {id: c1, kind: text, text: 你好}
plans:
  - {id: p-seven, contents: [c1], select: {purposes: [general]}, cron: "0 7 * * ? *"}
  - {id: p-half-eight, contents: [c1], select: {purposes: [general]}, cron: "30 8 ? * MON-FRI *"}
  - {id: p-noon, contents: [c1], cron: "0 12 * * ? *"}
  - {id: p-paused, contents: [c1], cron: "0 23 * * ? *", paused: true}
  - {id: p-ended, contents: [c1], cron: "0 23 * * ? *", end: "2026-11-01T00:00:00+08:00"}
  - {id: p-shelf, contents: [c1], select: {purposes: [shelf]}, cron: "0 20 ? * FRI *"}
  - id: p-journey
    select: {groups: [g-early]}
    journey:
      - {day: 0, content: c1}
      - {day: 1, at: "23:15", content: c1}
`
	c, err := community.Parse("q.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	got := community.QuietSlots(c, time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC))
	want := []string{
		"plan p-seven: its 07:00 slot is inside the quiet hours (22:00–08:00) of g-early: push holds it back until 08:00",
		"plan p-seven: its 07:00 slot is inside the quiet hours (21:30–09:00) of g-late: push holds it back until 09:00",
		"plan p-half-eight: its 08:30 slot is inside the quiet hours (21:30–09:00) of g-late:",
		"plan p-journey: its day 1 23:15 slot is inside the quiet hours (22:00–08:00) of g-early:",
	}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d:\n%s\nwant it to start\n%s", i, got[i], want[i])
		}
	}
}

// The demo community asks for no slot in quiet hours.
func TestDemoHasNoQuietSlots(t *testing.T) {
	c, err := community.Load(filepath.Join("..", "..", "infra", "local", "community.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := community.QuietSlots(c, time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)); len(got) != 0 {
		t.Errorf("demo warnings:\n%s", strings.Join(got, "\n"))
	}
}
