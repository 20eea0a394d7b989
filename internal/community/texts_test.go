package community_test

import (
	"context"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
)

const textsYAML = `
accounts: [{id: oa, kind: oa}, {id: bot, kind: wecom-bot}]
texts:
  - account: oa
    welcome: |
      欢迎来到轻食社！回复「菜单」看本周食谱。
  - account: bot
    botWelcome: 我是轻食社助手，@我 打卡。
    checkinAgain: "{{.Name}}今天打过卡了，已连续 {{.Streak}} 天"
`

// An account's texts are applied, stored per account (trimmed), shown in
// the diff when they change and removed with --prune; a text left out is
// stored empty, so the callback uses the default.
func TestAccountTextsApplyPerAccount(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(applyNow))
	ctx := context.Background()
	first := apply(t, tb, mustParse(t, textsYAML), false)
	if first.Count(community.Create) != 2 || first.Changes[0].String() != "+ texts oa" || first.Changes[1].String() != "+ texts bot" {
		t.Fatalf("first apply: %v", first.Changes)
	}
	store := dynamo.Texts{Table: tb}
	oa, found, err := store.AccountTexts(ctx, "oa")
	if err != nil || !found || oa.Welcome != "欢迎来到轻食社！回复「菜单」看本周食谱。" || oa.BotWelcome != "" || oa.CheckinAgain != "" {
		t.Fatalf("oa texts = %+v (found %v, %v)", oa, found, err)
	}
	bot, found, err := store.AccountTexts(ctx, "bot")
	if err != nil || !found || bot.BotWelcome != "我是轻食社助手，@我 打卡。" || bot.Welcome != "" {
		t.Fatalf("bot texts = %+v (found %v, %v)", bot, found, err)
	}
	if again := apply(t, tb, mustParse(t, textsYAML), false); !again.Empty() {
		t.Fatalf("second apply changed %v", again.Changes)
	}
	changed := strings.Replace(textsYAML, "我是轻食社助手", "我是新助手", 1)
	d, err := community.Compute(ctx, tb, mustParse(t, changed), false)
	if err != nil || len(d.Changes) != 1 || !strings.HasPrefix(d.Changes[0].String(), "~ texts bot (botWelcome: ") {
		t.Fatalf("diff after a change: %v, %v", d.Changes, err)
	}
	dropped := textsYAML[:strings.Index(textsYAML, "  - account: bot")]
	pruned := apply(t, tb, mustParse(t, dropped), true)
	if pruned.Count(community.Delete) != 1 || pruned.Changes[0].String() != "- texts bot" {
		t.Fatalf("prune: %v", pruned.Changes)
	}
	if _, found, _ := store.AccountTexts(ctx, "bot"); found {
		t.Fatal("bot's texts survived the prune: it would not fall back to the defaults")
	}
}

// Bad texts are errors at their line, and nothing loads: blank, too long, a
// template that does not render, a bot welcome for an account that is not
// a bot, an unknown account or field, the same account twice.
func TestAccountTextsBadInput(t *testing.T) {
	bad := textsYAML + `  - account: nope
    welcome: hi
  - account: oa
    welcom: x
  - account: bot
    welcome: "   "
    checkinAgain: "{{.Nmae}}"
  - account: oa
    botWelcome: 你好
    checkinAgain: "` + strings.Repeat("好", 601) + `"
`
	_, err := community.Parse("test.yaml", []byte(bad))
	if err == nil {
		t.Fatal("bad texts loaded")
	}
	for _, want := range []string{
		`test.yaml:10:14: texts[2].account: unknown account "nope"`,
		`test.yaml:12:5: texts[3]: duplicate id "oa"`,
		`test.yaml:13:5: texts[3].welcom: unknown field "welcom" (did you mean "welcome"?)`,
		`test.yaml:15:14: texts[4].welcome: welcome is empty`,
		`test.yaml:16:19: texts[4].checkinAgain: checkinAgain is not a valid template`,
		`test.yaml:18:17: texts[5].botWelcome: account "oa" is oa; only a wecom-bot account`,
		`test.yaml:19:19: texts[5].checkinAgain: checkinAgain is 601 characters; expected at most 600`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
