package callback_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// Every bad input gets a 4xx with a reason and writes nothing.
func TestBadInput(t *testing.T) {
	f := newFixture(t, nil)
	v := loadVector(t, "oa_cpp_sample_spamtest")
	f.setTime(v.Timestamp)
	safe := func(mut func(q url.Values)) url.Values {
		q := oaPlainQuery(v.Token, v.Timestamp, v.Nonce)
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", v.MsgSignature)
		if mut != nil {
			mut(q)
		}
		return q
	}
	// signed builds a safe-mode request whose Encrypt is enc, correctly signed.
	signed := func(enc string) (url.Values, string) {
		q := safe(nil)
		q.Set("msg_signature", wechat.MsgSignature(v.Token, v.Timestamp, v.Nonce, enc))
		return q, safeBody("gh", enc)
	}
	c, _ := wechat.NewCrypto(v.Token, v.EncodingAESKey, v.ReceiveID)
	// A fixed random part, so the garbage below is the same on every run: with
	// crypto/rand, about one run in 256 decrypted to a valid one-byte pad.
	good, _ := c.Encrypt([]byte(v.ExpectMsg), bytes.NewReader(make([]byte, 16)))
	raw, _ := base64.StdEncoding.DecodeString(good)
	raw[len(raw)-1] ^= 0xff // the last block decrypts to garbage: bad padding
	badPad := base64.StdEncoding.EncodeToString(raw)
	old := strconv.FormatInt(time.Unix(0, 0).Unix()+1, 10)

	cases := []struct {
		name, method, account string
		query                 url.Values
		body                  string
		want                  int
		reason                string
	}{
		{"wrong signature", "POST", "oa-spam", safe(func(q url.Values) { q.Set("signature", strings.Repeat("0", 40)) }), safeBody("gh", v.Encrypt), 401, "signature"},
		{"wrong msg_signature", "POST", "oa-spam", safe(func(q url.Values) { q.Set("msg_signature", strings.Repeat("a", 40)) }), safeBody("gh", v.Encrypt), 401, "signature"},
		{"wrong receiveid", "POST", "oa-wrongid", safe(nil), safeBody("gh", v.Encrypt), 401, "receiveid"},
		{"expired timestamp", "POST", "oa-spam", func() url.Values { q := oaPlainQuery(v.Token, old, v.Nonce); return q }(), v.ExpectMsg, 401, "timestamp"},
		{"malformed timestamp", "POST", "oa-spam", oaPlainQuery(v.Token, "12ab", v.Nonce), v.ExpectMsg, 401, "timestamp"},
		{"bad base64", "POST", "oa-spam", func() url.Values { q, _ := signed("!!!notbase64!!!"); return q }(), safeBody("gh", "!!!notbase64!!!"), 400, "base64"},
		{"bad padding", "POST", "oa-spam", func() url.Values { q, _ := signed(badPad); return q }(), safeBody("gh", badPad), 400, "padding"},
		{"truncated XML", "POST", "oa-spam", safe(nil), safeBody("gh", v.Encrypt)[:40], 400, "XML"},
		{"empty body", "POST", "oa-spam", safe(nil), "", 400, "XML"},
		// An account with an EncodingAESKey is in safe or compatible mode:
		// the plain signature does not cover the body, so a plaintext body
		// (or one without Encrypt) is not authenticated.
		{"plaintext body in safe mode", "POST", "oa-spam", oaPlainQuery(v.Token, v.Timestamp, v.Nonce), v.ExpectMsg, 401, "safe or compatible mode"},
		{"encrypt_type without msg_signature", "POST", "oa-spam", safe(func(q url.Values) { q.Del("msg_signature") }), safeBody("gh", v.Encrypt), 401, "safe or compatible mode"},
		{"safe mode without Encrypt", "POST", "oa-spam", safe(nil), v.ExpectMsg, 401, "Encrypt"},
		{"truncated XML in plaintext mode", "POST", "oa-plain", oaPlainQuery("AAAAA", v.Timestamp, v.Nonce), v.ExpectMsg[:len(v.ExpectMsg)/2], 400, "XML"},
		{"body over 1 MiB", "POST", "oa-spam", oaPlainQuery(v.Token, v.Timestamp, v.Nonce), "<xml>" + strings.Repeat("a", wechat.MaxBodySize) + "</xml>", 413, "1 MiB"},
		{"unknown account", "POST", "nobody", oaPlainQuery(v.Token, v.Timestamp, v.Nonce), v.ExpectMsg, 404, "unknown account"},
		{"wrong method", "PUT", "oa-spam", oaPlainQuery(v.Token, v.Timestamp, v.Nonce), v.ExpectMsg, 405, "method"},
		{"relay GET", "GET", "relay", url.Values{}, "", 405, "POST"},
		{"wecom without msg_signature", "POST", "wecom-qdg", url.Values{"timestamp": {v.Timestamp}, "nonce": {"1"}}, safeBody("x", v.Encrypt), 401, "signature"},
		{"bot malformed envelope", "POST", "bot", url.Values{"timestamp": {v.Timestamp}, "nonce": {"1"}, "msg_signature": {"x"}}, `{"encrypt":`, 400, "JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do(tc.method, tc.account, tc.query, tc.body, nil)
			if resp.StatusCode != tc.want || !strings.Contains(resp.Body, tc.reason) {
				t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, resp.Body, tc.want, tc.reason)
			}
		})
	}

	// Relay: a wrong signature, a stale timestamp, a malformed body.
	body := relayMessage("r1", "g1", "u1", "hi", f.clock.Now())
	now := strconv.FormatInt(f.clock.Now().Unix(), 10)
	stale := strconv.FormatInt(f.clock.Now().Unix()-301, 10)
	for _, tc := range []struct {
		name, ts, sig, body string
		want                int
	}{
		{"relay wrong signature", now, wechat.SignRelay([]byte("other"), now, []byte(body)), body, 401},
		{"relay stale timestamp", stale, wechat.SignRelay([]byte(relaySecret), stale, []byte(body)), body, 401},
		{"relay malformed body", now, wechat.SignRelay([]byte(relaySecret), now, []byte(`{"id":1`)), `{"id":1`, 400},
		{"relay unknown type", now, wechat.SignRelay([]byte(relaySecret), now, []byte(`{"id":"x","type":"boom","group_id":"g","time":1}`)), `{"id":"x","type":"boom","group_id":"g","time":1}`, 400},
	} {
		resp := f.do("POST", "relay", url.Values{}, tc.body, map[string]string{"X-Qunyun-Timestamp": tc.ts, "X-Qunyun-Signature": tc.sig})
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: %d %q", tc.name, resp.StatusCode, resp.Body)
		}
	}
	// base64-encoded bodies are honoured, and a bad one is refused.
	resp := f.handler2(events.APIGatewayV2HTTPRequest{RawPath: "/wechat/oa-spam", RawQueryString: oaPlainQuery(v.Token, v.Timestamp, v.Nonce).Encode(), Body: "%%%", IsBase64Encoded: true}, "POST")
	if resp.StatusCode != 400 {
		t.Fatalf("bad base64 body: %d", resp.StatusCode)
	}
	if n := len(f.items()); n != 0 {
		t.Fatalf("bad input wrote %d items", n)
	}
	resp = f.handler2(events.APIGatewayV2HTTPRequest{RawPath: "/wechat/oa-spam", RawQueryString: safe(nil).Encode(),
		Body: base64.StdEncoding.EncodeToString([]byte(safeBody("gh", v.Encrypt))), IsBase64Encoded: true}, "POST")
	if resp.StatusCode != 200 || f.countSK("MSG#") != 1 {
		t.Fatalf("base64 body: %d, %d messages", resp.StatusCode, f.countSK("MSG#"))
	}
}

