package wechatapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// The outbound worked example of docs/relay-protocol.md is what the relay
// channel posts, byte for byte, and signs as the page says: the page is
// checked, not a copy of it.
func TestRelayDocOutboundExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/relay-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile("(?m)^- " + name + "[^`]*: `([^`]+)`").FindSubmatch(doc)
		if m == nil {
			t.Fatalf("doc has no %q line", name)
		}
		return string(m[1])
	}
	var bodies []string
	for _, m := range regexp.MustCompile("(?s)```json outbound\n(.*?)\n```").FindAllSubmatch(doc, -1) {
		bodies = append(bodies, string(m[1]))
	}
	if len(bodies) != 2 {
		t.Fatalf("doc has %d outbound examples, want 2", len(bodies))
	}
	secret, ts := field("outbound secret"), field("outbound timestamp")
	at := time.Unix(1763780402, 0)
	if ts != "1763780402" {
		t.Fatalf("doc timestamp %s", ts)
	}
	type post struct{ body, ts, sig string }
	got := make(chan post, 2)
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- post{string(b), r.Header.Get(wechat.RelayTimestampHeader), r.Header.Get(wechat.RelaySignatureHeader)}
	}))
	t.Cleanup(bridge.Close)
	c := &wechatapi.Client{Now: func() time.Time { return at }}
	relay := wechatapi.Relay{Client: c}
	acct := qunyun.Account{ID: "demo-relay", Kind: qunyun.ChannelRelay, HMACKey: secret, Webhook: bridge.URL}
	group := "R:10696052955016166"
	sends := []struct {
		to wechatapi.Target
		m  wechatapi.Message
	}{
		{wechatapi.Target{ID: group, DeliveryID: "8a1d6f0e2b7c4d9e5f3a1b2c", Mentions: []string{"wxid_abc123"}, ReplyTo: "bridge-7f3a9c"},
			wechatapi.Message{Kind: qunyun.ContentText, Text: "今晚 8 点开始，提前 10 分钟进群签到哦"}},
		{wechatapi.Target{ID: group, DeliveryID: "3c9b2e71d04f5a6b8c7d9e0f"},
			wechatapi.Message{Kind: qunyun.ContentLink, Title: "冬季暖身汤底测评", Text: "五款汤底盲测", URL: "https://cb.example.com/r/Ab3x9Q", PicURL: "https://example.com/soup.jpg"}},
	}
	for i, s := range sends {
		if _, err := relay.Send(context.Background(), acct, s.to, s.m); err != nil {
			t.Fatal(err)
		}
		p := <-got
		if p.body != bodies[i] {
			t.Errorf("example %d: the channel posts\n%s\nthe doc shows\n%s", i+1, p.body, bodies[i])
		}
		if p.ts != ts || p.sig != wechat.SignRelay([]byte(secret), ts, []byte(bodies[i])) {
			t.Errorf("example %d: headers %s %s do not sign the doc's body", i+1, p.ts, p.sig)
		}
		if i == 0 && p.sig != field("outbound signature") {
			t.Errorf("the doc's signature is %s, the reply's is %s", field("outbound signature"), p.sig)
		}
	}
}
