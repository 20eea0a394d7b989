package community_test

import (
	"context"
	"fmt"
	"path/filepath"
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
		len(c.CheckinRules) + len(c.Contests) + len(c.SessionTargets) + len(c.Sessions) + len(c.Staff) + len(c.Members)
	if first.Count(community.Create) != want || len(first.Changes) != want {
		t.Fatalf("first apply: %d creates of %d changes, want %d", first.Count(community.Create), len(first.Changes), want)
	}
	second := apply(t, tb, c, true)
	if !second.Empty() {
		t.Fatalf("second apply changed %v", second.Changes)
	}
	ctx := context.Background()
	groups, err := tb.Groups(ctx)
	if err != nil || len(groups) != len(c.Groups) {
		t.Fatalf("groups in table: %d, %v", len(groups), err)
	}
	s, found, err := tb.Session(ctx, c.Sessions[0].ID)
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
	if _, err := tb.UpdateGroup(ctx, "g1", func(g *qunyun.Group, _ bool) error {
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
	g, _, err := tb.Group(ctx, "g1")
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
	groups, _ := tb.Groups(ctx)
	plans, _ := tb.Plans(ctx)
	if len(groups) != 1 || len(plans) != 0 {
		t.Fatalf("after prune: %d groups, %d plans", len(groups), len(plans))
	}
}

func TestApplyCancelsManualSession(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	withSession := base + `
hosts: [{id: h1, name: 主持人}]
sessions:
  manual:
    - {id: s1, group: g2, host: h1, start: "2026-12-01T20:00:00+08:00", minutes: 45%s}
`
	apply(t, tb, mustParse(t, fmt.Sprintf(withSession, "")), false)
	d := apply(t, tb, mustParse(t, fmt.Sprintf(withSession, ", cancelled: true")), false)
	if len(d.Changes) != 1 || d.Changes[0].Kind != community.KindSession {
		t.Fatalf("changes %v", d.Changes)
	}
	s, _, _ := tb.Session(ctx, "s1")
	if s.State != qunyun.SessionCancelled {
		t.Fatalf("state %s", s.State)
	}
	if d := apply(t, tb, mustParse(t, fmt.Sprintf(withSession, ", cancelled: true")), false); !d.Empty() {
		t.Fatalf("again: %v", d.Changes)
	}
}
