package scoring_test

import (
	"context"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

// The night that scores a group recounts its members: a count the
// callback's per-join additions got wrong (here, members imported without
// a count) is right after it, and a group it did not score is left alone.
func TestNightRecountsMembers(t *testing.T) {
	ctx := context.Background()
	loc := qunyun.LoadLocation("")
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	table := dynamotest.NewTable(t, clock.NewManual(day.AddDate(0, 0, 2)))
	cat := dynamo.Catalog{Table: table}
	for _, g := range []qunyun.Group{
		{ID: "g1", MemberCount: 1, CreatedAt: day.AddDate(0, 0, -30)},
		{ID: "gone", MemberCount: 5, State: qunyun.GroupDismissed},
	} {
		if err := cat.PutGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"a", "b", "c"} {
		m := qunyun.Member{GroupID: "g1", ID: id, JoinedAt: day.AddDate(0, 0, -3)}
		if i == 2 {
			m.LeftAt = day.AddDate(0, 0, -1)
		}
		if err := cat.PutMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	scorer, err := scoring.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &scoring.Night{Stores: scoringStores(table), Scorer: scorer, Now: table.Now}
	if err := n.Run(ctx, "2026-11-20"); err != nil {
		t.Fatal(err)
	}
	if g, _, _ := cat.Group(ctx, "g1"); g.MemberCount != 2 {
		t.Fatalf("g1 counts %d members after the night, want 2", g.MemberCount)
	}
	if g, _, _ := cat.Group(ctx, "gone"); g.MemberCount != 5 {
		t.Fatalf("a group the night did not score was recounted: %d", g.MemberCount)
	}
}
