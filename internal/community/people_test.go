package community_test

import (
	"context"
	"errors"
	"os"
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

// peopleFile writes a community.yaml with staff and a members file beside
// it, and returns the yaml's path.
func peopleFile(t *testing.T, staff, csv string) string {
	t.Helper()
	dir := t.TempDir()
	yaml := `
accounts:
  - {id: oa, kind: oa}
  - {id: wc, kind: wecom}
  - {id: rl, kind: relay}
groups:
  - {id: g1, account: wc, purpose: general, owner: lin}
  - {id: g2, account: rl, purpose: vip, tier: vip, sizeCap: 3}
members: {file: members.csv}
staff:
` + staff
	if err := os.WriteFile(filepath.Join(dir, "members.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "community.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	staffLinAndYu = `
  - {id: s-lin, name: 林店长, role: owner, ids: {wc: lin, rl: wxid_lin, oa: o-lin}, groups: [g1, g2]}
  - {id: s-yu, name: 小鱼, role: moderator, ids: {wc: yu, rl: wxid_yu}, groups: [g1, g2], wecomUserId: yu}
`
	membersCSV = "group,id,name,tier,tags\ng1,wm-a,阿一,regular,餐饮;健康\ng2,wm-b,阿二,vip,会员\ng2,wxid_yu,鱼,vip,\n"
)

func load(t *testing.T, path string) *community.Community {
	t.Helper()
	c, err := community.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func member(t *testing.T, tb *dynamo.Table, g, id string) qunyun.Member {
	t.Helper()
	m, found, err := dynamo.Catalog{Table: tb}.Member(context.Background(), g, id)
	if err != nil || !found {
		t.Fatalf("member %s/%s: found=%v %v", g, id, found, err)
	}
	return m
}

// Staff and imported members land on the member records with their
// roles, VIP tier and tags; what WeChat recorded stays; a second apply
// changes nothing.
func TestApplyStaffAndMembers(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	// wm-a joined before the file was applied.
	if _, err := (dynamo.Catalog{Table: tb}).UpdateMember(ctx, "g1", "wm-a", func(m *qunyun.Member, _ bool) error {
		m.Name, m.Role, m.JoinedAt, m.JoinScene = "微信昵称", qunyun.RoleMember, applyNow.Add(-48*time.Hour), 3
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := load(t, peopleFile(t, staffLinAndYu, membersCSV))
	d := apply(t, tb, c, false)
	var lines []string
	for _, ch := range d.Changes {
		if ch.Kind == community.KindMember || ch.Kind == community.KindStaff {
			lines = append(lines, ch.String())
		}
	}
	want := []string{"+ staff s-lin", "+ staff s-yu", "+ member g1/lin",
		`~ member g1/wm-a (name: "微信昵称" → "阿一", tags)`, "+ member g1/yu", "+ member g2/wm-b", "+ member g2/wxid_lin", "+ member g2/wxid_yu"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if m := member(t, tb, "g1", "wm-a"); m.Role != qunyun.RoleMember || m.JoinScene != 3 || m.JoinedAt.IsZero() || m.Tags[1] != "健康" || m.VIP {
		t.Errorf("wm-a: %+v", m)
	}
	if m := member(t, tb, "g2", "wm-b"); !m.VIP || m.Role != qunyun.RoleMember {
		t.Errorf("wm-b: %+v", m)
	}
	// On both lists: the line's name and tier, the staff role and address.
	if m := member(t, tb, "g2", "wxid_yu"); m.Role != qunyun.RoleModerator || !m.VIP || m.Name != "鱼" || m.WeComUserID != "yu" {
		t.Errorf("wxid_yu: %+v", m)
	}
	if m := member(t, tb, "g1", "lin"); m.Role != qunyun.RoleOwner || m.Name != "林店长" {
		t.Errorf("lin: %+v", m)
	}
	staff, err := dynamo.People{Table: tb}.Staff(ctx)
	if err != nil || len(staff) != 2 || staff[0].IDs["oa"] != "o-lin" {
		t.Fatalf("staff records: %+v %v", staff, err)
	}
	if d := apply(t, tb, c, true); !d.Empty() {
		t.Fatalf("second apply: %v", d.Changes)
	}
}

// A role the file no longer gives goes back to member; a role an operator
// gave by hand stays, whatever the file says about that member.
func TestApplyRevertsOnlyTheFilesRoles(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	apply(t, tb, load(t, peopleFile(t, staffLinAndYu, membersCSV)), false)
	if _, err := (dynamo.People{Table: tb}).ChangeRole(ctx, qunyun.RoleChange{GroupID: "g2", MemberID: "wm-b", To: qunyun.RoleEditor, By: "ops", At: applyNow}); err != nil {
		t.Fatal(err)
	}
	// 小鱼 now moderates g1 only.
	fewer := strings.Replace(staffLinAndYu, "groups: [g1, g2], wecomUserId", "groups: [g1], wecomUserId", 1)
	d := apply(t, tb, load(t, peopleFile(t, fewer, membersCSV)), false)
	var got []string
	for _, ch := range d.Changes {
		got = append(got, ch.String())
	}
	want := []string{"~ staff s-yu (groups)", `~ member g2/wxid_yu (role: "moderator" → "member", wecomUserId: "yu" → (none))`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m := member(t, tb, "g2", "wxid_yu"); m.Role != qunyun.RoleMember || !m.VIP {
		t.Errorf("wxid_yu after: %+v", m)
	}
	if m := member(t, tb, "g2", "wm-b"); m.Role != qunyun.RoleEditor {
		t.Errorf("hand-promoted wm-b: %+v", m)
	}
	// Staff the file drops keep their roles until --prune.
	noYu := strings.Split(staffLinAndYu, "\n")[0] + "\n" + strings.Split(staffLinAndYu, "\n")[1] + "\n"
	d = apply(t, tb, load(t, peopleFile(t, noYu, membersCSV)), false)
	if !d.Empty() || d.Unnamed != 1 {
		t.Fatalf("without prune: %v, unnamed %d", d.Changes, d.Unnamed)
	}
	d = apply(t, tb, load(t, peopleFile(t, noYu, membersCSV)), true)
	if d.Count(community.Delete) != 1 || member(t, tb, "g1", "yu").Role != qunyun.RoleMember {
		t.Fatalf("prune: %v; yu %+v", d.Changes, member(t, tb, "g1", "yu"))
	}
}

func TestPeopleProblems(t *testing.T) {
	for _, tc := range []struct{ name, staff, csv, want string }{
		{"no id for the group's account", `  - {id: s1, role: moderator, ids: {wc: a}, groups: [g2]}`, membersCSV,
			`community.yaml:11:54: staff[0].groups[0]: staff "s1" serves group g2 of account rl but has no id there`},
		{"unknown group", `  - {id: s1, role: editor, ids: {wc: a}, groups: [g9]}`, membersCSV, `unknown group "g9"`},
		{"unknown account", `  - {id: s1, role: editor, ids: {xx: a}}`, membersCSV, `unknown account "xx"`},
		{"one person twice", "  - {id: s1, role: editor, ids: {wc: a}}\n  - {id: s2, role: host, ids: {wc: a}}", membersCSV, `a in account wc is already staff "s1"`},
		{"role", `  - {id: s1, role: boss, ids: {wc: a}}`, membersCSV, `"boss" is not allowed; expected one of owner, host, moderator, editor`},
		{"no group column", "", "id,name\nwm-a,阿一\n", `members.csv:2:1: no group; expected the group column`},
		{"unknown group in csv", "", "group,id\ng1,wm-a\ng7,wm-b\n", `members.csv:3:1: unknown group "g7"`},
		{"tier", "", "group,id,tier\ng1,wm-a,gold\n", `members.csv:2:1: tier "gold": expected vip or regular`},
		{"twice", "", "group,id\ng1,wm-a\ng1,wm-a\n", `members.csv:3:1: wm-a is in g1 twice (first on line 2)`},
		{"size cap", "", "group,id\ng2,a\ng2,b\ng2,c\ng2,d\n", `the members file puts 4 members in g2, above its size cap 3`},
		{"bad csv", "", "group,id\ng1,\"wm\n", `members.csv:2:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			staff := tc.staff
			if staff == "" {
				staff = "  []"
			}
			path := peopleFile(t, staff+"\n", tc.csv)
			_, err := community.Load(path)
			var ps community.Problems
			if !errors.As(err, &ps) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain\n%s", err, tc.want)
			}
		})
	}
}
