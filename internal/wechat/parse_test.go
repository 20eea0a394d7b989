package wechat_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/wechat"
)

const oaHead = `<ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1409735668</CreateTime>`

func oaXML(inner string) []byte { return []byte("<xml>" + oaHead + inner + "</xml>") }

func TestParseOA(t *testing.T) {
	h := func(msgType string) wechat.OAHeader {
		return wechat.OAHeader{ToUserName: "gh_10f6c3c3ac5a", FromUserName: "oUser", CreateTime: 1409735668, MsgType: msgType}
	}
	tests := []struct {
		name    string
		xml     []byte
		want    wechat.Inbound
		wantKey string
	}{
		{"text", oaXML(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>6054768590064713728</MsgId><MsgDataId>1</MsgDataId><Idx>2</Idx>`),
			&wechat.OAText{OAHeader: h("text"), Content: "你好", MsgID: "6054768590064713728", MsgDataID: "1", Idx: "2"}, "6054768590064713728"},
		{"image", oaXML(`<MsgType>image</MsgType><PicUrl>http://p/1.jpg</PicUrl><MediaId>m1</MediaId><MsgId>11</MsgId>`),
			&wechat.OAImage{OAHeader: h("image"), PicURL: "http://p/1.jpg", MediaID: "m1", MsgID: "11"}, "11"},
		{"voice", oaXML(`<MsgType>voice</MsgType><MediaId>m2</MediaId><Format>amr</Format><Recognition>你好</Recognition><MsgId>12</MsgId>`),
			&wechat.OAVoice{OAHeader: h("voice"), MediaID: "m2", Format: "amr", Recognition: "你好", MsgID: "12"}, "12"},
		{"video", oaXML(`<MsgType>video</MsgType><MediaId>m3</MediaId><ThumbMediaId>t3</ThumbMediaId><MsgId>13</MsgId>`),
			&wechat.OAVideo{OAHeader: h("video"), MediaID: "m3", ThumbMediaID: "t3", MsgID: "13"}, "13"},
		{"shortvideo", oaXML(`<MsgType>shortvideo</MsgType><MediaId>m4</MediaId><ThumbMediaId>t4</ThumbMediaId><MsgId>14</MsgId>`),
			&wechat.OAVideo{OAHeader: h("shortvideo"), MediaID: "m4", ThumbMediaID: "t4", MsgID: "14"}, "14"},
		{"location", oaXML(`<MsgType>location</MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>15</MsgId>`),
			&wechat.OALocation{OAHeader: h("location"), Latitude: 23.134521, Longitude: 113.358803, Scale: 20, Label: "位置信息", MsgID: "15"}, "15"},
		{"link", oaXML(`<MsgType>link</MsgType><Title>t</Title><Description>d</Description><Url>http://u</Url><MsgId>16</MsgId>`),
			&wechat.OALink{OAHeader: h("link"), Title: "t", Description: "d", URL: "http://u", MsgID: "16"}, "16"},
		{"MsgID spelling on a message", oaXML(`<MsgType>text</MsgType><Content>x</Content><MsgID>17</MsgID>`),
			&wechat.OAText{OAHeader: h("text"), Content: "x", MsgID: "17"}, "17"},
		{"subscribe", oaXML(`<MsgType>event</MsgType><Event>subscribe</Event>`),
			&wechat.OASubscribe{OAHeader: h("event")}, "oUser:1409735668"},
		{"subscribe by QR", oaXML(`<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_123</EventKey><Ticket>TK</Ticket>`),
			&wechat.OASubscribe{OAHeader: h("event"), EventKey: "qrscene_123", Ticket: "TK"}, "oUser:1409735668"},
		{"unsubscribe", oaXML(`<MsgType>event</MsgType><Event>unsubscribe</Event>`),
			&wechat.OAUnsubscribe{OAHeader: h("event")}, "oUser:1409735668"},
		{"SCAN", oaXML(`<MsgType>event</MsgType><Event>SCAN</Event><EventKey>123</EventKey><Ticket>TK</Ticket>`),
			&wechat.OAScan{OAHeader: h("event"), EventKey: "123", Ticket: "TK"}, "oUser:1409735668"},
		{"CLICK", oaXML(`<MsgType>event</MsgType><Event>CLICK</Event><EventKey>menu_1</EventKey>`),
			&wechat.OAClick{OAHeader: h("event"), EventKey: "menu_1"}, "oUser:1409735668"},
		{"VIEW", oaXML(`<MsgType>event</MsgType><Event>VIEW</Event><EventKey>http://v</EventKey><MenuId>9</MenuId>`),
			&wechat.OAView{OAHeader: h("event"), EventKey: "http://v", MenuID: "9"}, "oUser:1409735668"},
		{"TEMPLATESENDJOBFINISH reads MsgID", oaXML(`<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><MsgID>200163836</MsgID><Status>success</Status>`),
			&wechat.OATemplateSendJobFinish{OAHeader: h("event"), MsgID: "200163836", Status: "success"}, "oUser:1409735668"},
		{"MASSSENDJOBFINISH reads MsgID", oaXML(`<MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>1988</MsgID><Status>send success</Status><TotalCount>100</TotalCount><FilterCount>80</FilterCount><SentCount>75</SentCount><ErrorCount>5</ErrorCount>`),
			&wechat.OAMassSendJobFinish{OAHeader: h("event"), MsgID: "1988", Status: "send success", TotalCount: 100, FilterCount: 80, SentCount: 75, ErrorCount: 5}, "oUser:1409735668"},
		{"unknown event", oaXML(`<MsgType>event</MsgType><Event>LOCATION</Event>`),
			&wechat.OAOther{OAHeader: h("event"), Event: "LOCATION"}, "oUser:1409735668"},
		{"unknown message", oaXML(`<MsgType>miniprogrampage</MsgType><MsgId>18</MsgId>`),
			&wechat.OAOther{OAHeader: h("miniprogrampage"), MsgID: "18"}, "18"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wechat.ParseOA(tt.xml)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseOA =\n%#v\nwant\n%#v", got, tt.want)
			}
			if got.Channel() != wechat.ChannelOA {
				t.Errorf("Channel = %s", got.Channel())
			}
			key, err := wechat.IdempotencyKey(got)
			if err != nil || key != tt.wantKey {
				t.Errorf("IdempotencyKey = %q, %v; want %q", key, err, tt.wantKey)
			}
		})
	}
}

