package wechat_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/wechat"
)

func TestParseEnvelopeXML(t *testing.T) {
	v := vectorByName(t, "oa_cpp_sample_spamtest")
	tests := []struct {
		name string
		body string
		want wechat.Envelope
		err  error
	}{
		{"OA safe mode", `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[` + v.Encrypt + `]]></Encrypt></xml>`,
			wechat.Envelope{ToUserName: "gh_10f6c3c3ac5a", Encrypt: v.Encrypt}, nil},
		{"WeCom", `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[abc+/=]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`,
			wechat.Envelope{ToUserName: "wx5823bf96d3bd56c7", AgentID: "218", Encrypt: "abc+/="}, nil},
		{"OA compatible mode", string(oaXML(`<MsgType>text</MsgType><Content>x</Content><Encrypt>E</Encrypt>`)),
			wechat.Envelope{ToUserName: "gh_10f6c3c3ac5a", Encrypt: "E"}, nil},
		{"Encrypt kept untrimmed", "<xml><Encrypt> E\n</Encrypt></xml>", wechat.Envelope{Encrypt: " E\n"}, nil},
		{"plaintext mode body", string(oaXML(`<MsgType>text</MsgType>`)), wechat.Envelope{}, wechat.ErrMissingField},
		{"truncated", `<xml><ToUserName>gh</ToUserName><Encrypt>abc`, wechat.Envelope{}, wechat.ErrXML},
		{"empty", ``, wechat.Envelope{}, wechat.ErrXML},
		{"too large", strings.Repeat(" ", wechat.MaxBodySize+1), wechat.Envelope{}, wechat.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wechat.ParseEnvelopeXML([]byte(tt.body))
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("ParseEnvelopeXML = %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseEnvelopeJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		want wechat.Envelope
		err  error
	}{
		{"smart bot", `{"encrypt":"abc"}`, wechat.Envelope{Encrypt: "abc"}, nil},
		{"WeCom JSON sample", `{"tousername":"wx5823bf96d3bd56c7","encrypt":"E","agentid":"218"}`,
			wechat.Envelope{ToUserName: "wx5823bf96d3bd56c7", AgentID: "218", Encrypt: "E"}, nil},
		{"numeric agentid", `{"encrypt":"E","agentid":218}`, wechat.Envelope{AgentID: "218", Encrypt: "E"}, nil},
		{"odd agentid", `{"encrypt":"E","agentid":[1]}`, wechat.Envelope{Encrypt: "E"}, nil},
		{"no encrypt", `{"tousername":"x"}`, wechat.Envelope{}, wechat.ErrMissingField},
		{"encrypt not a string", `{"encrypt":1}`, wechat.Envelope{}, wechat.ErrJSON},
		{"XML", `<xml/>`, wechat.Envelope{}, wechat.ErrJSON},
		{"too large", strings.Repeat(" ", wechat.MaxBodySize+1), wechat.Envelope{}, wechat.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wechat.ParseEnvelopeJSON([]byte(tt.body))
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("ParseEnvelopeJSON = %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestEncryptedReply(t *testing.T) {
	v := vectorByName(t, "oa_doc_safe_mode_reply_AAAAA")
	c := mustCrypto(t, v.Token, v.EncodingAESKey, v.ReceiveID)
	r, err := c.Seal([]byte(v.Plaintext), v.Timestamp, v.Nonce, strings.NewReader(v.Random))
	if err != nil {
		t.Fatal(err)
	}
	wantXML := `<xml><Encrypt><![CDATA[` + v.ExpectEncrypt + `]]></Encrypt><MsgSignature><![CDATA[` + v.ExpectMsgSignature +
		`]]></MsgSignature><TimeStamp>` + v.Timestamp + `</TimeStamp><Nonce><![CDATA[` + v.Nonce + `]]></Nonce></xml>`
	if got := string(r.XML()); got != wantXML {
		t.Errorf("XML =\n%s\nwant\n%s", got, wantXML)
	}
	// What WeChat does with it: read the envelope, verify, decrypt.
	var env struct {
		Encrypt, MsgSignature, TimeStamp, Nonce string
	}
	if err := xml.Unmarshal(r.XML(), &env); err != nil {
		t.Fatal(err)
	}
	if msg, err := c.Open(env.MsgSignature, env.TimeStamp, env.Nonce, env.Encrypt); err != nil || string(msg) != v.Plaintext {
		t.Errorf("Open(reply) = %q, %v", msg, err)
	}

	wantJSON := `{"encrypt":"` + v.ExpectEncrypt + `","msgsignature":"` + v.ExpectMsgSignature + `","timestamp":` + v.Timestamp + `,"nonce":"` + v.Nonce + `"}`
	if got := string(r.JSON()); got != wantJSON {
		t.Errorf("JSON =\n%s\nwant\n%s", got, wantJSON)
	}
	r.TimeStamp = "not-a-number"
	var j map[string]any
	if err := json.Unmarshal(r.JSON(), &j); err != nil || j["timestamp"] != "not-a-number" {
		t.Errorf("JSON with a text timestamp = %v, %v", j, err)
	}
}

func TestTextReply(t *testing.T) {
	tests := []struct {
		name, content, wantContent string
	}{
		{"plain", "你好\n第二行", "<Content><![CDATA[你好\n第二行]]></Content>"},
		{"CDATA terminator split", "a]]>b", "<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>"},
		{"control characters replaced", "a\x00b\x1bc", "<Content><![CDATA[a\uFFFDb\uFFFDc]]></Content>"},
		{"invalid UTF-8 replaced", "a\xffb", "<Content><![CDATA[a\uFFFDb]]></Content>"},
		{"supplementary plane kept", "赞\U0001F44D", "<Content><![CDATA[赞\U0001F44D]]></Content>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wechat.TextReply{ToUserName: "oUser", FromUserName: "gh_1", CreateTime: 1700000000, Content: tt.content}
			got := string(r.XML())
			want := `<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>` + tt.wantContent + `</xml>`
			if got != want {
				t.Errorf("XML =\n%s\nwant\n%s", got, want)
			}
			var back struct{ Content string }
			if err := xml.Unmarshal([]byte(got), &back); err != nil {
				t.Fatalf("reply is not well-formed: %v", err)
			}
			if tt.name == "CDATA terminator split" && back.Content != tt.content {
				t.Errorf("round trip = %q", back.Content)
			}
		})
	}
}

func TestNewsReply(t *testing.T) {
	r := wechat.NewsReply{ToUserName: "oUser", FromUserName: "gh_1", CreateTime: 1700000000,
		Articles: []wechat.Article{{Title: "标题", Description: "d & e", PicURL: "https://p/1.jpg", URL: "https://a/?x=1&y=2"}}}
	got, err := r.XML()
	if err != nil {
		t.Fatal(err)
	}
	want := `<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[news]]></MsgType>` +
		`<ArticleCount>1</ArticleCount><Articles><item><Title><![CDATA[标题]]></Title><Description><![CDATA[d & e]]></Description><PicUrl><![CDATA[https://p/1.jpg]]></PicUrl><Url><![CDATA[https://a/?x=1&y=2]]></Url></item></Articles></xml>`
	if string(got) != want {
		t.Errorf("XML =\n%s\nwant\n%s", got, want)
	}
	for _, n := range []int{0, wechat.MaxNewsArticles + 1} {
		r.Articles = make([]wechat.Article, n)
		if _, err := r.XML(); !errors.Is(err, wechat.ErrInvalid) {
			t.Errorf("%d articles: %v", n, err)
		}
	}
}

// A passive reply in safe mode: build, seal, and the result opens to the reply.
func TestSealedTextReply(t *testing.T) {
	c := mustCrypto(t, testToken, testKey, testAppID)
	plain := wechat.TextReply{ToUserName: "oUser", FromUserName: "gh_1", CreateTime: 1, Content: "收到"}.XML()
	r, err := c.Seal(plain, "1700000000", "nonce", nil)
	if err != nil {
		t.Fatal(err)
	}
	env, err := wechat.ParseEnvelopeXML(r.XML())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := c.Open(r.MsgSignature, r.TimeStamp, r.Nonce, env.Encrypt)
	if err != nil || string(msg) != string(plain) {
		t.Errorf("Open = %q, %v", msg, err)
	}
}
