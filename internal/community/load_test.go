package community_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestDemoFileLoads(t *testing.T) {
	c, err := community.Load(filepath.Join("..", "..", "infra", "local", "community.yaml"))
	if err != nil {
		t.Fatalf("demo community.yaml: %v", err)
	}
	if len(c.Groups) < 10 || len(c.Hosts) != 4 || len(c.Contests) == 0 || len(c.CheckinRules) == 0 {
		t.Fatalf("demo: %d groups, %d hosts, %d contests, %d check-in rules", len(c.Groups), len(c.Hosts), len(c.Contests), len(c.CheckinRules))
	}
	vip := 0
	for _, g := range c.Groups {
		if g.SizeCap == 0 || g.TimeZone == "" {
			t.Errorf("group %s: defaults not filled: %+v", g.ID, g.Group)
		}
		if g.Purpose == qunyun.PurposeVIP {
			vip++
		}
	}
	if vip != 2 {
		t.Errorf("vip groups = %d, want 2", vip)
	}
	// Every group has its owner on staff, as the owner the group names.
	owners := map[string]string{}
	for _, m := range c.Members {
		if m.Role == qunyun.RoleOwner {
			owners[m.GroupID] = m.WeComUserID
		}
	}
	for _, g := range c.Groups {
		if owners[g.ID] != g.OwnerID {
			t.Errorf("group %s: owner %q on staff, %q on the group", g.ID, owners[g.ID], g.OwnerID)
		}
	}
}

const good = `
accounts:
  - {id: wc, kind: wecom}
groups:
  - id: g1
    account: wc
    purpose: general
contents:
  - {id: c1, kind: text, text: 你好}
plans:
  - id: p1
    contents: [c1]
    cron: 0 11 * * ? *
`

func TestParseDefaults(t *testing.T) {
	c, err := community.Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Plans[0].Cron != "cron(0 11 * * ? *)" {
		t.Errorf("cron %q", c.Plans[0].Cron)
	}
	g := c.Groups[0]
	if g.SizeCap != 50 || g.TimeZone != "Asia/Shanghai" || g.Lifecycle.Kind != "created" {
		t.Fatalf("defaults: %+v", g.Group)
	}
}

func TestParseProblems(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want string // substring of the problem, with its position
	}{
		{"typo in a field name", `
groups:
  - id: g1
    purpose: general
    nmae: 一群
`, "x.yaml:5:5: groups[0].nmae: unknown field \"nmae\" (did you mean \"name\"?)"},
		{"bad purpose", `
groups:
  - id: g1
    purpose: shelff
`, "x.yaml:4:14: groups[0].purpose: \"shelff\" is not allowed; expected one of shelf, resource-popup"},
		{"missing id", `
groups:
  - purpose: fan
`, "x.yaml:3:5: groups[0]: missing required field \"id\""},
		{"wrong type", `
groups:
  - id: g1
    purpose: fan
    sizeCap: lots
`, "x.yaml:5:14: groups[0].sizeCap: got string, want integer"},
		{"quiet hours format", `
groups:
  - id: g1
    purpose: fan
    caps: {quietStart: "9pm", quietEnd: "08:00"}
`, "x.yaml:5:24: groups[0].caps.quietStart: \"9pm\" does not have the expected form (HH:MM"},
		{"bad time zone", `
groups:
  - id: g1
    purpose: fan
    timeZone: Asia/Shanghia
`, "x.yaml:5:15: groups[0].timeZone: unknown time zone \"Asia/Shanghia\""},
		{"duplicate id", `
groups:
  - {id: g1, purpose: fan}
  - {id: g1, purpose: vip}
`, "x.yaml:4:10: groups[1].id: duplicate id \"g1\""},
		{"unknown content", `
contents:
  - {id: c1, kind: text, text: hi}
plans:
  - id: p1
    contents: [c1, c2]
    cron: cron(0 11 * * ? *)
`, "x.yaml:6:20: plans[0].contents[1]: unknown content \"c2\""},
		{"bad cron", `
contents:
  - {id: c1, kind: text, text: hi}
plans:
  - id: p1
    contents: [c1]
    cron: cron(0 25 * * ? *)
`, "x.yaml:7:11: plans[0].cron: bad cron"},
		{"unknown host in a manual session", `
groups:
  - {id: g1, purpose: vip}
sessions:
  manual:
    - {id: s1, group: g1, host: nobody, start: "2026-12-01T20:00:00+08:00", minutes: 45}
`, "x.yaml:6:33: sessions.manual[0].host: unknown host \"nobody\""},
		{"target longer than the session bounds", `
groups:
  - {id: g1, purpose: vip}
sessions:
  targets:
    - {group: g1, perWeek: 1, minutes: 90}
`, "x.yaml:6:40: sessions.targets[0].minutes: 90-minute sessions; expected 30–60"},
		{"bounds upside down", `
sessions:
  minMinutes: 50
  maxMinutes: 40
`, "x.yaml:3:15: sessions.minMinutes: minMinutes 50 is above maxMinutes 40"},
		{"unknown account", `
keywordRules:
  - {id: k1, account: ghost, keywords: [菜单], reply: 好}
`, "x.yaml:3:23: keywordRules[0].account: unknown account \"ghost\""},
		{"popup without minutes", `
groups:
  - id: g1
    purpose: resource-popup
    lifecycle: {kind: popup}
`, "x.yaml:5:16: groups[0].lifecycle: a popup group needs popupMinutes"},
		{"group on an OA", `
accounts: [{id: oa1, kind: oa}]
groups:
  - {id: g1, purpose: fan, account: oa1}
`, "x.yaml:4:37: groups[0].account: account \"oa1\" is an Official Account"},
		{"robot webhook on a relay group", `
accounts: [{id: r1, kind: relay}]
groups:
  - {id: g1, purpose: fan, account: r1, webhook: g1-robot}
`, "x.yaml:4:50: groups[0].webhook: account \"r1\" is relay; a group robot's webhook belongs to a group of a wecom-bot account"},
		{"one robot for two groups", `
accounts: [{id: b1, kind: wecom-bot}]
groups:
  - {id: g1, purpose: fan, account: b1, webhook: kitchen}
  - {id: g2, purpose: fan, account: b1, webhook: kitchen}
`, "x.yaml:5:50: groups[1].webhook: webhook \"kitchen\" is already group g1's (groups[0]); expected each group its own robot"},
		{"yaml syntax", "version: 1\ngroups:\n  - id: g1\n    purpose: fan: x\n", "x.yaml:4:1: YAML: mapping values are not allowed"},
		{"secret in an account", `
accounts:
  - {id: a1, kind: oa, secret: abc}
`, "unknown field \"secret\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := community.Parse("x.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error; community %+v", c)
			}
			if c != nil {
				t.Fatal("a community came back with the error")
			}
			var ps community.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got\n%s\nwant it to contain\n%s", err, tc.want)
			}
			if qunyun.ErrorCode(err) != qunyun.EINVALID {
				t.Errorf("code %q, want invalid", qunyun.ErrorCode(err))
			}
		})
	}
}

