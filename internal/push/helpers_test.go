package push_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/sandbox"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/syncbuf"
	"github.com/qunyun/qunyun/internal/wechat"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

const (
	publicBase = "https://cb.example.test"
	relayKey   = "relay-test-secret"
)

var (
	shanghai = qunyun.LoadLocation("Asia/Shanghai")
	wecom    = qunyun.Account{ID: "wc", Kind: qunyun.ChannelWeCom, CorpID: "ww1", AgentID: "1000002", Secret: "s", Token: "t", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
	oa       = qunyun.Account{ID: "oa", Kind: qunyun.ChannelOA, AppID: "wx1", Secret: "s", Token: "t"}
)

// local returns a time in Asia/Shanghai.
func local(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, shanghai)
}

// recBus records what the service publishes.
type recBus struct {
	mu     sync.Mutex
	events []bus.Event
}

func (b *recBus) Publish(_ context.Context, evs ...bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, evs...)
	return nil
}

func (b *recBus) of(detailType string) []bus.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []bus.Event
	for _, e := range b.events {
		if e.DetailType == detailType {
			out = append(out, e)
		}
	}
	return out
}

// env is one push deployment: a table on dynalite, the WeChat sandbox on a
// loopback HTTP server, a manual clock.
type env struct {
	t     testing.TB
	ctx   context.Context
	clk   *clock.Manual
	tb    *dynamo.Table
	sbx   *sandbox.Server
	oaURL string
	wcURL string
	// relay is a bridge's webhook: it checks the signature, counts and
	// keeps the posts it takes, and answers relayDown's status instead
	// while that is set (-1: drops the connection unanswered).
	relayURL   string
	relayPosts atomic.Int64
	relayDown  atomic.Int64
	relayMu    sync.Mutex
	relayGot   []wechatapi.RelayMessage
	bus        *recBus
	metrics    *syncbuf.Buffer
	svc        *push.Service
}

func newEnv(t testing.TB, start time.Time) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clk: clock.NewManual(start), bus: &recBus{}, metrics: &syncbuf.Buffer{}}
	e.tb = dynamotest.NewTable(t, e.clk)
	e.sbx = sandbox.New(e.clk)
	oaSrv := httptest.NewServer(e.sbx.OA())
	wcSrv := httptest.NewServer(e.sbx.WeCom())
	t.Cleanup(func() { oaSrv.Close(); wcSrv.Close() })
	e.oaURL, e.wcURL = oaSrv.URL, wcSrv.URL
	relaySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := wechat.VerifyRelay([]byte(relayKey), r.Header.Get(wechat.RelayTimestampHeader), r.Header.Get(wechat.RelaySignatureHeader), body, e.clk.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		switch down := e.relayDown.Load(); {
		case down == -1:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		case down != 0:
			w.WriteHeader(int(down))
			return
		}
		e.relayPosts.Add(1)
		var m wechatapi.RelayMessage
		json.Unmarshal(body, &m)
		e.relayMu.Lock()
		e.relayGot = append(e.relayGot, m)
		e.relayMu.Unlock()
	}))
	t.Cleanup(relaySrv.Close)
	e.relayURL = relaySrv.URL
	e.svc = e.newService()
	return e
}

// relayed returns the posts the bridge took, oldest first.
func (e *env) relayed() []wechatapi.RelayMessage {
	e.relayMu.Lock()
	defer e.relayMu.Unlock()
	return append([]wechatapi.RelayMessage(nil), e.relayGot...)
}