func (f *fixture) handler2(req events.APIGatewayV2HTTPRequest, method string) events.APIGatewayV2HTTPResponse {
	req.RequestContext.HTTP.Method = method
	resp, err := f.handler.Handle(context.Background(), req)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}

// Tracked links: an open is recorded with the share signal, then 302;
// an unknown code gets the 404 page.
func TestTrackedLink(t *testing.T) {
	f := newFixture(t, nil)
	if err := (dynamo.Links{Table: f.table}).PutLink(context.Background(), qunyun.Link{Code: "abc123", URL: "https://example.com/a", GroupID: "g1", ContentID: "c1", DeliveryID: "d1", AccountID: "oa-doc"}); err != nil {
		t.Fatal(err)
	}
	get := func(code, q string) events.APIGatewayV2HTTPResponse {
		req := events.APIGatewayV2HTTPRequest{RawPath: "/r/" + code, RawQueryString: q, PathParameters: map[string]string{"code": code},
			Headers: map[string]string{"user-agent": "Mozilla/5.0 MicroMessenger"}}
		req.RequestContext.RequestID = "req-" + code + q
		return f.handler2(req, "GET")
	}
	resp := get("abc123", "from=groupmessage")
	if resp.StatusCode != 302 || resp.Headers["Location"] != "https://example.com/a" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Headers)
	}
	get("abc123", "")
	opens, err := dynamo.Links{Table: f.table}.GroupOpens(context.Background(), "g1", f.clock.Now().UTC().Format(time.DateOnly))
	if err != nil || len(opens) != 2 {
		t.Fatalf("%d opens %v", len(opens), err)
	}
	if heat, _ := (dynamo.Links{Table: f.table}).ContentHeat(context.Background(), "c1", "2026-11-01", "2026-11-30"); heat.Opens != 2 || heat.Shares != 1 {
		t.Fatalf("heat %+v", heat)
	}
	if resp := get("nope", ""); resp.StatusCode != 404 || !strings.Contains(resp.Body, "链接不存在") {
		t.Fatalf("unknown code: %d %q", resp.StatusCode, resp.Body)
	}
}

