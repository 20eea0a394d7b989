package wechatapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/sandbox"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

var (
	oaAccount    = qunyun.Account{ID: "oa1", Kind: qunyun.ChannelOA, AppID: "wxapp", Secret: "s3cret", Token: "t"}
	wecomAccount = qunyun.Account{ID: "wc1", Kind: qunyun.ChannelWeCom, CorpID: "ww1", AgentID: "1000002", Secret: "s3cret", Token: "t", EncodingAESKey: "k"}
)

type rig struct {
	clk   *clock.Manual
	sbx   *sandbox.Server
	oa    *httptest.Server
	wecom *httptest.Server
	// sleeps records the back-off waits the clients asked for.
	mu     sync.Mutex
	sleeps []time.Duration
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{clk: clock.NewManual(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC))}
	r.sbx = sandbox.New(r.clk)
	r.oa = httptest.NewServer(r.sbx.OA())
	r.wecom = httptest.NewServer(r.sbx.WeCom())
	t.Cleanup(func() { r.oa.Close(); r.wecom.Close() })
	return r
}

// client returns a new client, as a separate process would have: its own
// memory, the shared table.
func (r *rig) client(store wechatapi.TokenStore) *wechatapi.Client {
	return &wechatapi.Client{
		OABase: r.oa.URL, WeComBase: r.wecom.URL,
		Tokens:  &wechatapi.Tokens{Store: store, Now: r.clk.Now, Poll: 5 * time.Millisecond},
		Limits:  &wechatapi.Limits{ByPath: map[string]wechatapi.Limit{"": {PerSecond: 10000, Burst: 10000}}},
		Backoff: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		Sleep: func(ctx context.Context, d time.Duration) error {
			r.mu.Lock()
			r.sleeps = append(r.sleeps, d)
			r.mu.Unlock()
			return nil
		},
	}
}

