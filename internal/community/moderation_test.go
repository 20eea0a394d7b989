package community_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
)

const moderationYAML = `
accounts: [{id: relay, kind: relay}, {id: bot, kind: wecom-bot}]
moderation:
  - account: relay
    sensitiveWords: [代购, 返利]
    allowDomains: [docs.example.com]
`

// An account's moderation lists are applied, shown in the diff when they
// change, and stored per account; an account without an entry has none
// stored (it moderates by the defaults).
func TestModerationListsApplyPerAccount(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	first := apply(t, tb, mustParse(t, moderationYAML), false)
	if first.Count(community.Create) != 1 || first.Changes[0].String() != "+ moderation relay" {
		t.Fatalf("first apply: %v", first.Changes)
	}
	mod := dynamo.Moderation{Table: tb}
	r, found, err := mod.Rules(ctx, "relay")
	if err != nil || !found || !slices.Equal(r.SensitiveWords, []string{"代购", "返利"}) || !slices.Equal(r.AllowDomains, []string{"docs.example.com"}) {
		t.Fatalf("relay lists = %+v (found %v, %v)", r, found, err)
	}
	if _, found, _ := mod.Rules(ctx, "bot"); found {
		t.Fatal("bot has lists it never gave")
	}
	if again := apply(t, tb, mustParse(t, moderationYAML), false); !again.Empty() {
		t.Fatalf("second apply changed %v", again.Changes)
	}
	changed := strings.Replace(moderationYAML, "[代购, 返利]", "[代购]", 1)
	d, err := community.Compute(ctx, tb, mustParse(t, changed), false)
	if err != nil || len(d.Changes) != 1 || d.Changes[0].String() != "~ moderation relay (sensitiveWords)" {
		t.Fatalf("diff after a change: %v, %v", d.Changes, err)
	}
}

// A list for an account the file does not define is an error at its line;
// nothing is loaded.
func TestModerationListsNameAKnownAccount(t *testing.T) {
	bad := moderationYAML + "  - account: nope\n    qrWords: [扫码]\n  - account: relay\n    qrWord: [x]\n"
	_, err := community.Parse("test.yaml", []byte(bad))
	if err == nil {
		t.Fatal("a list of an unknown account loaded")
	}
	for _, want := range []string{
		`test.yaml:7:14: moderation[1].account: unknown account "nope"`,
		`test.yaml:9:5: moderation[2]: duplicate id "relay"`,
		`test.yaml:10:5: moderation[2].qrWord: unknown field "qrWord" (did you mean "qrWords"?)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
