package main

import (
	"context"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// The demo community shows a promoted leader from the start: an imported
// member is moderator, with the audit record `qunyun get roles` lists, and a
// second start keeps the one promotion.
func TestDemoPromotesALeader(t *testing.T) {
	tb, _ := appliedDemo(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	for range 2 {
		if err := promoteDemoLeader(ctx, tb, at); err != nil {
			t.Fatal(err)
		}
	}
	m, found, err := dynamo.Catalog{Table: tb}.Member(ctx, demoLeader.GroupID, demoLeader.MemberID)
	if err != nil || !found || m.Role != qunyun.RoleModerator {
		t.Fatalf("member %+v found=%v err=%v, want moderator", m, found, err)
	}
	log, err := dynamo.People{Table: tb}.RoleChanges(ctx, demoLeader.GroupID)
	if err != nil || len(log) != 1 || log[0].By != "demo" || log[0].From != qunyun.RoleMember || log[0].Reason != demoLeader.Why {
		t.Fatalf("audit %+v (%v), want one promotion by demo", log, err)
	}
}