func TestTokenRefreshedOnceUnder50ConcurrentSenders(t *testing.T) {
	for _, acct := range []qunyun.Account{oaAccount, wecomAccount} {
		t.Run(string(acct.Kind), func(t *testing.T) {
			r := newRig(t)
			tb := dynamotest.NewTable(t, r.clk)
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := r.client(dynamo.Tokens{Table: tb}) // 50 "processes"
					var err error
					if acct.Kind == qunyun.ChannelOA {
						err = c.CustomSend(context.Background(), acct, "openid", wechatapi.Message{Text: "你好"})
					} else {
						err = c.AppChatSend(context.Background(), acct, "chat"+string(rune('a'+i%26)), wechatapi.Message{Text: "你好"})
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			tokenCalls := len(r.sbx.Calls("/cgi-bin/stable_token")) + len(r.sbx.Calls("/cgi-bin/gettoken"))
			if tokenCalls != 1 {
				t.Fatalf("token fetched %d times by 50 senders, want 1", tokenCalls)
			}
			sends := 0
			for _, c := range r.sbx.Calls() {
				if c.ErrCode == 0 && c.Path != "/cgi-bin/stable_token" && c.Path != "/cgi-bin/gettoken" {
					sends++
				}
			}
			if sends != 50 {
				t.Fatalf("%d sends succeeded, want 50", sends)
			}
		})
	}
}

func TestTokenKeptInMemoryUntilNearExpiry(t *testing.T) {
	r := newRig(t)
	tb := dynamotest.NewTable(t, r.clk)
	c := r.client(dynamo.Tokens{Table: tb})
	ctx := context.Background()
	for range 3 {
		if err := c.CustomSend(ctx, oaAccount, "o1", wechatapi.Message{Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.sbx.Calls("/cgi-bin/stable_token")); n != 1 {
		t.Fatalf("stable_token called %d times, want 1", n)
	}
	r.clk.Advance(7200*time.Second - 4*time.Minute) // inside the 5-minute margin
	if err := c.CustomSend(ctx, oaAccount, "o1", wechatapi.Message{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if n := len(r.sbx.Calls("/cgi-bin/stable_token")); n != 2 {
		t.Fatalf("stable_token called %d times near expiry, want 2", n)
	}
}

func TestInvalidTokenRefreshesOnceAndRetriesOnce(t *testing.T) {
	r := newRig(t)
	tb := dynamotest.NewTable(t, r.clk)
	c := r.client(dynamo.Tokens{Table: tb})
	ctx := context.Background()
	if err := c.CustomSend(ctx, oaAccount, "o1", wechatapi.Message{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	r.sbx.Invalidate() // every token now answers 40001
	if err := c.CustomSend(ctx, oaAccount, "o1", wechatapi.Message{Text: "x"}); err != nil {
		t.Fatalf("40001 did not recover: %v", err)
	}
	sends := r.sbx.Calls("/cgi-bin/message/custom/send")
	if len(sends) != 3 || sends[1].ErrCode != 40001 || sends[2].ErrCode != 0 {
		t.Fatalf("calls = %+v, want ok, 40001, ok", sends)
	}
	toks := r.sbx.Calls("/cgi-bin/stable_token")
	if len(toks) != 2 || string(toks[1].Body) == "" {
		t.Fatalf("stable_token calls = %d, want 2", len(toks))
	}
	// A second rejection after the retry is returned, not looped on.
	r.sbx.Fail("/cgi-bin/message/custom/send", 42001, 2)
	err := c.CustomSend(ctx, oaAccount, "o1", wechatapi.Message{Text: "x"})
	if !wechatapi.IsAPIError(err) {
		t.Fatalf("err = %v, want the second 42001", err)
	}
	if n := len(r.sbx.Calls("/cgi-bin/message/custom/send")); n != 5 {
		t.Fatalf("%d send calls, want 5 (one retry only)", n)
	}
}

func TestThrottledCallBacksOff(t *testing.T) {
	r := newRig(t)
	tb := dynamotest.NewTable(t, r.clk)
	c := r.client(dynamo.Tokens{Table: tb})
	ctx := context.Background()
	r.sbx.Fail("/cgi-bin/appchat/send", 45009, 2)
	if err := c.AppChatSend(ctx, wecomAccount, "chat1", wechatapi.Message{Text: "x"}); err != nil {
		t.Fatalf("45009 twice then ok: %v", err)
	}
	if len(r.sleeps) != 2 || r.sleeps[0] != time.Second || r.sleeps[1] != 2*time.Second {
		t.Fatalf("back-off waits = %v, want [1s 2s]", r.sleeps)
	}
	r.sbx.Fail("/cgi-bin/appchat/send", 45011, 10)
	err := c.AppChatSend(ctx, wecomAccount, "chat1", wechatapi.Message{Text: "x"})
	if !wechatapi.Throttled(err) {
		t.Fatalf("err = %v, want throttled after the back-off is used up", err)
	}
}

func TestCustomerServiceLimitsAreSkipReasons(t *testing.T) {
	r := newRig(t)
	tb := dynamotest.NewTable(t, r.clk)
	c := r.client(dynamo.Tokens{Table: tb})
	ctx := context.Background()
	for code, want := range map[int]string{45015: qunyun.ReasonCSWindow, 45047: qunyun.ReasonCSQuota} {
		r.sbx.Fail("/cgi-bin/message/custom/send", code, 1)
		err := c.CustomSend(ctx, oaAccount, "o1", wechatapi.Message{Text: "x"})
		if got := wechatapi.SkipReason(err); got != want {
			t.Fatalf("errcode %d: skip reason %q, want %q (err %v)", code, got, want, err)
		}
	}
}

func TestRobotStaysUnder20AMinute(t *testing.T) {
	r := newRig(t)
	c := r.client(dynamo.Tokens{Table: dynamotest.NewTable(t, r.clk)})
	// The buckets' clock stands still, so however slowly the machine
	// sends, no token comes back: the burst is all that may go.
	c.Limits = &wechatapi.Limits{Now: r.clk.Now} // default: 20 a minute for the robot
	hook := r.wecom.URL + "/cgi-bin/webhook/send?key=k1"
	for i := range 20 {
		if err := c.WebhookSend(context.Background(), hook, wechatapi.Message{Text: "x"}); err != nil {
			t.Fatalf("send %d of the burst: %v", i+1, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.WebhookSend(ctx, hook, wechatapi.Message{Text: "x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the 21st send: %v, want it held until the deadline", err)
	}
	for _, call := range r.sbx.Calls("/cgi-bin/webhook/send") {
		if call.ErrCode != 0 {
			t.Fatalf("robot got errcode %d: the bucket let too many through", call.ErrCode)
		}
	}
}

// 50 senders in 50 processes all hold a token WeChat has just invalidated:
// every one gets 40001, exactly one fetches a new token, all retry once.
func TestRejectedTokenRefreshedOnceUnder50ConcurrentSenders(t *testing.T) {
	for _, acct := range []qunyun.Account{oaAccount, wecomAccount} {
		t.Run(string(acct.Kind), func(t *testing.T) {
			r := newRig(t)
			tb := dynamotest.NewTable(t, r.clk)
			send := func(c *wechatapi.Client) error {
				if acct.Kind == qunyun.ChannelOA {
					return c.CustomSend(context.Background(), acct, "openid", wechatapi.Message{Text: "x"})
				}
				return c.AppChatSend(context.Background(), acct, "chat", wechatapi.Message{Text: "x"})
			}
			clients := make([]*wechatapi.Client, 50)
			for i := range clients {
				clients[i] = r.client(dynamo.Tokens{Table: tb})
				if err := send(clients[i]); err != nil { // warm: each holds the token in memory
					t.Fatal(err)
				}
			}
			fetches := func() int {
				return len(r.sbx.Calls("/cgi-bin/stable_token")) + len(r.sbx.Calls("/cgi-bin/gettoken"))
			}
			before := fetches()
			r.sbx.Invalidate()
			var wg sync.WaitGroup
			errs := make(chan error, len(clients))
			for _, c := range clients {
				wg.Add(1)
				go func() { defer wg.Done(); errs <- send(c) }()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if n := fetches() - before; n != 1 {
				t.Fatalf("%d token fetches after the invalidation, want 1", n)
			}
		})
	}
}

// A robot image is fetched from its picUrl: a fetch that fails posts
// nothing and may be tried again; a picture over 2 MB, or none, is refused
// before the robot is called.
func TestRobotImageFetch(t *testing.T) {
	r := newRig(t)
	c := r.client(dynamo.Tokens{Table: dynamotest.NewTable(t, r.clk)})
	hook := r.wecom.URL + "/cgi-bin/webhook/send?key=k1"
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(make([]byte, wechatapi.RobotImageMax+1))
	}))
	t.Cleanup(big.Close)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(down.Close)
	ctx := context.Background()
	if err := c.WebhookSend(ctx, hook, wechatapi.Message{Kind: qunyun.ContentImage, PicURL: down.URL}); !wechatapi.NotSent(err) {
		t.Errorf("picture server down: %v, want a not-sent error", err)
	}
	for _, m := range []wechatapi.Message{{Kind: qunyun.ContentImage, PicURL: big.URL}, {Kind: qunyun.ContentImage, MediaID: "M"}} {
		if err := c.WebhookSend(ctx, hook, m); qunyun.ErrorCode(err) != qunyun.EINVALID {
			t.Errorf("%+v: %v, want invalid", m, err)
		}
	}
	if n := len(r.sbx.Calls("/cgi-bin/webhook/send")); n != 0 {
		t.Errorf("%d robot calls, want none", n)
	}
}
