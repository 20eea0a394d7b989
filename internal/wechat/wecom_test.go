package wechat_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/wechat"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParseWeCom(t *testing.T) {
	sysHead := `<ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType>`
	userHead := `<ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>zhangsan</FromUserName><CreateTime>1403610513</CreateTime><AgentID>1000002</AgentID>`
	h := func(plain, from, msgType, agent string) wechat.WeComHeader {
		return wechat.WeComHeader{ToUserName: "ww1436e0e65a779aee", FromUserName: from, CreateTime: 1403610513,
			MsgType: msgType, AgentID: agent, PlainSHA256: sha(plain)}
	}
	sys := func(inner string) string { return "<xml>" + sysHead + inner + "</xml>" }
	user := func(inner string) string { return "<xml>" + userHead + inner + "</xml>" }

	var (
		create    = sys(`<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA]]></ChatId><ChangeType><![CDATA[create]]></ChangeType>`)
		addMember = sys(`<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[CHAT]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>3</JoinScene><MemChangeCnt>2</MemChangeCnt><MemChangeList><Item><![CDATA[wmA]]></Item><Item><![CDATA[wmB]]></Item></MemChangeList><LastMemVer><![CDATA[v1]]></LastMemVer><CurMemVer><![CDATA[v2]]></CurMemVer>`)
		delMember = sys(`<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[CHAT]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[del_member]]></UpdateDetail><QuitScene>1</QuitScene><MemChangeCnt>1</MemChangeCnt><MemChangeList><Item><![CDATA[wmA]]></Item></MemChangeList>`)
		rename    = sys(`<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[CHAT]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[change_name]]></UpdateDetail>`)
		dismiss   = sys(`<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[CHAT]]></ChatId><ChangeType><![CDATA[dismiss]]></ChangeType>`)
		addCust   = sys(`<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA]]></ExternalUserID><State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>`)
		delCust   = sys(`<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[del_external_contact]]></ChangeType><UserID>zhangsan</UserID><ExternalUserID>woA</ExternalUserID><Source>DELETE_BY_TRANSFER</Source>`)
		failCust  = sys(`<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[transfer_fail]]></ChangeType><FailReason>customer_refused</FailReason><UserID>zhangsan</UserID><ExternalUserID>woA</ExternalUserID>`)
		enter     = user(`<MsgType>event</MsgType><Event>enter_agent</Event><EventKey></EventKey>`)
		text      = user(`<MsgType>text</MsgType><Content>hi</Content><MsgId>77</MsgId>`)
		image     = user(`<MsgType>image</MsgType><PicUrl>http://p</PicUrl><MediaId>m</MediaId><MsgId>78</MsgId>`)
		voice     = user(`<MsgType>voice</MsgType><MediaId>v</MediaId><MsgId>79</MsgId>`)
		link      = user(`<MsgType>link</MsgType><Title>好文</Title><Description>摘要</Description><Url>https://blog.example.com/a</Url><PicUrl>http://p</PicUrl><MsgId>80</MsgId>`)
	)
	tests := []struct {
		name    string
		xml     string
		want    wechat.Inbound
		wantKey string
	}{
		{"group created", create, &wechat.WeComExternalChat{WeComHeader: h(create, "sys", "event", ""),
			ChatID: "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA", ChangeType: wechat.ChatCreate}, sha(create)},
		{"member joined by QR", addMember, &wechat.WeComExternalChat{WeComHeader: h(addMember, "sys", "event", ""),
			ChatID: "CHAT", ChangeType: wechat.ChatUpdate, UpdateDetail: wechat.DetailAddMember, JoinScene: wechat.JoinByQRCode,
			MemChangeCnt: 2, MemChangeList: []string{"wmA", "wmB"}, LastMemVer: "v1", CurMemVer: "v2"}, sha(addMember)},
		{"member removed", delMember, &wechat.WeComExternalChat{WeComHeader: h(delMember, "sys", "event", ""),
			ChatID: "CHAT", ChangeType: wechat.ChatUpdate, UpdateDetail: wechat.DetailDelMember, QuitScene: wechat.QuitRemoved,
			MemChangeCnt: 1, MemChangeList: []string{"wmA"}}, sha(delMember)},
		{"renamed", rename, &wechat.WeComExternalChat{WeComHeader: h(rename, "sys", "event", ""),
			ChatID: "CHAT", ChangeType: wechat.ChatUpdate, UpdateDetail: wechat.DetailChangeName}, sha(rename)},
		{"dismissed", dismiss, &wechat.WeComExternalChat{WeComHeader: h(dismiss, "sys", "event", ""),
			ChatID: "CHAT", ChangeType: wechat.ChatDismiss}, sha(dismiss)},
		{"customer added", addCust, &wechat.WeComExternalContact{WeComHeader: h(addCust, "sys", "event", ""),
			ChangeType: wechat.ContactAdd, UserID: "zhangsan", ExternalUserID: "woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA",
			State: "teststate", WelcomeCode: "WELCOMECODE"}, sha(addCust)},
		{"customer deleted", delCust, &wechat.WeComExternalContact{WeComHeader: h(delCust, "sys", "event", ""),
			ChangeType: wechat.ContactDel, UserID: "zhangsan", ExternalUserID: "woA", Source: "DELETE_BY_TRANSFER"}, sha(delCust)},
		{"transfer failed", failCust, &wechat.WeComExternalContact{WeComHeader: h(failCust, "sys", "event", ""),
			ChangeType: wechat.ContactTransferFail, UserID: "zhangsan", ExternalUserID: "woA", FailReason: "customer_refused"}, sha(failCust)},
		{"other event", enter, &wechat.WeComEvent{WeComHeader: h(enter, "zhangsan", "event", "1000002"), Event: "enter_agent"}, sha(enter)},
		{"text", text, &wechat.WeComText{WeComHeader: h(text, "zhangsan", "text", "1000002"), MsgID: "77", Content: "hi"}, "77"},
		{"image", image, &wechat.WeComImage{WeComHeader: h(image, "zhangsan", "image", "1000002"), MsgID: "78", PicURL: "http://p", MediaID: "m"}, "78"},
		{"voice", voice, &wechat.WeComMessage{WeComHeader: h(voice, "zhangsan", "voice", "1000002"), MsgID: "79", MediaID: "v"}, "79"},
		{"link", link, &wechat.WeComMessage{WeComHeader: h(link, "zhangsan", "link", "1000002"), MsgID: "80",
			Title: "好文", Description: "摘要", URL: "https://blog.example.com/a"}, "80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wechat.ParseWeCom([]byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseWeCom =\n%#v\nwant\n%#v", got, tt.want)
			}
			if got.Channel() != wechat.ChannelWeCom {
				t.Errorf("Channel = %s", got.Channel())
			}
			key, err := wechat.IdempotencyKey(got)
			if err != nil || key != tt.wantKey {
				t.Errorf("IdempotencyKey = %q, %v; want %q", key, err, tt.wantKey)
			}
		})
	}
}

