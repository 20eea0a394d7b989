package callback_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/clock"
)

// FuzzHandler throws arbitrary accounts, methods, queries and bodies at the
// handler (in-memory store): it must answer every one with a status it
// means, never 500 (the handler turns a panic into 500), and a 200 only for
// something it could verify.
func FuzzHandler(f *testing.F) {
	v := loadVector(f, "oa_cpp_sample_spamtest")
	q := oaPlainQuery(v.Token, v.Timestamp, v.Nonce)
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", v.MsgSignature)
	f.Add("oa-spam", "POST", q.Encode(), safeBody("gh", v.Encrypt), false)
	f.Add("oa-spam", "POST", oaPlainQuery(v.Token, v.Timestamp, v.Nonce).Encode(), v.ExpectMsg, false)
	f.Add("wecom-qdg", "GET", "msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==", "", false)
	f.Add("bot", "POST", "timestamp=1410349438&nonce=1&msg_signature=x", `{"encrypt":"AAAA"}`, false)
	f.Add("relay", "POST", "", `{"id":"x","type":"message","group_id":"g","member_id":"m","kind":"text","time":1}`, false)
	f.Add("oa-spam", "POST", oaPlainQuery(v.Token, v.Timestamp, v.Nonce).Encode(), "PHhtbD4=", true)
	f.Add("oa-spam", "GET", "", "", false)

	clk := clock.NewManual(time.Unix(1410349438, 0))
	fx := newFixtureOn(f, memStores(&memStore{msgs: map[string]bool{}}), clk)
	f.Fuzz(func(t *testing.T, account, method, rawQuery, body string, b64 bool) {
		req := events.APIGatewayV2HTTPRequest{
			RawPath: "/wechat/" + url.PathEscape(account), RawQueryString: rawQuery, Body: body, IsBase64Encoded: b64,
			PathParameters: map[string]string{"account": account},
		}
		req.RequestContext.HTTP.Method = method
		resp, err := fx.handler.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		if resp.StatusCode == 500 {
			t.Fatalf("500 for %s %q %q: %q", method, rawQuery, body, resp.Body)
		}
		// An empty method is read as GET (the handler's default).
		if resp.StatusCode == 200 && method != "" && method != "GET" && method != "POST" {
			t.Fatalf("200 for method %q", method)
		}
	})
}
