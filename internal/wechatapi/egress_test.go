package wechatapi_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// An IP refusal (OA 40164 on the token fetch, WeCom 60020 on a call) is
// alerted once per app per hour, however many sends fail: one ERROR line
// that names the stack's egress IP and the console page, and one
// EgressIpRejected metric for the alarm. The calls themselves fail as API
// errors, not as a success.
func TestIPRefusalAlertsOncePerAppPerHour(t *testing.T) {
	for _, tt := range []struct {
		acct    qunyun.Account
		path    string
		code    int
		console string
	}{
		{oaAccount, "/cgi-bin/stable_token", wechatapi.CodeIPNotWhitelisted, "IP白名单"},
		{wecomAccount, "/cgi-bin/appchat/send", wechatapi.CodeIPNotTrusted, "企业可信IP"},
	} {
		t.Run(string(tt.acct.Kind), func(t *testing.T) {
			r := newRig(t)
			tb := dynamotest.NewTable(t, r.clk)
			var logs, emf strings.Builder
			c := r.client(dynamo.Tokens{Table: tb})
			c.Tokens.IPAlerts = &wechatapi.IPAlerts{
				EgressIP: "198.51.100.20",
				Metrics:  &metrics.Emitter{W: &emf, Dimensions: map[string]string{"Stage": "dev"}, Now: r.clk.Now},
				Log:      slog.New(slog.NewJSONHandler(&logs, nil)),
				Now:      r.clk.Now,
			}
			send := func() error {
				if tt.acct.Kind == qunyun.ChannelOA {
					return c.CustomSend(context.Background(), tt.acct, "o1", wechatapi.Message{Text: "x"})
				}
				return c.AppChatSend(context.Background(), tt.acct, "chat1", wechatapi.Message{Text: "x"})
			}
			r.sbx.Fail(tt.path, tt.code, 100)
			for range 5 {
				if err := send(); !wechatapi.IPRejected(err) {
					t.Fatalf("send: %v, want the IP refusal", err)
				}
				r.clk.Advance(time.Minute)
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 {
				t.Fatalf("%d alert lines for 5 refusals, want 1:\n%s", n, logs.String())
			}
			for _, want := range []string{"add 198.51.100.20 to", tt.console, `"seenIp":"203.0.113.7"`, `"level":"ERROR"`} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("alert lacks %q:\n%s", want, logs.String())
				}
			}
			if strings.Contains(logs.String(), "s3cret") {
				t.Errorf("alert shows the secret:\n%s", logs.String())
			}
			if n := strings.Count(emf.String(), `"EgressIpRejected":1`); n != 1 {
				t.Errorf("%d metrics, want 1:\n%s", n, emf.String())
			}
			r.clk.Advance(time.Hour)
			send()
			if n := strings.Count(logs.String(), "\n"); n != 2 {
				t.Errorf("%d alert lines after an hour more, want 2", n)
			}
		})
	}
}

// Without a fixed egress the alert says how to get one.
func TestIPRefusalWithoutEgress(t *testing.T) {
	var logs strings.Builder
	a := &wechatapi.IPAlerts{Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return time.Unix(0, 0) }}
	a.Observe("oa:wx1", &wechatapi.APIError{API: "/cgi-bin/stable_token", Code: wechatapi.CodeIPNotWhitelisted, Message: "invalid ip 203.0.113.7"})
	a.Observe("oa:wx1", &wechatapi.APIError{API: "/cgi-bin/stable_token", Code: 40001, Message: "invalid credential"})
	if !strings.Contains(logs.String(), "FixedEgress=true") || strings.Count(logs.String(), "\n") != 1 {
		t.Errorf("alert:\n%s", logs.String())
	}
	var none *wechatapi.IPAlerts
	none.Observe("oa:wx1", &wechatapi.APIError{Code: wechatapi.CodeIPNotWhitelisted}) // must not panic
}
