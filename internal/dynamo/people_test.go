package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestChangeRoleAudits(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	p := dynamo.People{Table: tb}
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	if err := (dynamo.Catalog{Table: tb}).PutMember(ctx, qunyun.Member{GroupID: "g1", ID: "m1", Role: qunyun.RoleMember, JoinedAt: at.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	up := qunyun.RoleChange{GroupID: "g1", MemberID: "m1", To: qunyun.RoleModerator, By: "ops-lin", At: at, Reason: "答疑 7 次"}
	if rc, err := p.ChangeRole(ctx, up); err != nil || rc.From != qunyun.RoleMember {
		t.Fatalf("promote: %+v %v", rc, err)
	}
	// Again: nothing to do, and no second audit record.
	if _, err := p.ChangeRole(ctx, up); qunyun.ErrorCode(err) != qunyun.ECONFLICT {
		t.Fatalf("promote twice: %v", err)
	}
	if _, err := p.ChangeRole(ctx, qunyun.RoleChange{GroupID: "g1", MemberID: "nobody", To: qunyun.RoleEditor, At: at}); qunyun.ErrorCode(err) != qunyun.ENOTFOUND {
		t.Fatalf("unknown member: %v", err)
	}
	down := qunyun.RoleChange{GroupID: "g1", MemberID: "m1", To: qunyun.RoleMember, By: "ops-chen", At: at.Add(time.Minute), Reason: "离职"}
	if _, err := p.ChangeRole(ctx, down); err != nil {
		t.Fatal(err)
	}
	m, _, _ := dynamo.Catalog{Table: tb}.Member(ctx, "g1", "m1")
	if m.Role != qunyun.RoleMember || m.JoinedAt.IsZero() {
		t.Fatalf("member after: %+v", m)
	}
	log, err := p.RoleChanges(ctx, "g1")
	if err != nil || len(log) != 2 {
		t.Fatalf("audit: %+v %v", log, err)
	}
	if l := log[0]; l.From != qunyun.RoleMember || l.To != qunyun.RoleModerator || l.By != "ops-lin" || !l.At.Equal(at) || l.Reason != "答疑 7 次" {
		t.Errorf("first audit record: %+v", l)
	}
	if l := log[1]; l.From != qunyun.RoleModerator || l.By != "ops-chen" {
		t.Errorf("second audit record: %+v", l)
	}
	// Owners and hosts are community.yaml's: a command does not demote them.
	dynamo.Catalog{Table: tb}.PutMember(ctx, qunyun.Member{GroupID: "g1", ID: "boss", Role: qunyun.RoleOwner})
	if _, err := p.ChangeRole(ctx, qunyun.RoleChange{GroupID: "g1", MemberID: "boss", To: qunyun.RoleMember, At: at}); qunyun.ErrorCode(err) != qunyun.EINVALID {
		t.Fatalf("demote the owner: %v", err)
	}
}