// Bodies that decode only by guessing are refused, not stored guessed: JSON
// with invalid UTF-8 (encoding/json would store U+FFFD in its place; XML
// refuses it already), and an OA message without the MsgId that keys it.
func TestUnguessableBodiesRefused(t *testing.T) {
	f := newFixture(t, nil)
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	bot := testAccounts[slices.IndexFunc(testAccounts, func(a qunyun.Account) bool { return a.ID == "bot" })]
	c, err := wechat.NewCrypto(bot.Token, bot.EncodingAESKey, "")
	if err != nil {
		t.Fatal(err)
	}
	botPost := func(plain string) events.APIGatewayV2HTTPResponse {
		enc, err := c.Encrypt([]byte(plain), nil)
		if err != nil {
			t.Fatal(err)
		}
		q := url.Values{"msg_signature": {wechat.MsgSignature(bot.Token, ts, "n", enc)}, "timestamp": {ts}, "nonce": {"n"}}
		return f.do("POST", "bot", q, `{"encrypt":"`+enc+`"}`, nil)
	}
	cases := []struct {
		name string
		post func() events.APIGatewayV2HTTPResponse
	}{
		{"bot JSON with invalid UTF-8", func() events.APIGatewayV2HTTPResponse {
			return botPost("{\"msgid\":\"bad-utf8\",\"aibotid\":\"b\",\"chatid\":\"g1\",\"chattype\":\"group\",\"from\":{\"userid\":\"u1\"},\"msgtype\":\"text\",\"text\":{\"content\":\"打卡 \xff\xfe\"}}")
		}},
		{"relay JSON with invalid UTF-8", func() events.APIGatewayV2HTTPResponse {
			return f.relay(strings.Replace(relayMessage("r-utf8", "g1", "u1", "hi", f.clock.Now()), "hi", "hi \xc3", 1))
		}},
		{"OA text without MsgId", func() events.APIGatewayV2HTTPResponse {
			return f.oa("oa-doc", ts, `<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>`+ts+`</CreateTime><MsgType>text</MsgType><Content>投票 1</Content></xml>`)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.post(); r.StatusCode != 400 {
				t.Errorf("%d %q, want 400", r.StatusCode, r.Body)
			}
		})
	}
	if items := f.items(); len(items) != 0 {
		t.Fatalf("refused bodies wrote %d items", len(items))
	}
}
