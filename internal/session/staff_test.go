package session_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

// staffCommunity is a group whose people come from community.yaml: an
// owner, a moderator who is alerted on WeCom under another id, the host
// as resident staff, and three imported members.
const staffCommunity = `
accounts: [{id: wecom1, kind: wecom}, {id: relay1, kind: relay}]
groups: [{id: g1, account: wecom1, purpose: vip, tier: vip, name: 增长VIP群, owner: owner1}]
hosts: [{id: h1, name: 李老师, memberId: hostm, wecomUserId: li.wecom}]
members: {file: members.csv}
staff:
  - {id: s-owner, role: owner, ids: {wecom1: owner1}, groups: [g1]}
  - {id: s-mod, role: moderator, ids: {wecom1: mod1, relay1: wxid_mod}, groups: [g1], wecomUserId: mod.wecom}
  - {id: s-li, role: host, ids: {wecom1: hostm}, groups: [g1], wecomUserId: li.wecom}
`

// applied returns the session fixture on a table where the group, host and
// people were written by applying staffCommunity.
func applied(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "community.yaml"), []byte(staffCommunity), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "members.csv"), []byte("group,id,name\ng1,u1,成员1\ng1,u2,成员2\ng1,u3,成员3\n"), 0o600))
	c, err := community.Load(filepath.Join(dir, "community.yaml"))
	must(t, err)
	ctx := context.Background()
	clk := clock.NewManual(start.Add(-time.Hour))
	tb := dynamotest.NewTable(t, clk)
	d, err := community.Compute(ctx, tb, c, false)
	must(t, err)
	must(t, d.Apply(ctx, tb, nil))
	rec := &recorder{}
	return &fixture{t: t, ctx: ctx, tb: tb, clk: clk, rec: rec, svc: &session.Service{
		Sessions: dynamo.Sessions{Table: tb}, Catalog: dynamo.Catalog{Table: tb}, Bus: &bus.Publisher{Client: rec, BusName: "test"}, Clock: clk, PublicBaseURL: "https://api.example.com",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
}

// The host's no-show reaches the moderator at their WeCom id and the owner.
func TestStaffFromCommunityGetNoShowAlert(t *testing.T) {
	f := applied(t)
	f.createSession("ns", start)
	f.tickAt(start)
	f.tickAt(start.Add(10 * time.Minute))
	var to []string
	for _, a := range byStep(f.rec.deliveries(t), "noshow") {
		to = append(to, a.TargetID)
	}
	if !slices.Equal(to, []string{"mod.wecom", "owner1"}) {
		t.Fatalf("no-show alerts to %v, want the moderator's WeCom id and the owner", to)
	}
}

// The moderator the file names hides a question with 「隐藏 n」; a member
// cannot; the owner and the host are not absent members owed a recap.
func TestStaffFromCommunityHideAndRecap(t *testing.T) {
	f := applied(t)
	f.createSession("s1", start)
	f.tickAt(start)
	f.say("m1", "hostm", "大家好，今天聊私域复购，有问题直接提。", "", start.Add(time.Minute))
	f.ask("s1", "m2", "u1", "提问：加我微信领资料？", start.Add(2*time.Minute))
	f.ask("s1", "m3", "u2", "提问：复购率多少算健康？", start.Add(3*time.Minute))
	f.say("m4", "u2", "隐藏 2", "", start.Add(4*time.Minute))
	f.say("m5", "mod1", "隐藏 1", "", start.Add(5*time.Minute))
	f.tickAt(start.Add(6 * time.Minute))
	qs, err := dynamo.Sessions{Table: f.tb}.Questions(f.ctx, "s1")
	must(t, err)
	if len(qs) != 2 || !qs[0].Hidden || qs[1].Hidden {
		t.Fatalf("questions after the hides: %+v", qs)
	}
	f.tickAt(start.Add(45 * time.Minute))
	f.tickAt(start.Add(46 * time.Minute))
	r, found, err := dynamo.Sessions{Table: f.tb}.Recap(f.ctx, "s1")
	if err != nil || !found {
		t.Fatalf("recap: %v %v", found, err)
	}
	if !slices.Equal(r.Absent, []string{"u3"}) {
		t.Errorf("absent %v, want only u3 (the owner and the host are staff)", r.Absent)
	}
	var m qunyun.Member
	m, _, _ = dynamo.Catalog{Table: f.tb}.Member(f.ctx, "g1", "owner1")
	if m.Role != qunyun.RoleOwner {
		t.Fatalf("owner1: %+v", m)
	}
}
