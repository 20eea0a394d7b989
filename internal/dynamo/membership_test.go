package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Concurrent joins and leaves of many members, each delivered twice, add
// up to the members in the group; config fields survive, and a recount
// finds nothing to correct.
func TestMoveMemberCounts(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	if err := (dynamo.Catalog{Table: tb}).PutGroup(ctx, qunyun.Group{ID: "g", Name: "一群", Purpose: qunyun.PurposeVIP}); err != nil {
		t.Fatal(err)
	}
	ms := dynamo.Membership{Table: tb}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("u", i/2) // every change twice, at once
			_, err := ms.MoveMember(ctx, qunyun.Group{ID: "g"}, id, func(m *qunyun.Member, _ bool) error {
				if at.After(m.JoinedAt) {
					m.JoinedAt = at
				}
				if i/2%4 == 0 && at.Add(time.Minute).After(m.LeftAt) { // left later: not in the group
					m.LeftAt = at.Add(time.Minute)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	g, _, err := dynamo.Catalog{Table: tb}.Group(ctx, "g")
	if err != nil || g.MemberCount != 9 || g.Name != "一群" || g.Purpose != qunyun.PurposeVIP {
		t.Fatalf("group %+v %v, want 9 members", g, err)
	}
	if n, changed, err := ms.RecountMembers(ctx, "g"); err != nil || n != 9 || changed {
		t.Fatalf("recount %d %v %v, want 9 unchanged", n, changed, err)
	}
}

// A move into a group that does not exist yet creates it; the recount
// corrects a count that drifted (members config apply imported), and a
// count moved while recounting is left alone.
func TestMoveMemberCreatesGroupAndRecountCorrects(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	ms := dynamo.Membership{Table: tb}
	join := func(m *qunyun.Member, _ bool) error { m.JoinedAt = at; return nil }
	d, err := ms.MoveMember(ctx, qunyun.Group{ID: "new", AccountID: "wecom", CreatedAt: at, State: qunyun.GroupActive, UpdatedAt: at}, "u1", join)
	if err != nil || d != 1 {
		t.Fatalf("delta %d %v", d, err)
	}
	g, found, err := dynamo.Catalog{Table: tb}.Group(ctx, "new")
	if err != nil || !found || g.MemberCount != 1 || g.AccountID != "wecom" || !g.CreatedAt.Equal(at) || g.State != qunyun.GroupActive {
		t.Fatalf("group %+v %v %v", g, found, err)
	}
	if gs, err := (dynamo.Catalog{Table: tb}).Groups(ctx); err != nil || len(gs) != 1 {
		t.Fatalf("listed %d groups %v", len(gs), err)
	}
	// The same join again moves nobody.
	if d, err := ms.MoveMember(ctx, qunyun.Group{ID: "new"}, "u1", join); err != nil || d != 0 {
		t.Fatalf("again: delta %d %v", d, err)
	}
	for _, id := range []string{"i1", "i2"} {
		if err := (dynamo.Catalog{Table: tb}).PutMember(ctx, qunyun.Member{GroupID: "new", ID: id, JoinedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if n, changed, err := ms.RecountMembers(ctx, "new"); err != nil || n != 3 || !changed {
		t.Fatalf("recount %d %v %v, want 3 changed", n, changed, err)
	}
	if g, _, _ := (dynamo.Catalog{Table: tb}).Group(ctx, "new"); g.MemberCount != 3 {
		t.Fatalf("count %d after recount", g.MemberCount)
	}
	if _, changed, err := ms.RecountMembers(ctx, "missing"); err != nil || changed {
		t.Fatalf("recount of a missing group: %v %v", changed, err)
	}
	if _, found, _ := (dynamo.Catalog{Table: tb}).Group(ctx, "missing"); found {
		t.Fatal("recount created a group")
	}
}