// newService returns another service on the same table and sandbox, as a
// second Lambda process would be.
func (e *env) newService() *push.Service {
	// The bot's group robots, one per group: robot-<name> is the key of the
	// robot a group's webhook <name> names.
	bot := qunyun.Account{ID: "bot", Kind: qunyun.ChannelWeComBot, Token: "t", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
		Webhooks: map[string]string{}}
	for _, name := range []string{"learning", "kitchen", "garden"} {
		bot.Webhooks[name] = e.wcURL + "/cgi-bin/webhook/send?key=robot-" + name
	}
	relay := qunyun.Account{ID: "relay", Kind: qunyun.ChannelRelay, HMACKey: relayKey, Webhook: e.relayURL}
	dir, err := accounts.NewStatic([]qunyun.Account{wecom, oa, bot, relay})
	if err != nil {
		e.t.Fatal(err)
	}
	client := &wechatapi.Client{
		OABase: e.oaURL, WeComBase: e.wcURL,
		Tokens:  &wechatapi.Tokens{Store: dynamo.Tokens{Table: e.tb}, Now: e.clk.Now, Poll: 5 * time.Millisecond},
		Limits:  &wechatapi.Limits{ByPath: map[string]wechatapi.Limit{"": {PerSecond: 100000, Burst: 100000}}},
		Backoff: []time.Duration{time.Millisecond},
		Now:     e.clk.Now,
	}
	return &push.Service{
		Store: pushStores(e.tb), Accounts: dir, Channels: push.NewChannels(client), Tasks: client, GroupChats: client, Bus: e.bus,
		Metrics: &metrics.Emitter{W: e.metrics, Dimensions: map[string]string{"Stage": "test"}, Now: e.clk.Now},
		Clock:   e.clk, PublicBaseURL: publicBase,
	}
}

// groups writes n WeCom customer groups g000.. owned by owner-<i>, each with
// a moderator.
func (e *env) groups(n int, mutate func(g *qunyun.Group)) []qunyun.Group {
	e.t.Helper()
	var out []qunyun.Group
	for i := range n {
		g := qunyun.Group{
			ID: fmt.Sprintf("g%03d", i), AccountID: wecom.ID, Name: fmt.Sprintf("社群%03d", i), Purpose: qunyun.PurposeGeneral,
			OwnerID: fmt.Sprintf("owner-%03d", i), TimeZone: "Asia/Shanghai", State: qunyun.GroupActive, MemberCount: 40,
			CreatedAt: local(2026, 1, 1, 0, 0),
		}
		if mutate != nil {
			mutate(&g)
		}
		if err := (dynamo.Catalog{Table: e.tb}).PutGroup(e.ctx, g); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, g)
	}
	return out
}

func (e *env) put(v any) {
	e.t.Helper()
	var err error
	switch v := v.(type) {
	case qunyun.Plan:
		err = dynamo.Catalog{Table: e.tb}.PutPlan(e.ctx, v)
	case qunyun.Content:
		err = dynamo.Catalog{Table: e.tb}.PutContent(e.ctx, v)
	case qunyun.Member:
		err = dynamo.Catalog{Table: e.tb}.PutMember(e.ctx, v)
	default:
		e.t.Fatalf("put %T", v)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// tick runs the tick for minute at (the clock moves there first).
func (e *env) tick(at time.Time) push.TickReport {
	e.t.Helper()
	e.clk.Set(at)
	rep, err := e.svc.Tick(e.ctx, at)
	if err != nil {
		e.t.Fatalf("tick %s: %v", at.In(shanghai).Format("01-02 15:04"), err)
	}
	return rep
}

// deliveries returns every delivery dated on the UTC dates of the given times.
func (e *env) deliveries(days ...time.Time) []qunyun.DeliveryRecord {
	e.t.Helper()
	var out []qunyun.DeliveryRecord
	seen := map[string]bool{}
	for _, d := range days {
		date := d.UTC().Format(time.DateOnly)
		if seen[date] {
			continue
		}
		seen[date] = true
		items, err := dynamo.Deliveries{Table: e.tb}.DayDeliveries(e.ctx, date, "")
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, items...)
	}
	return out
}

// sendsTo counts the sandbox calls to path whose body mentions s.
func (e *env) sendsTo(path, s string) int {
	n := 0
	for _, c := range e.sbx.Calls(path) {
		if c.ErrCode == 0 && strings.Contains(string(c.Body), s) {
			n++
		}
	}
	return n
}

// event wraps a detail into an EventBridge envelope for Invoke.
func event(detailType string, at time.Time, detail any) json.RawMessage {
	d, _ := json.Marshal(detail)
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "evt-1", "detail-type": detailType, "source": "qunyun",
		"time": at.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{}, "detail": json.RawMessage(d),
	})
	return b
}