// Two system events in the same second from "sys" differ only in their
// bodies; their keys must differ too.
func TestWeComSystemEventKeysDiffer(t *testing.T) {
	a := `<xml><FromUserName>sys</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>A</ChatId><ChangeType>dismiss</ChangeType></xml>`
	b := strings.Replace(a, "<ChatId>A", "<ChatId>B", 1)
	ia, _ := wechat.ParseWeCom([]byte(a))
	ib, _ := wechat.ParseWeCom([]byte(b))
	ka, _ := wechat.IdempotencyKey(ia)
	kb, _ := wechat.IdempotencyKey(ib)
	if ka == "" || ka == kb {
		t.Errorf("keys %q and %q", ka, kb)
	}
}

func TestParseBot(t *testing.T) {
	tests := []struct {
		name        string
		json        string
		wantType    string
		wantContent string
		check       func(*wechat.BotMessage) bool
	}{
		{"group text",
			`{"msgid":"CAIQ16HMjQYY","aibotid":"AIBOT","chatid":"CHAT","chattype":"group","from":{"userid":"zhangsan"},"response_url":"https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=RC","msgtype":"text","text":{"content":"@RobotA 今天几点开始"}}`,
			"text", "@RobotA 今天几点开始",
			func(m *wechat.BotMessage) bool {
				return m.ChatID == "CHAT" && m.ChatType == "group" && m.From.UserID == "zhangsan" && strings.HasSuffix(m.ResponseURL, "RC") && m.AIBotID == "AIBOT"
			}},
		{"mixed with quote",
			`{"msgid":"M2","aibotid":"A","chattype":"group","from":{"userid":"u"},"msgtype":"mixed","mixed":{"msg_item":[{"msgtype":"text","text":{"content":"@RobotA look"}},{"msgtype":"image","image":{"url":"https://i"}},{"msgtype":"text","text":{"content":"here"}}]},"quote":{"msgtype":"text","text":{"content":"earlier"}}}`,
			"mixed", "@RobotA look\nhere",
			func(m *wechat.BotMessage) bool {
				return len(m.Mixed.Items) == 3 && m.Mixed.Items[1].Image.URL == "https://i" && m.Quote.Text.Content == "earlier"
			}},
		{"voice", `{"msgid":"M3","msgtype":"voice","voice":{"content":"transcript"}}`, "voice", "transcript", nil},
		{"image", `{"msgid":"M4","msgtype":"image","image":{"url":"https://i"}}`, "image", "", func(m *wechat.BotMessage) bool { return m.Image.URL == "https://i" }},
		{"file", `{"msgid":"M5","msgtype":"file","file":{"url":"https://f"}}`, "file", "", func(m *wechat.BotMessage) bool { return m.File.URL == "https://f" }},
		{"stream refresh", `{"msgid":"M6","msgtype":"stream","stream":{"id":"S1"}}`, "stream", "", func(m *wechat.BotMessage) bool { return m.Stream.ID == "S1" }},
		{"event", `{"msgid":"M7","msgtype":"event","event":{"eventtype":"enter_chat"}}`, "event", "", func(m *wechat.BotMessage) bool { return m.Event.EventType == "enter_chat" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := wechat.ParseBot([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if m.MsgType != tt.wantType || m.Content() != tt.wantContent || (tt.check != nil && !tt.check(m)) {
				t.Errorf("ParseBot = %+v, Content %q", m, m.Content())
			}
			if m.Channel() != wechat.ChannelWeComBot {
				t.Errorf("Channel = %s", m.Channel())
			}
			if key, err := wechat.IdempotencyKey(m); err != nil || key != m.MsgID {
				t.Errorf("IdempotencyKey = %q, %v", key, err)
			}
		})
	}
}

func TestParseBotRejects(t *testing.T) {
	tests := []struct {
		name, json string
		want       error
	}{
		{"empty", ``, wechat.ErrJSON},
		{"truncated", `{"msgid":"M1","msgtype":"te`, wechat.ErrJSON},
		{"msgid as number", `{"msgid":1,"msgtype":"text"}`, wechat.ErrJSON},
		{"trailing garbage", `{"msgid":"M1","msgtype":"text"} x`, wechat.ErrJSON},
		{"no msgid", `{"msgtype":"text"}`, wechat.ErrMissingField},
		{"no msgtype", `{"msgid":"M1"}`, wechat.ErrMissingField},
		// encoding/json would store U+FFFD in the bytes' place; XML refuses them.
		{"invalid UTF-8", "{\"msgid\":\"M1\",\"msgtype\":\"text\",\"text\":{\"content\":\"打卡\xff\"}}", wechat.ErrJSON},
		{"too large", `"` + strings.Repeat("a", wechat.MaxBodySize) + `"`, wechat.ErrTooLarge},
		// The official JSON sample's plaintext is malformed on purpose.
		{"official malformed sample", vectorByName(t, "wecom_json_decrypt_hJqcu3").ExpectMsg, wechat.ErrJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := wechat.ParseBot([]byte(tt.json)); !errors.Is(err, tt.want) {
				t.Errorf("ParseBot = %v, want %v", err, tt.want)
			}
		})
	}
}

type otherInbound struct{}

func (otherInbound) Channel() wechat.Channel { return "other" }

func TestIdempotencyKeyNoKey(t *testing.T) {
	for _, in := range []wechat.Inbound{otherInbound{}, &wechat.BotMessage{}, &wechat.RelayEvent{}, &wechat.OASubscribe{}, &wechat.WeComEvent{}} {
		if key, err := wechat.IdempotencyKey(in); !errors.Is(err, wechat.ErrNoKey) {
			t.Errorf("IdempotencyKey(%#v) = %q, %v", in, key, err)
		}
	}
}

func TestWeComMessageWithoutMsgIDFallsBack(t *testing.T) {
	plain := `<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>`
	in, err := wechat.ParseWeCom([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	if key, err := wechat.IdempotencyKey(in); err != nil || key != sha(plain) {
		t.Errorf("IdempotencyKey = %q, %v", key, err)
	}
}

func TestVerifyURLRejects(t *testing.T) {
	v := vectorByName(t, "wecom_verifyurl_hJqcu3")
	c := mustCrypto(t, v.Token, v.EncodingAESKey, v.ReceiveID)
	if _, err := c.VerifyURL(v.MsgSignature, v.Timestamp, "other-nonce", v.Encrypt); !errors.Is(err, wechat.ErrSignature) {
		t.Errorf("VerifyURL = %v", err)
	}
}
