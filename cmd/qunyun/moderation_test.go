package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// `qunyun moderation fine <code>` does what the moderator's reply does:
// records the decision with who and when and allows what the case flagged
// in its group; an unknown code is an error and changes nothing.
func TestModerationFineByCommand(t *testing.T) {
	tb, targs := tableArgs(t)
	ctx := context.Background()
	mod := dynamo.Moderation{Table: tb}
	if err := mod.OpenCase(ctx, qunyun.ModerationCase{Code: "K3F9QX", HitID: "h1", AccountID: "demo-relay", GroupID: "g-general-1",
		MemberID: "u1", Signals: []string{"link"}, Domains: []string{"shop.example.com"}, At: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "", append([]string{"moderation", "fine", "k3f9qx", "--by", "ops-lin"}, targs...)...)
	if err != nil || out != "K3F9QX in g-general-1: fine by ops-lin; allowed domain:shop.example.com\n" {
		t.Fatalf("fine: %v %q", err, out)
	}
	allowed, err := mod.Allowed(ctx, "demo-relay")
	if err != nil || len(allowed) != 1 || allowed[0].Scope != "g-general-1" || allowed[0].Value != "shop.example.com" || allowed[0].By != "ops-lin" {
		t.Fatalf("allow-list: %+v, %v", allowed, err)
	}
	out, _, err = run(t, "", append([]string{"moderation", "remove", "K3F9QX", "--by", "ops-lin"}, targs...)...)
	if err != nil || !strings.Contains(out, "recorded, to be done by hand") {
		t.Fatalf("remove: %v %q", err, out)
	}
	if _, _, err := run(t, "", append([]string{"moderation", "fine", "NOPE00", "--by", "ops-lin"}, targs...)...); err == nil {
		t.Fatal("an unknown code was accepted")
	}
	c, _, _ := mod.Case(ctx, "K3F9QX")
	var actions []qunyun.ModerationAction
	for _, d := range c.Decisions {
		actions = append(actions, d.Action)
	}
	if !slices.Equal(actions, []qunyun.ModerationAction{qunyun.ActionFine, qunyun.ActionRemove}) {
		t.Fatalf("decisions: %+v", c.Decisions)
	}
}
