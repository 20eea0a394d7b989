package dynamo_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestCatalogRoundTrips(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()

	g := qunyun.Group{ID: "g1", Name: "美食团购群", Purpose: qunyun.PurposeShelf, Tags: []string{"food"}, Caps: qunyun.Caps{DailyMax: 2}}
	if err := (dynamo.Catalog{Table: tb}).PutGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	dynamo.Catalog{Table: tb}.PutGroup(ctx, qunyun.Group{ID: "g2", Purpose: qunyun.PurposeVIP})
	got, found, err := dynamo.Catalog{Table: tb}.Group(ctx, "g1")
	if err != nil || !found || got.Name != g.Name || got.Caps.DailyMax != 2 || got.Tags[0] != "food" {
		t.Fatalf("group = %+v %v %v", got, found, err)
	}
	groups, err := dynamo.Catalog{Table: tb}.Groups(ctx)
	if err != nil || len(groups) != 2 || groups[0].ID != "g1" {
		t.Fatalf("groups = %+v %v", groups, err)
	}

	dynamo.Catalog{Table: tb}.PutMember(ctx, qunyun.Member{GroupID: "g1", ID: "m1", Role: qunyun.RoleMember})
	dynamo.Catalog{Table: tb}.PutMember(ctx, qunyun.Member{GroupID: "g2", ID: "m1", Role: qunyun.RoleModerator})
	if ms, _ := (dynamo.Catalog{Table: tb}).Members(ctx, "g1"); len(ms) != 1 || ms[0].ID != "m1" {
		t.Fatalf("members = %+v", ms)
	}
	if ms, _ := (dynamo.Catalog{Table: tb}).MemberGroups(ctx, "m1"); len(ms) != 2 {
		t.Fatalf("member groups = %+v", ms)
	}

	dynamo.Catalog{Table: tb}.PutKeywordRule(ctx, qunyun.KeywordRule{ID: "k1", AccountID: "oa1", Match: "exact", Keywords: []string{"菜单"}, Reply: "x"})
	dynamo.Catalog{Table: tb}.PutCheckinRule(ctx, qunyun.CheckinRule{ID: "c1", AccountID: "oa1", Keywords: []string{"打卡"}})
	dynamo.Catalog{Table: tb}.PutKeywordRule(ctx, qunyun.KeywordRule{ID: "k2", AccountID: "oa2", Match: "contains", Keywords: []string{"价格"}})
	kw, ci, err := dynamo.Catalog{Table: tb}.Rules(ctx, "oa1")
	if err != nil || len(kw) != 1 || len(ci) != 1 || kw[0].Keywords[0] != "菜单" {
		t.Fatalf("rules = %+v %+v %v", kw, ci, err)
	}
	kw, ci, err = dynamo.Catalog{Table: tb}.AllRules(ctx)
	if err != nil || len(kw) != 2 || len(ci) != 1 {
		t.Fatalf("all rules = %+v %+v %v", kw, ci, err)
	}

	if err := (dynamo.Catalog{Table: tb}).DeleteGroup(ctx, "g2"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := (dynamo.Catalog{Table: tb}).Group(ctx, "g2"); found {
		t.Fatal("deleted group still found")
	}
}

func TestUpdateGroupKeepsConcurrentChanges(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	dynamo.Catalog{Table: tb}.PutGroup(ctx, qunyun.Group{ID: "g", Name: "n"})

	// Two writers change different fields at once: neither change is lost.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if _, err := (dynamo.Catalog{Table: tb}).UpdateGroup(ctx, "g", func(g *qunyun.Group, _ bool) error { g.Noisy = true; return nil }); err != nil {
			t.Error(err)
		}
	}()
	go func() {
		defer wg.Done()
		if _, err := (dynamo.Catalog{Table: tb}).UpdateGroup(ctx, "g", func(g *qunyun.Group, _ bool) error { g.Name = "renamed"; return nil }); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	g, _, _ := dynamo.Catalog{Table: tb}.Group(ctx, "g")
	if !g.Noisy || g.Name != "renamed" {
		t.Fatalf("lost update: %+v", g)
	}

	created, err := dynamo.Catalog{Table: tb}.UpdateGroup(ctx, "new", func(g *qunyun.Group, found bool) error {
		if found {
			t.Error("found a group that does not exist")
		}
		g.State = qunyun.GroupActive
		return nil
	})
	if err != nil || created.ID != "new" {
		t.Fatalf("create via update: %+v %v", created, err)
	}

	boom := errors.New("boom")
	if _, err := (dynamo.Catalog{Table: tb}).UpdateGroup(ctx, "g", func(*qunyun.Group, bool) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error not returned: %v", err)
	}
	if _, err := (dynamo.Catalog{Table: tb}).UpdateGroup(ctx, "g", func(g *qunyun.Group, _ bool) error { g.ID = "other"; return nil }); qunyun.ErrorCode(err) != qunyun.EINVALID {
		t.Fatalf("key change allowed: %v", err)
	}
}
