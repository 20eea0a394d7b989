package callback_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// encryptedPost seals plain for an account and returns the signed query.
func encryptedPost(t testing.TB, acct qunyun.Account, ts, plain string) (url.Values, string) {
	t.Helper()
	c, err := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, acct.ReceiveID())
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt([]byte(plain), nil)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"msg_signature": {wechat.MsgSignature(acct.Token, ts, "n1", enc)}, "timestamp": {ts}, "nonce": {"n1"}}, enc
}

func account(id string) qunyun.Account {
	for _, a := range testAccounts {
		if a.ID == id {
			return a
		}
	}
	panic(id)
}

// A WeCom add_member with two members: two MemberJoined events, two member
// records, two publishes; del_member marks the leave.
func TestWeComExternalChat(t *testing.T) {
	f := newFixture(t, nil)
	acct := account("wecom-qdg")
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	post := func(plain string) {
		t.Helper()
		q, enc := encryptedPost(t, acct, ts, plain)
		r := f.do("POST", acct.ID, q, "<xml><ToUserName>x</ToUserName><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", nil)
		if r.StatusCode != 200 || r.Body != "success" {
			t.Fatalf("%d %q", r.StatusCode, r.Body)
		}
	}
	join := fmt.Sprintf(`<xml><ToUserName>%s</ToUserName><FromUserName>sys</FromUserName><CreateTime>%s</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>wrC1</ChatId><ChangeType>update</ChangeType><UpdateDetail>add_member</UpdateDetail><JoinScene>3</JoinScene><MemChangeCnt>2</MemChangeCnt><MemChangeList><Item>wm1</Item><Item>wm2</Item></MemChangeList></xml>`, acct.CorpID, ts)
	post(join)
	post(join)
	if n := f.bus.count(qunyun.EventMemberJoined); n != 2 {
		t.Fatalf("%d MemberJoined", n)
	}
	if g, _, _ := (dynamo.Catalog{Table: f.table}).Group(context.Background(), "wrC1"); g.MemberCount != 2 {
		t.Fatalf("member count %d after add_member of two, want 2", g.MemberCount)
	}
	for _, id := range []string{"wm1", "wm2"} {
		m, found, _ := dynamo.Catalog{Table: f.table}.Member(context.Background(), "wrC1", id)
		if !found || m.JoinScene != 3 {
			t.Fatalf("member %s: %+v %v", id, m, found)
		}
	}
	post(fmt.Sprintf(`<xml><ToUserName>%s</ToUserName><FromUserName>sys</FromUserName><CreateTime>%d</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>wrC1</ChatId><ChangeType>update</ChangeType><UpdateDetail>del_member</UpdateDetail><QuitScene>1</QuitScene><MemChangeList><Item>wm2</Item></MemChangeList></xml>`, acct.CorpID, f.clock.Now().Unix()+5))
	if m, _, _ := (dynamo.Catalog{Table: f.table}).Member(context.Background(), "wrC1", "wm2"); m.Active() || m.QuitScene != 1 {
		t.Fatalf("left member %+v", m)
	}
	if g, _, _ := (dynamo.Catalog{Table: f.table}).Group(context.Background(), "wrC1"); g.MemberCount != 1 {
		t.Fatalf("member count %d after two joins and a leave, want 1", g.MemberCount)
	}
	post(fmt.Sprintf(`<xml><ToUserName>%s</ToUserName><FromUserName>sys</FromUserName><CreateTime>%d</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>wrC1</ChatId><ChangeType>update</ChangeType><UpdateDetail>change_name</UpdateDetail></xml>`, acct.CorpID, f.clock.Now().Unix()+6))
	post(fmt.Sprintf(`<xml><ToUserName>%s</ToUserName><FromUserName>sys</FromUserName><CreateTime>%d</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>wrC1</ChatId><ChangeType>dismiss</ChangeType></xml>`, acct.CorpID, f.clock.Now().Unix()+7))
	if g, _, _ := (dynamo.Catalog{Table: f.table}).Group(context.Background(), "wrC1"); g.State != qunyun.GroupDismissed {
		t.Fatalf("group %+v", g)
	}
	if n := f.countSK("EVT#"); n != 5 {
		t.Fatalf("%d events, want 5", n)
	}
}

