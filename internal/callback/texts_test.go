package callback_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// An account's own texts (community.yaml `texts`) answer through the HTTP
// route: an OA follow gets the account's welcome, the smart bot's
// enter_chat its bot welcome, a second check-in its "again" reply; an
// account that set none gets texts.yaml's.
func TestAccountTextsAnswerOnTheRoute(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	texts := dynamo.Texts{Table: f.table}
	for _, x := range []qunyun.AccountTexts{
		{AccountID: "oa-plain", Welcome: "欢迎来到轻食社！回复「菜单」看本周食谱。"},
		{AccountID: "bot", BotWelcome: "我是轻食社助手，@我 打卡。", CheckinAgain: "{{.Name}}今天打过卡了（{{.Streak}} 天）"},
	} {
		if err := texts.PutTexts(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(ctx, qunyun.CheckinRule{ID: "c", AccountID: "bot"}); err != nil {
		t.Fatal(err)
	}
	defaults, err := callback.DefaultTexts()
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	subscribe := func(account, token, from string) string {
		t.Helper()
		r := f.do("POST", account, oaPlainQuery(token, ts, "n"), `<xml><ToUserName>gh</ToUserName><FromUserName>`+from+
			`</FromUserName><CreateTime>`+ts+`</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>`, nil)
		if r.StatusCode != 200 {
			t.Fatalf("subscribe to %s: %d %q", account, r.StatusCode, r.Body)
		}
		return textReply(t, []byte(r.Body)).Content
	}
	if got := subscribe("oa-plain", "AAAAA", "o1"); got != "欢迎来到轻食社！回复「菜单」看本周食谱。" {
		t.Errorf("oa-plain welcome = %q, want its own", got)
	}
	if got := subscribe("oa-spam-plain", "spamtest", "o2"); got != defaults.WelcomeReply {
		t.Errorf("oa-spam-plain welcome = %q, want the default %q", got, defaults.WelcomeReply)
	}

	bot := func(plain string) string {
		t.Helper()
		code, reply := postBot(t, f, plain)
		if code != 200 {
			t.Fatalf("bot: %d", code)
		}
		return reply
	}
	if got := bot(`{"msgid":"e1","aibotid":"x","chattype":"single","from":{"userid":"u1"},"msgtype":"event","event":{"eventtype":"enter_chat"}}`); got != "我是轻食社助手，@我 打卡。" {
		t.Errorf("bot welcome = %q, want its own", got)
	}
	checkin := func(id string) string {
		return bot(`{"msgid":"` + id + `","aibotid":"x","chatid":"wrG","chattype":"group","from":{"userid":"u1"},"msgtype":"text","text":{"content":"@助手 打卡"}}`)
	}
	if got := checkin("b1"); !contains(got, "连续打卡 1 天") {
		t.Errorf("first check-in = %q", got)
	}
	if got := checkin("b2"); got != "今天打过卡了（1 天）" {
		t.Errorf("second check-in = %q, want the account's own", got)
	}
}