func TestSchemaIsValidJSONSchema(t *testing.T) {
	// The embedded schema compiles (Parse would report an internal problem
	// otherwise) and rejects a document that is not an object.
	if _, err := community.Parse("x.yaml", []byte("- 1\n")); err == nil || !strings.Contains(err.Error(), "want object") {
		t.Fatalf("a list at the top: %v", err)
	}
	if len(community.Schema()) == 0 {
		t.Fatal("empty schema")
	}
}

func TestParseAnchorsAndMerges(t *testing.T) {
	c, err := community.Parse("x.yaml", []byte(`
accounts: [{id: wc, kind: wecom}]
groups:
  - &vip {id: v1, account: wc, purpose: vip, tier: vip, caps: {dailyMax: 1}}
  - <<: *vip
    id: v2
`))
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Groups[1]; g.ID != "v2" || g.Tier != "vip" || g.Caps.DailyMax != 1 {
		t.Fatalf("merged group: %+v", g.Group)
	}
	// A typo inside the anchor is reported where it was written.
	_, err = community.Parse("x.yaml", []byte(`
groups:
  - &vip {id: v1, purpose: vip, tierr: vip}
  - <<: *vip
    id: v2
`))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:3:33: groups[0].tierr: unknown field") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseDefaultCapsFieldByField(t *testing.T) {
	c, err := community.Parse("x.yaml", []byte(`
defaults: {caps: {dailyMax: 2, quietStart: "21:00", quietEnd: "09:00"}}
groups:
  - {id: g1, purpose: fan, caps: {dailyMax: 1}}
  - {id: g2, purpose: fan, caps: {quietStart: "23:00", quietEnd: "07:00"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Groups[0].Caps; got.DailyMax != 1 || got.QuietStart != "21:00" || got.QuietEnd != "09:00" {
		t.Errorf("g1 caps %+v", got)
	}
	if got := c.Groups[1].Caps; got.DailyMax != 2 || got.QuietStart != "23:00" {
		t.Errorf("g2 caps %+v", got)
	}
}

// What a noisy flag does is set per purpose; a group's own setting wins,
// then its purpose's, then defaults, then halve.
func TestParseOnNoisyByPurpose(t *testing.T) {
	c, err := community.Parse("x.yaml", []byte(`
defaults: {onNoisy: pause, caps: {sessionMax: 4}}
purposes:
  fan: {onNoisy: advise}
groups:
  - {id: fan, purpose: fan}
  - {id: general, purpose: general}
  - {id: own, purpose: fan, onNoisy: halve}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []qunyun.NoisyAction{qunyun.NoisyAdvise, qunyun.NoisyPause, qunyun.NoisyHalve}
	for i, g := range c.Groups {
		if g.OnNoisy != want[i] || g.Caps.SessionMax != 4 {
			t.Errorf("%s: onNoisy %q sessionMax %d, want %q and 4", g.ID, g.OnNoisy, g.Caps.SessionMax, want[i])
		}
	}
	c, err = community.Parse("x.yaml", []byte("groups:\n  - {id: g, purpose: vip}\n"))
	if err != nil || c.Groups[0].OnNoisy != qunyun.DefaultNoisyAction {
		t.Fatalf("unset: %v, %v", c.Groups[0].OnNoisy, err)
	}
	_, err = community.Parse("x.yaml", []byte("purposes:\n  chat: {onNoisy: silence}\n"))
	if err == nil || !strings.Contains(err.Error(), "purposes") {
		t.Fatalf("bad purpose and action accepted: %v", err)
	}
}
