package wechatapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// answers is WeChat answering every call of one test with the same bytes:
// tokenAnswer for the token APIs, apiAnswer for the others.
type answers struct {
	status                 int
	tokenAnswer, apiAnswer []byte
	calls                  int
}

// maxCalls bounds the calls one client method may make on one answer: a
// method that keeps calling is looping on it.
const maxCalls = 50

func (a *answers) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.calls++; a.calls > maxCalls {
		return nil, errors.New("too many calls")
	}
	body := a.apiAnswer
	if strings.Contains(req.URL.Path, "token") {
		body = a.tokenAnswer
	}
	return &http.Response{StatusCode: a.status, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}, Request: req}, nil
}

// memTokens is a TokenStore in memory; it records the tokens stored.
type memTokens struct {
	mu     sync.Mutex
	tok    map[string]qunyun.AccessToken
	stored []qunyun.AccessToken
}

func (m *memTokens) AccessToken(_ context.Context, app string) (qunyun.AccessToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok[app], nil
}

func (m *memTokens) LeaseToken(context.Context, string, string, time.Time) (bool, error) {
	return true, nil
}

func (m *memTokens) StoreToken(_ context.Context, app, _ string, tok qunyun.AccessToken) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok[app] = tok
	m.stored = append(m.stored, tok)
	return true, nil
}

func (m *memTokens) ReleaseTokenLease(context.Context, string, string) error { return nil }

// FuzzAnswers has WeChat answer the client's calls with fuzzed bytes and
// HTTP statuses (seeded with the sandbox's answers). Whatever comes back,
// each call ends after a bounded number of requests and sleeps; a token is
// stored only if it expires after now; an errcode comes back as that
// APIError; a call succeeds only on a 200 with errcode 0, and a task only
// with its msgid.
func FuzzAnswers(f *testing.F) {
	token := `{"access_token":"ACCESS_TOKEN","expires_in":7200}`
	for _, api := range []string{
		`{"errcode":0,"errmsg":"ok"}`,
		`{"errcode":0,"errmsg":"ok","msgid":"msgGAGQ","fail_list":[]}`,
		`{"errcode":0,"errmsg":"ok","msgid":200228332}`,
		`{"errcode":0,"errmsg":"ok","send_list":[{"chat_id":"wrOgQh","status":1,"send_time":1552536375}],"next_cursor":""}`,
		`{"errcode":40001,"errmsg":"invalid credential"}`,
		`{"errcode":45009,"errmsg":"api freq out of limit"}`,
		`{"errcode":45015,"errmsg":"response out of time limit"}`,
		`not json`,
	} {
		f.Add(200, []byte(token), []byte(api))
	}
	f.Add(200, []byte(`{"errcode":40013,"errmsg":"invalid appid"}`), []byte(`{"errcode":0}`))
	f.Add(502, []byte(token), []byte(`{"errcode":0}`))
	clk := clock.NewManual(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC))
	robot := "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key"
	f.Fuzz(func(t *testing.T, status int, tokenAnswer, apiAnswer []byte) {
		var env struct {
			ErrCode int `json:"errcode"`
		}
		apiJSON := json.Unmarshal(apiAnswer, &env) == nil
		a := &answers{status: status, tokenAnswer: tokenAnswer, apiAnswer: apiAnswer}
		store := &memTokens{tok: map[string]qunyun.AccessToken{}}
		sleeps := 0
		c := &wechatapi.Client{
			HTTP:   &http.Client{Transport: a},
			Tokens: &wechatapi.Tokens{Store: store, Now: clk.Now, Poll: time.Millisecond, Wait: time.Millisecond},
			Limits: &wechatapi.Limits{ByPath: map[string]wechatapi.Limit{"": {PerSecond: 1e9, Burst: 1e9}}},
			Sleep:  func(context.Context, time.Duration) error { sleeps++; return nil },
			Now:    clk.Now,
		}
		ctx := context.Background()
		check := func(name string, err error) {
			t.Helper()
			var apiErr *wechatapi.APIError
			switch {
			case a.calls > maxCalls || sleeps > 3:
				t.Fatalf("%s: %d calls and %d sleeps on one answer", name, a.calls, sleeps)
			case err == nil && (status != 200 || !apiJSON || env.ErrCode != 0):
				t.Fatalf("%s succeeded on %d %q", name, status, apiAnswer)
			case errors.As(err, &apiErr) && apiErr.Code == 0 && apiErr.API != "/cgi-bin/externalcontact/add_msg_template":
				t.Fatalf("%s: an APIError without a code: %v", name, err)
			}
			for _, tok := range store.stored {
				if !tok.ExpiresAt.After(clk.Now()) {
					t.Fatalf("%s: stored a token that expires at %s, before now, from %q", name, tok.ExpiresAt, tokenAnswer)
				}
			}
			a.calls, sleeps = 0, 0
		}
		msg := wechatapi.Message{Text: "你好"}
		check("custom send", c.CustomSend(ctx, oaAccount, "openid", msg))
		_, err := c.TemplateSend(ctx, oaAccount, "openid", "tpl", "https://example.com", map[string]string{"first": "x"})
		check("template send", err)
		id, err := c.AddMsgTemplate(ctx, wecomAccount, wechatapi.TaskRequest{Groups: []string{"wr1"}, Sender: "owner", Message: msg})
		if err == nil && id == "" {
			t.Fatal("a task without a msgid")
		}
		check("add_msg_template", err)
		_, err = c.GroupMsgSendResult(ctx, wecomAccount, "msg1", "owner")
		check("get_groupmsg_send_result", err)
		check("webhook", c.WebhookSend(ctx, robot, msg))
	})
}
