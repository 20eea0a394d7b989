package callback_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/local/sandbox"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// pushSide is the rest of the system behind the callback's bus: the local
// stack's EventBridge (PutEvents over HTTP, the SDK publisher), routing
// ModerationHit and MemberJoined to the real push service, which sends to
// the WeChat API sandbox. It shares the fixture's table (but not its fault
// injection).
type pushSide struct {
	bus     *eventbus.Bus
	sandbox *sandbox.Server

	mu        sync.Mutex
	envelopes []events.EventBridgeEvent
	errs      []error
}

func newPushSide(t *testing.T, f *fixture, db dynamo.API) *pushSide {
	t.Helper()
	p := &pushSide{sandbox: sandbox.New(f.clock)}
	wc := httptest.NewServer(p.sandbox.WeCom())
	t.Cleanup(wc.Close)
	table := &dynamo.Table{DB: db, Name: f.table.Name, Now: f.clock.Now}
	dir, err := accounts.NewStatic([]qunyun.Account{
		{ID: "wc", Kind: qunyun.ChannelWeCom, CorpID: "ww1", AgentID: "1000002", Secret: "s", Token: "t", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
		{ID: "relay", Kind: qunyun.ChannelRelay, HMACKey: relaySecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := &wechatapi.Client{
		WeComBase: wc.URL,
		Tokens:    &wechatapi.Tokens{Store: dynamo.Tokens{Table: table}, Now: f.clock.Now, Poll: 5 * time.Millisecond},
		Limits:    &wechatapi.Limits{ByPath: map[string]wechatapi.Limit{"": {PerSecond: 100000, Burst: 100000}}},
		Backoff:   []time.Duration{time.Millisecond},
		Now:       f.clock.Now,
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &push.Service{Store: pushStores(table), Accounts: dir, Channels: push.NewChannels(client), Tasks: client,
		Clock: f.clock, PublicBaseURL: "https://cb.example.test", Log: quiet}
	p.bus, err = eventbus.New(eventbus.Config{Clock: f.clock, Logger: quiet, Rules: []eventbus.Rule{{Function: "PushFunction",
		EventBusName: "qunyun-test", Pattern: []byte(`{"source":["qunyun"],"detail-type":["ModerationHit","MemberJoined"]}`)}},
		Invoker: invokerFunc(func(ctx context.Context, payload []byte) error {
			var ev events.EventBridgeEvent
			_ = json.Unmarshal(payload, &ev)
			_, err := svc.Invoke(ctx, payload)
			p.mu.Lock()
			defer p.mu.Unlock()
			p.envelopes = append(p.envelopes, ev)
			if err != nil {
				p.errs = append(p.errs, err)
			}
			return err
		})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.bus)
	t.Cleanup(func() { srv.Close(); p.bus.Wait() })
	f.handler.Service.Bus = &bus.Publisher{BusName: "qunyun-test", Client: eventbridge.New(eventbridge.Options{Region: "us-east-1",
		BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})}
	return p
}

type invokerFunc func(ctx context.Context, payload []byte) error

func (f invokerFunc) Invoke(ctx context.Context, _ string, payload []byte) error {
	return f(ctx, payload)
}

// delivered waits for the bus's deliveries and returns the envelopes push
// got of detailType; push must have taken each without an error.
func (p *pushSide) delivered(t *testing.T, detailType string) []events.EventBridgeEvent {
	t.Helper()
	p.bus.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.errs) > 0 {
		t.Fatalf("push failed: %v", p.errs)
	}
	var out []events.EventBridgeEvent
	for _, e := range p.envelopes {
		if e.DetailType == detailType {
			out = append(out, e)
		}
	}
	return out
}

// alertsTo counts the WeCom app messages push sent to a staff member, once
// the bus's deliveries are done.
func (p *pushSide) alertsTo(member string) int {
	p.bus.Wait()
	n := 0
	for _, c := range p.sandbox.Calls("/cgi-bin/message/send") {
		if c.ErrCode == 0 && strings.Contains(string(c.Body), `"touser":"`+member+`"`) {
			n++
		}
	}
	return n
}

// A moderation hit whose ModerationHit was published but whose done-mark
// failed is published again by WeChat's retry. When the retry comes after
// UTC midnight it is still the same event: same detail id, same time (the
// message's), so push, which dates its deliveries by the event's time,
// claims the same alert and the moderator gets one alert, not two.
func TestRepublishAfterMidnightIsTheSameEvent(t *testing.T) {
	var db *stepFaultDB
	f := newFixture(t, func(api dynamo.API) dynamo.API { db = &stepFaultDB{API: api}; return db })
	p := newPushSide(t, f, db.API)
	ctx := context.Background()
	if err := (dynamo.Catalog{Table: f.table}).PutGroup(ctx, qunyun.Group{ID: "g1", AccountID: "relay", Name: "读书会", TimeZone: "Asia/Shanghai",
		State: qunyun.GroupActive, CreatedAt: f.clock.Now().AddDate(0, -1, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Catalog{Table: f.table}).PutMember(ctx, qunyun.Member{GroupID: "g1", ID: "mod-a", Role: qunyun.RoleModerator, JoinedAt: f.clock.Now().AddDate(0, -1, 0)}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 23, 59, 50, 0, time.UTC)
	f.clock.Set(at)
	hit := relayMessage("m1", "g1", "u1", "加我领资料 https://x.example.com/a", at)
	db.match = func(r request) bool {
		return r.op == "update" && strings.HasPrefix(r.sk, "MSG#") && strings.Contains(r.expr, "REMOVE")
	}
	if r := f.relay(hit); r.StatusCode != 503 {
		t.Fatalf("first delivery: %d %q, want 503 (the done-mark failed)", r.StatusCode, r.Body)
	}
	if n := len(p.delivered(t, qunyun.EventModerationHit)); n != 1 {
		t.Fatalf("first delivery published %d ModerationHit, want 1 before its done-mark failed", n)
	}
	f.clock.Set(at.Add(40 * time.Second)) // 00:00:30 the next day (UTC)
	if r := f.relay(hit); r.StatusCode != 200 {
		t.Fatalf("retry: %d %q", r.StatusCode, r.Body)
	}
	got := p.delivered(t, qunyun.EventModerationHit)
	if len(got) != 2 {
		t.Fatalf("%d ModerationHit delivered, want 2 (the retry publishes again)", len(got))
	}
	var ids [2]string
	for i, e := range got {
		var d struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(e.Detail, &d)
		ids[i] = d.ID
		if !e.Time.Equal(at) {
			t.Errorf("publish %d has time %v, want the message's %v", i+1, e.Time, at)
		}
	}
	if ids[0] != ids[1] || ids[0] == "" {
		t.Errorf("detail ids %q and %q, want one id", ids[0], ids[1])
	}
	if n := p.alertsTo("mod-a"); n != 1 {
		t.Fatalf("the moderator got %d alerts, want 1", n)
	}
	if n := f.followupLeft(); n != 0 {
		t.Fatalf("%d records with work left", n)
	}
}
