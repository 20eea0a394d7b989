package callback_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// Official vectors flow through the handler: URL verification for OA and
// WeCom, OA POST in plaintext, compatible and safe mode, WeCom XML.
func TestVerifyURLVectors(t *testing.T) {
	f := newFixture(t, nil)
	v := loadVector(t, "oa_doc_get_verify_AAAAA")
	f.setTime(v.Timestamp)
	resp := f.do("GET", "oa-doc", url.Values{"signature": {v.ExpectSignature}, "timestamp": {v.Timestamp}, "nonce": {"1514711492"}, "echostr": {v.Echostr}}, "", nil)
	if resp.StatusCode != 200 || resp.Body != v.Echostr {
		t.Fatalf("OA verify: %d %q", resp.StatusCode, resp.Body)
	}
	for _, tc := range []struct{ vec, acct string }{{"wecom_xml_verifyurl_QDG6eK", "wecom-qdg"}, {"wecom_verifyurl_hJqcu3", "wecom-hj"}} {
		v := loadVector(t, tc.vec)
		f.setTime(v.Timestamp)
		// WeChat may leave '+' unescaped: send it raw, as a space would arrive.
		raw := "msg_signature=" + v.MsgSignature + "&timestamp=" + v.Timestamp + "&nonce=" + v.Nonce + "&echostr=" + v.Encrypt
		req := url.Values{}
		q, _ := url.ParseQuery(raw)
		for k, vs := range q {
			req[k] = vs
		}
		resp := f.do("GET", tc.acct, req, "", nil)
		if resp.StatusCode != 200 || resp.Body != v.ExpectMsg {
			t.Fatalf("%s: %d %q, want %q", tc.vec, resp.StatusCode, resp.Body, v.ExpectMsg)
		}
	}
	if n := len(f.items()); n != 0 {
		t.Fatalf("verification wrote %d items", n)
	}
}

func TestOAPostVectors(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct{ vec, acct, mode string }{
		{"oa_python_sample_spamtest_compat_body", "oa-spam", "compat"},
		{"oa_cpp_sample_spamtest", "oa-spam", "safe"},
		{"oa_doc_safe_mode_AAAAA", "oa-doc", "safe"},
		// The same message to the same appid and token in plaintext mode:
		// an account without an EncodingAESKey.
		{"oa_cpp_sample_spamtest", "oa-spam-plain", "plain"},
	} {
		v := loadVector(t, tc.vec)
		f.setTime(v.Timestamp)
		q := oaPlainQuery(v.Token, v.Timestamp, v.Nonce)
		var body string
		switch tc.mode {
		case "plain":
			body = v.ExpectMsg
		case "safe":
			q.Set("encrypt_type", "aes")
			q.Set("msg_signature", v.MsgSignature)
			body = safeBody("gh_x", v.Encrypt)
		case "compat":
			q.Set("encrypt_type", "aes")
			q.Set("msg_signature", v.MsgSignature)
			// The plaintext fields beside Encrypt are not authenticated: a
			// forged Content there must not be what is recorded.
			body = strings.Replace(v.ExpectMsg, "</xml>", "<Encrypt><![CDATA["+v.Encrypt+"]]></Encrypt></xml>", 1)
			body = strings.Replace(body, "abcdteT", "forged", 1)
		}
		resp := f.do("POST", tc.acct, q, body, nil)
		if resp.StatusCode != 200 || resp.Body != "success" {
			t.Fatalf("%s %s: %d %q", tc.vec, tc.mode, resp.StatusCode, resp.Body)
		}
	}
	// Three messages (compat, the cpp sample in safe mode, and again in
	// plaintext mode to the other account) and the debug_demo event.
	if n := f.countSK("MSG#"); n != 3 {
		t.Fatalf("recorded %d messages, want 3", n)
	}
	if n := f.countSK("EVT#"); n != 1 {
		t.Fatalf("recorded %d events, want 1", n)
	}
	for _, it := range f.items() {
		var m qunyun.Message
		_ = dynamo.Unmarshal(it, &m)
		if m.Text == "forged" {
			t.Fatal("compatible mode recorded the unauthenticated plaintext field")
		}
	}
}

func TestWeComAndBotVectors(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct{ vec, acct string }{{"wecom_xml_decrypt_QDG6eK", "wecom-qdg"}, {"wecom_xml_decrypt_hJqcu3", "wecom-hj"}} {
		v := loadVector(t, tc.vec)
		f.setTime(v.Timestamp)
		q := url.Values{"msg_signature": {v.MsgSignature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}}
		resp := f.do("POST", tc.acct, q, "<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA["+v.Encrypt+"]]></Encrypt><AgentID>1</AgentID></xml>", nil)
		if resp.StatusCode != 200 || resp.Body != "success" {
			t.Fatalf("%s: %d %q", tc.vec, resp.StatusCode, resp.Body)
		}
	}
	v := loadVector(t, "self_generated_empty_receiveid")
	f.setTime(v.Timestamp)
	q := url.Values{"msg_signature": {v.ExpectMsgSignature}, "timestamp": {v.Timestamp}, "nonce": {v.Nonce}}
	resp := f.do("POST", "bot", q, `{"encrypt":"`+v.ExpectEncrypt+`"}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("bot: %d %q", resp.StatusCode, resp.Body)
	}
	if n := f.countSK("MSG#"); n != 3 {
		t.Fatalf("recorded %d messages, want 3", n)
	}
	_ = wechat.MaxBodySize
}
