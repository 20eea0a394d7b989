package community_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func mustParse(t *testing.T, yaml string) *community.Community {
	t.Helper()
	c, err := community.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func apply(t *testing.T, tb *dynamo.Table, c *community.Community, prune bool) *community.Diff {
	t.Helper()
	ctx := context.Background()
	d, err := community.Compute(ctx, tb, c, prune)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Apply(ctx, tb, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// applyNow is when the apply tests run: no result depends on today's date.
var applyNow = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func TestApplyDemoTwice(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	c, err := community.Load(filepath.Join("..", "..", "infra", "local", "community.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	first := apply(t, tb, c, false)
	want := len(c.Groups) + len(c.Contents) + len(c.Plans) + len(c.Hosts) + len(c.KeywordRules) +
		len(c.CheckinRules) + len(c.Contests) + len(c.SessionTargets) + len(c.Sessions) + len(c.Staff) + len(c.Members) +
		len(c.Moderation) + len(c.Texts)
	if first.Count(community.Create) != want || len(first.Changes) != want {
		t.Fatalf("first apply: %d creates of %d changes, want %d", first.Count(community.Create), len(first.Changes), want)
	}
	second := apply(t, tb, c, true)
	if !second.Empty() {
		t.Fatalf("second apply changed %v", second.Changes)
	}
	ctx := context.Background()
	groups, err := dynamo.Catalog{Table: tb}.Groups(ctx)
	if err != nil || len(groups) != len(c.Groups) {
		t.Fatalf("groups in table: %d, %v", len(groups), err)
	}
	s, found, err := dynamo.Sessions{Table: tb}.Session(ctx, c.Sessions[0].ID)
	if err != nil || !found || s.State != qunyun.SessionScheduled || !s.Manual {
		t.Fatalf("manual session: %+v found=%v err=%v", s, found, err)
	}
}

const base = `
accounts: [{id: wc, kind: wecom}]
groups:
  - {id: g1, account: wc, purpose: general, name: 一群}
  - {id: g2, account: wc, purpose: vip, tier: vip}
contents:
  - {id: c1, kind: text, text: 你好}
plans:
  - {id: p1, contents: [c1], cron: "cron(0 11 * * ? *)"}
`

func TestApplyKeepsFieldsOthersMaintain(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	apply(t, tb, mustParse(t, base), false)
	// Scoring flags g1 noisy and the callback counts its members.
	if _, err := (dynamo.Catalog{Table: tb}).UpdateGroup(ctx, "g1", func(g *qunyun.Group, _ bool) error {
		g.Noisy, g.MemberCount, g.State = true, 42, qunyun.GroupActive
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if d, err := community.Compute(ctx, tb, mustParse(t, base), false); err != nil || !d.Empty() {
		t.Fatalf("diff after others' writes: %v %v", d.Changes, err)
	}
	changed := `
accounts: [{id: wc, kind: wecom}]
groups:
  - {id: g1, account: wc, purpose: general, name: 一群（新）, paused: true}
  - {id: g2, account: wc, purpose: vip, tier: vip}
contents:
  - {id: c1, kind: text, text: 你好}
plans:
  - {id: p1, contents: [c1], cron: "cron(0 11 * * ? *)"}
`
	d := apply(t, tb, mustParse(t, changed), false)
	if len(d.Changes) != 1 || d.Changes[0].Op != community.Update || d.Changes[0].ID != "g1" {
		t.Fatalf("changes %v, want one update of g1", d.Changes)
	}
	if got := d.Changes[0].Fields; len(got) != 2 || got[0] != "name" || got[1] != "state" {
		t.Errorf("changed fields %v, want [name state]", got)
	}
	if got, want := d.Changes[0].String(), `~ group g1 (name: "一群" → "一群（新）", state: "active" → "paused")`; got != want {
		t.Errorf("diff line\n%s\nwant\n%s", got, want)
	}
	g, _, err := dynamo.Catalog{Table: tb}.Group(ctx, "g1")
	if err != nil || !g.Noisy || g.MemberCount != 42 || g.State != qunyun.GroupPaused || g.Name != "一群（新）" {
		t.Fatalf("g1 after apply: %+v %v", g, err)
	}
}

func TestApplyPrune(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	apply(t, tb, mustParse(t, base), false)
	smaller := `
accounts: [{id: wc, kind: wecom}]
groups:
  - {id: g1, account: wc, purpose: general, name: 一群}
`
	d, err := community.Compute(ctx, tb, mustParse(t, smaller), false)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() || d.Unnamed != 3 {
		t.Fatalf("without prune: changes %v, unnamed %d (want none, 3)", d.Changes, d.Unnamed)
	}
	d = apply(t, tb, mustParse(t, smaller), true)
	if d.Count(community.Delete) != 3 {
		t.Fatalf("prune: %v", d.Changes)
	}
	// Dependants go first: the plan before the content it names.
	if d.Changes[0].Kind != community.KindPlan {
		t.Errorf("first delete is %v, want the plan", d.Changes[0])
	}
	groups, _ := dynamo.Catalog{Table: tb}.Groups(ctx)
	plans, _ := dynamo.Catalog{Table: tb}.Plans(ctx)
	if len(groups) != 1 || len(plans) != 0 {
		t.Fatalf("after prune: %d groups, %d plans", len(groups), len(plans))
	}
}

func TestApplyCancelsManualSession(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	withSession := base + `
hosts: [{id: h1, name: 主持人, availability: [{day: TUE, start: "19:00", end: "22:00"}]}]
sessions:
  manual:
    - {id: s1, group: g2, host: h1, start: "2026-12-01T20:00:00+08:00", minutes: 45%s}
`
	apply(t, tb, mustParse(t, fmt.Sprintf(withSession, "")), false)
	d := apply(t, tb, mustParse(t, fmt.Sprintf(withSession, ", cancelled: true")), false)
	if len(d.Changes) != 1 || d.Changes[0].Kind != community.KindSession {
		t.Fatalf("changes %v", d.Changes)
	}
	s, _, _ := dynamo.Sessions{Table: tb}.Session(ctx, "s1")
	if s.State != qunyun.SessionCancelled {
		t.Fatalf("state %s", s.State)
	}
	if d := apply(t, tb, mustParse(t, fmt.Sprintf(withSession, ", cancelled: true")), false); !d.Empty() {
		t.Fatalf("again: %v", d.Changes)
	}
}

// A manual booking is held to the planner's rules at apply, against the
// file and the table's sessions; a broken one is reported at its line and
// nothing is written. Unchanged bookings are not judged again.
func TestApplyChecksManualBookings(t *testing.T) {
	ctx := context.Background()
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	// A planned session of g2 with h1 already in the table, 20:00–20:45 on Tuesday.
	tue := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if _, err := (dynamo.Sessions{Table: tb}).CreateSession(ctx, qunyun.Session{ID: "w20261130-g2-1", GroupID: "g2", HostID: "h1", Start: tue, End: tue.Add(45 * time.Minute), State: qunyun.SessionScheduled}); err != nil {
		t.Fatal(err)
	}
	file := base + `
hosts:
  - {id: h1, name: 一号, maxPerWeek: 1, availability: [{day: TUE, start: "08:00", end: "23:00"}]}
  - {id: h2, name: 二号, availability: [{day: TUE, start: "09:00", end: "23:00"}]}
  - {id: h3, name: 三号, availability: [{day: TUE, start: "08:00", end: "23:00"}]}
  - {id: h4, name: 四号, groups: [g2], availability: [{day: TUE, start: "08:00", end: "23:00"}]}
sessions:
  manual:
    - {id: wrong-group, group: g1, host: h4, start: "2026-12-01T10:00:00+08:00", minutes: 45}
    - {id: asleep, group: g1, host: h2, start: "2026-12-01T08:00:00+08:00", minutes: 45}
    - {id: long-clash, group: g2, host: h3, start: "2026-12-01T20:30:00+08:00", minutes: 90}
    - {id: quiet, group: g1, host: h2, start: "2026-12-01T21:30:00+08:00", minutes: 45}
    - {id: second, group: g2, host: h1, start: "2026-12-01T15:00:00+08:00", minutes: 30}
`
	_, err := community.Compute(ctx, tb, mustParse(t, file), false)
	var ps community.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want problems, got %v", err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		"test.yaml:18:42: sessions.manual[0].host: session wrong-group: host h4 may not serve group g1 (tier regular); expected a host whose groups or tiers include it",
		"test.yaml:19:48: sessions.manual[1].start: session asleep: host h2 is not available then; expected a time inside their availability",
		"test.yaml:20:52: sessions.manual[2].start: session long-clash: group g2 already has session w20261130-g2-1 then; a group holds one session at a time",
		"test.yaml:20:90: sessions.manual[2].minutes: session long-clash: 90 minutes; expected 30–60 (sessions.minMinutes/maxMinutes widen it)",
		"test.yaml:21:47: sessions.manual[3].start: session quiet: touches group g1's quiet hours, when its announcement would be held back",
		"test.yaml:22:37: sessions.manual[4].host: session second: host h1 would have 2 sessions in the week of 2026-11-30; their limit is 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, found, _ := (dynamo.Sessions{Table: tb}).Session(ctx, "quiet"); found {
		t.Fatal("a session was written despite the problems")
	}

	// Fixed: widened bounds, a free hour, and the rest within the rules.
	fixed := base + `
hosts:
  - {id: h1, name: 一号, groups: [g2], availability: [{day: TUE, start: "08:00", end: "23:00"}]}
sessions:
  maxMinutes: 90
  manual:
    - {id: long, group: g2, host: h1, start: "2026-12-01T18:00:00+08:00", minutes: 90}
`
	apply(t, tb, mustParse(t, fixed), false)

	// An override books what the rules refuse, and says what it breaks.
	late := strings.Replace(fixed, "minutes: 90}", `minutes: 90, override: 主持人同意}`, 1)
	late = strings.Replace(late, "18:00:00+08:00", "23:00:00+08:00", 1)
	d := apply(t, tb, mustParse(t, late), false)
	if len(d.Notes) == 0 || !strings.Contains(strings.Join(d.Notes, "\n"), "session long booked by override (主持人同意)") {
		t.Fatalf("override notes %q", d.Notes)
	}
	if s, _, _ := (dynamo.Sessions{Table: tb}).Session(ctx, "long"); s.Start.Hour() != 15 {
		t.Fatalf("overridden booking not moved: %+v", s)
	}
	apply(t, tb, mustParse(t, fixed), false)
	// The host's window shrinks later: the booked session is history to
	// apply, not a new problem.
	if _, err := community.Compute(ctx, tb, mustParse(t, strings.Replace(fixed, `start: "08:00"`, `start: "19:00"`, 1)), false); err != nil {
		t.Fatalf("an unchanged booking was judged again: %v", err)
	}
}

// A WeCom group WeChat described (push's group sync) keeps WeChat's name
// and owner: the file can neither rename a group nor hand it over, and its
// tasks must go to its real owner. The diff notes where the file differs;
// a group the file gives no name or owner keeps what was learned.
func TestApplyKeepsWhatWeChatSays(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	file := `
accounts: [{id: wc, kind: wecom}]
groups:
  - {id: g1, account: wc, purpose: general, name: 一群, owner: lin}
  - {id: g2, account: wc, purpose: general}
`
	apply(t, tb, mustParse(t, file), false)
	for id, owner := range map[string]string{"g1": "zhou", "g2": "chen"} {
		if _, err := (dynamo.Catalog{Table: tb}).UpdateGroup(ctx, id, func(g *qunyun.Group, _ bool) error {
			g.Name, g.OwnerID, g.SyncedAt = "WeChat 的"+id, owner, applyNow
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	d := apply(t, tb, mustParse(t, file), false)
	if !d.Empty() {
		t.Errorf("apply after a sync changes %v", d.Changes)
	}
	notes := strings.Join(d.Notes, "\n")
	for _, want := range []string{`group g1: WeChat says name "WeChat 的g1" (read 2026-11-22), the file "一群"; WeChat's is kept`,
		`group g1: WeChat says owner "zhou" (read 2026-11-22), the file "lin"; WeChat's is kept`} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes\n%s\nwant\n%s", notes, want)
		}
	}
	if strings.Contains(notes, "g2") {
		t.Errorf("notes about g2, which the file leaves to WeChat:\n%s", notes)
	}
	g, _, _ := dynamo.Catalog{Table: tb}.Group(ctx, "g1")
	if g.OwnerID != "zhou" || g.Name != "WeChat 的g1" || g.SyncedAt.IsZero() {
		t.Errorf("g1 after apply: %+v", g)
	}
}
