package main

import (
	"context"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// A leader candidate is promoted and demoted by command, each change in the
// audit with who, when and why; what the command refuses changes nothing.
func TestPromoteAndDemote(t *testing.T) {
	tb, targs := appliedDemo(t)
	ctx := context.Background()
	c := qunyun.LeaderCandidate{GroupID: "g-vip-1", MemberID: "wm-alice", Role: qunyun.RoleModerator, Why: "28 天内答疑 7 次"}
	// The report's line, as an operator would paste it.
	line := c.PromoteCommand()
	if line != "qunyun promote wm-alice --group g-vip-1 --to moderator --reason '28 天内答疑 7 次'" {
		t.Fatalf("promote command %q", line)
	}
	args := append([]string{"promote", "wm-alice", "--group", "g-vip-1", "--to", "moderator", "--reason", "28 天内答疑 7 次", "--by", "ops-lin"}, targs...)
	out, _, err := run(t, "", args...)
	if err != nil || out != "wm-alice in g-vip-1: member → moderator (by ops-lin)\n" {
		t.Fatalf("promote: %v %q", err, out)
	}
	if _, _, err := run(t, "", args...); err == nil || !strings.Contains(err.Error(), "already moderator") {
		t.Fatalf("promote twice: %v", err)
	}
	t.Setenv("USER", "ops-chen")
	if _, _, err := run(t, "", append([]string{"demote", "wm-alice", "--group", "g-vip-1", "--reason", "换岗"}, targs...)...); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"promote", "wm-alice", "--group", "g-vip-1", "--to", "owner"}, // owners are community.yaml's
		{"promote", "nobody", "--group", "g-vip-1", "--to", "editor"},  // not a member
		{"demote", "owner-chen", "--group", "g-vip-1"},                 // staff from community.yaml
		{"promote", "wm-alice", "--to", "editor"},                      // no group
	} {
		if _, _, err := run(t, "", append(bad, targs...)...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	log, err := dynamo.People{Table: tb}.RoleChanges(ctx, "g-vip-1")
	if err != nil || len(log) != 2 {
		t.Fatalf("audit: %+v %v", log, err)
	}
	if l := log[0]; l.MemberID != "wm-alice" || l.From != qunyun.RoleMember || l.To != qunyun.RoleModerator || l.By != "ops-lin" || l.Reason != "28 天内答疑 7 次" || l.At.IsZero() {
		t.Errorf("promotion audit: %+v", l)
	}
	if l := log[1]; l.To != qunyun.RoleMember || l.By != "ops-chen" || l.Reason != "换岗" {
		t.Errorf("demotion audit: %+v", l)
	}
	if m, _, _ := (dynamo.Catalog{Table: tb}).Member(ctx, "g-vip-1", "owner-chen"); m.Role != qunyun.RoleOwner {
		t.Errorf("owner-chen after a refused demote: %+v", m)
	}
}