func TestOASubscribeScene(t *testing.T) {
	for key, want := range map[string]string{"qrscene_123": "123", "": "", "123": "", "qrscene_": ""} {
		if got := (&wechat.OASubscribe{EventKey: key}).Scene(); got != want {
			t.Errorf("Scene(%q) = %q, want %q", key, got, want)
		}
	}
}

// The vectors' decrypted plaintexts parse, byte for byte as given.
func TestParseVectorPlaintexts(t *testing.T) {
	in, err := wechat.ParseOA([]byte(vectorByName(t, "oa_cpp_sample_spamtest").ExpectMsg))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := in.(*wechat.OAText); !ok || m.Content != "abcdteT" || m.MsgID != "6057404712141979648" {
		t.Errorf("oa_cpp_sample_spamtest: %#v", in)
	}
	in, err = wechat.ParseWeCom([]byte(vectorByName(t, "wecom_xml_decrypt_QDG6eK").ExpectMsg))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := in.(*wechat.WeComText); !ok || m.Content != "hello" || m.MsgID != "4561255354251345929" || m.AgentID != "218" {
		t.Errorf("wecom_xml_decrypt_QDG6eK: %#v", in)
	}
	in, err = wechat.ParseWeCom([]byte(vectorByName(t, "wecom_xml_decrypt_hJqcu3").ExpectMsg))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := in.(*wechat.WeComText); !ok || m.Content != "你好" || m.FromUserName != "ChenJiaShun" || m.AgentID != "1000002" {
		t.Errorf("wecom_xml_decrypt_hJqcu3: %#v", in)
	}
	in, err = wechat.ParseOA([]byte(vectorByName(t, "oa_doc_safe_mode_AAAAA").ExpectMsg))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := in.(*wechat.OAOther); !ok || m.Event != "debug_demo" {
		t.Errorf("oa_doc_safe_mode_AAAAA: %#v", in)
	}
	bot, err := wechat.ParseBot([]byte(vectorByName(t, "self_generated_empty_receiveid").Plaintext))
	if err != nil || bot.MsgID != "TESTMSGID" || bot.Content() != "@RobotA hello" {
		t.Errorf("self_generated_empty_receiveid: %#v, %v", bot, err)
	}
}

func TestParseXMLRejects(t *testing.T) {
	full := string(oaXML(`<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId>`))
	tests := []struct {
		name string
		xml  string
		want error
	}{
		{"empty", "", wechat.ErrXML},
		{"truncated", full[:len(full)/2], wechat.ErrXML},
		{"truncated before root end", strings.TrimSuffix(full, "</xml>"), wechat.ErrXML},
		{"wrong root", "<root><MsgType>text</MsgType><FromUserName>u</FromUserName></root>", wechat.ErrXML},
		{"not XML", "{\"msgtype\":\"text\"}", wechat.ErrXML},
		{"bad CreateTime", "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>yesterday</CreateTime></xml>", wechat.ErrXML},
		{"foreign charset", `<?xml version="1.0" encoding="GBK"?><xml><FromUserName>u</FromUserName><MsgType>text</MsgType></xml>`, wechat.ErrXML},
		{"no MsgType", "<xml><FromUserName>u</FromUserName></xml>", wechat.ErrMissingField},
		{"no FromUserName", "<xml><MsgType>text</MsgType></xml>", wechat.ErrMissingField},
		{"too large", "<xml>" + strings.Repeat(" ", wechat.MaxBodySize) + "</xml>", wechat.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := wechat.ParseOA([]byte(tt.xml)); !errors.Is(err, tt.want) {
				t.Errorf("ParseOA = %v, want %v", err, tt.want)
			}
			if _, err := wechat.ParseWeCom([]byte(tt.xml)); !errors.Is(err, tt.want) {
				t.Errorf("ParseWeCom = %v, want %v", err, tt.want)
			}
		})
	}
}

// An OA message's key is its MsgId; one without is refused, not keyed by a
// guess (FromUserName:CreateTime would merge two messages of one second).
func TestOAMessageWithoutMsgIDRefused(t *testing.T) {
	for _, typ := range []string{"text", "image", "voice", "video", "shortvideo", "location", "link"} {
		_, err := wechat.ParseOA(oaXML(`<MsgType>` + typ + `</MsgType><Content>x</Content>`))
		if !errors.Is(err, wechat.ErrMissingField) {
			t.Errorf("%s without MsgId: %v, want ErrMissingField", typ, err)
		}
	}
	if _, err := wechat.IdempotencyKey(&wechat.OAText{OAHeader: wechat.OAHeader{FromUserName: "u", CreateTime: 1, MsgType: "text"}}); !errors.Is(err, wechat.ErrNoKey) {
		t.Errorf("IdempotencyKey of a text without MsgId: %v, want ErrNoKey", err)
	}
}