// The smart bot: an @bot check-in in a group is answered with a sealed
// stream reply that opens with the bot's key; enter_chat gets the welcome.
func TestBotReplies(t *testing.T) {
	f := newFixture(t, nil)
	if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(context.Background(), qunyun.CheckinRule{ID: "c", AccountID: "bot"}); err != nil {
		t.Fatal(err)
	}
	acct := account("bot")
	c, _ := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, "")
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	open := func(body string) map[string]any {
		t.Helper()
		var env struct {
			Encrypt      string `json:"encrypt"`
			MsgSignature string `json:"msgsignature"`
			TimeStamp    int64  `json:"timestamp"`
			Nonce        string `json:"nonce"`
		}
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			t.Fatalf("reply %q: %v", body, err)
		}
		plain, err := c.Open(env.MsgSignature, strconv.FormatInt(env.TimeStamp, 10), env.Nonce, env.Encrypt)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(plain, &m)
		return m
	}
	for i := 0; i < 2; i++ { // the retry gets the same answer, counted once
		q, enc := encryptedPost(t, acct, ts, `{"msgid":"b1","aibotid":"x","chatid":"wrG","chattype":"group","from":{"userid":"u1"},"msgtype":"text","text":{"content":"@助手 打卡"}}`)
		r := f.do("POST", "bot", q, `{"encrypt":"`+enc+`"}`, nil)
		m := open(r.Body)
		stream, _ := m["stream"].(map[string]any)
		if m["msgtype"] != "stream" || stream["finish"] != true || stream["content"] == "" {
			t.Fatalf("reply %v", m)
		}
		if i == 0 && !contains(stream["content"].(string), "连续打卡 1 天") {
			t.Fatalf("check-in reply %q", stream["content"])
		}
	}
	if n := f.countSK("MSG#"); n != 1 {
		t.Fatalf("%d messages", n)
	}
	q, enc := encryptedPost(t, acct, ts, `{"msgid":"e1","aibotid":"x","chattype":"single","from":{"userid":"u1"},"msgtype":"event","event":{"eventtype":"enter_chat"}}`)
	m := open(f.do("POST", "bot", q, `{"encrypt":"`+enc+`"}`, nil).Body)
	if m["msgtype"] != "text" {
		t.Fatalf("welcome %v", m)
	}
}

func contains(s, sub string) bool { return indexOf(s, sub) >= 0 }

// A click menu item answers with the keyword rule of its key.
func TestMenuClickReply(t *testing.T) {
	f := newFixture(t, nil)
	if err := (dynamo.Catalog{Table: f.table}).PutKeywordRule(context.Background(), qunyun.KeywordRule{ID: "m", AccountID: "oa-doc", Match: "exact", Keywords: []string{"MENU_TODAY"}, Reply: "今日推荐"}); err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	r := f.oa("oa-doc", ts, `<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>`+ts+`</CreateTime><MsgType>event</MsgType><Event>CLICK</Event><EventKey>MENU_TODAY</EventKey></xml>`)
	// oa-doc is in safe mode: the reply is sealed with its key.
	env, err := wechat.ParseEnvelopeXML([]byte(r.Body))
	if err != nil {
		t.Fatalf("%d %q: %v", r.StatusCode, r.Body, err)
	}
	c, _ := wechat.NewCrypto("AAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "wx134c8103faa5a59e")
	plain, err := c.Open(between(r.Body, "<MsgSignature><![CDATA[", "]]></MsgSignature>"), between(r.Body, "<TimeStamp>", "</TimeStamp>"),
		between(r.Body, "<Nonce><![CDATA[", "]]></Nonce>"), env.Encrypt)
	if err != nil {
		t.Fatalf("reply does not open: %v", err)
	}
	if m := textReply(t, plain); m.MsgType != "text" || m.Content != "今日推荐" || m.FromUserName != "gh" || m.ToUserName != "o1" {
		t.Fatalf("reply %+v", m)
	}
}
