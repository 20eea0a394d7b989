package push_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/faultproxy"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// With a fifth of DynamoDB requests throttled, failing, timing out or
// losing their answers (applied but unheard), no group is ever posted to
// twice, and once the table behaves every delivery ends in a final state:
// sent, or unknown when its confirmation was lost (never re-sent).
func TestNeverTwiceWhenDynamoDBMisbehaves(t *testing.T) {
	if testing.Short() {
		t.Skip("the SDK's retry back-off makes this take ~30 s")
	}
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	const groups = 40
	e.groups(groups, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})

	proxy, err := faultproxy.New(dynamotest.Endpoint(t), faultproxy.Options{Rate: 0.2, Hold: 20 * time.Millisecond, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	clean := e.svc
	faulty := e.newService()
	faulty.Table = &dynamo.Table{DB: dynamotest.NewClient(srv.URL), Name: e.tb.Name, Now: e.clk.Now}
	tickErrs := 0
	for m := local(2026, 11, 23, 11, 0); !m.After(local(2026, 11, 23, 11, 10)); m = m.Add(time.Minute) {
		e.clk.Set(m)
		if _, err := faulty.Tick(context.Background(), m); err != nil {
			tickErrs++
		}
	}
	for m := local(2026, 11, 23, 11, 11); !m.After(local(2026, 11, 23, 11, 20)); m = m.Add(time.Minute) {
		e.clk.Set(m)
		if _, err := clean.Tick(context.Background(), m); err != nil {
			t.Fatalf("clean tick %s: %v", m.Format("15:04"), err)
		}
	}
	stats := proxy.Stats()
	t.Logf("faults injected: %v over %d requests; %d faulty ticks returned an error", stats.Injected, stats.Total(), tickErrs)
	if stats.Injected[faultproxy.LostAnswer] == 0 {
		t.Fatal("no lost answers were injected: the test proves nothing")
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != groups {
		t.Fatalf("%d deliveries, want %d (one per group, none lost)", len(items), groups)
	}
	states := map[qunyun.DeliveryState]int{}
	for _, it := range items {
		states[it.State]++
		posts := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"`+it.GroupID+`"`)
		switch {
		case posts > 1:
			t.Fatalf("group %s posted %d times", it.GroupID, posts)
		case it.State == qunyun.DeliverySent && posts != 1:
			t.Fatalf("group %s: sent but %d posts", it.GroupID, posts)
		case it.State != qunyun.DeliverySent && it.State != qunyun.DeliveryUnknown:
			t.Fatalf("group %s left in %s/%s", it.GroupID, it.State, it.Reason)
		}
	}
	t.Logf("final states: %v", states)
}

// WeChat takes the post and the connection drops before the answer: the
// outcome is unknown, so the delivery is marked unknown at once, moderators
// are alerted, and no later tick sends it again.
func TestLostWeChatAnswerIsUnknown(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Member{GroupID: "g000", ID: "mod-1", Role: qunyun.RoleModerator})
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})
	inner := e.sbx.WeCom()
	dropped := false
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/appchat/send" && !dropped {
			dropped = true
			inner.ServeHTTP(httptest.NewRecorder(), r) // WeChat applies it...
			panic(http.ErrAbortHandler)                // ...and the answer is lost
		}
		inner.ServeHTTP(w, r)
	}))
	defer lossy.Close()
	e.wcURL = lossy.URL
	e.svc = e.newService()
	for m := local(2026, 11, 23, 11, 0); !m.After(local(2026, 11, 23, 11, 5)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != 1 || items[0].State != qunyun.DeliveryUnknown {
		t.Fatalf("deliveries = %+v, want one unknown", items)
	}
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
	if len(e.bus.of(qunyun.EventDeliveryRequested)) != 1 {
		t.Fatal("no alert requested for the unknown delivery")
	}
}

// failingClaims lets the first n delivery claims through and fails the rest,
// as a DynamoDB outage halfway through a tick would.
type failingClaims struct {
	dynamo.API
	mu   sync.Mutex
	left int
}

func (f *failingClaims) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if sk, ok := in.Item["SK"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(sk.Value, "DLV#") {
		f.mu.Lock()
		f.left--
		fail := f.left < 0
		f.mu.Unlock()
		if fail {
			return nil, errors.New("injected: service unavailable")
		}
	}
	return f.API.PutItem(ctx, in, opts...)
}

// The very first tick fails halfway: the next tick expands that minute again,
// so the groups it had not claimed yet still get their delivery.
func TestFirstTickFailingHalfwayLosesNothing(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	const groups = 10
	e.groups(groups, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})

	faulty := e.newService()
	faulty.Table = &dynamo.Table{DB: &failingClaims{API: e.tb.DB, left: 4}, Name: e.tb.Name, Now: e.clk.Now}
	if _, err := faulty.Tick(context.Background(), local(2026, 11, 23, 11, 0)); err == nil {
		t.Fatal("the faulty tick reported success")
	}
	if n := len(e.deliveries(local(2026, 11, 23, 11, 0))); n >= groups {
		t.Fatalf("the faulty tick claimed %d deliveries: the fault did not bite", n)
	}
	// Claims abandoned before their send are resumed by a later sweep.
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 6)); m = m.Add(time.Minute) {
		e.clk.Set(m)
		if _, err := e.svc.Tick(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != groups {
		t.Fatalf("%d deliveries after recovery, want %d", len(items), groups)
	}
	for _, it := range items {
		if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"`+it.GroupID+`"`); n != 1 {
			t.Fatalf("group %s posted %d times (delivery %s/%s)", it.GroupID, n, it.State, it.Reason)
		}
	}
}

// failingLinks fails the first n tracked-link writes, as a DynamoDB blip
// during render would.
type failingLinks struct {
	dynamo.API
	mu   sync.Mutex
	left int
}

func (f *failingLinks) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if pk, ok := in.Item["PK"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "LINK#") {
		f.mu.Lock()
		fail := f.left > 0
		f.left--
		f.mu.Unlock()
		if fail {
			return nil, errors.New("injected: service unavailable")
		}
	}
	return f.API.PutItem(ctx, in, opts...)
}

// A table failure after the caps were reserved (here: writing the tracked
// link) gives the caps back: the resumed delivery is sent, not skipped for
// a cap its own failed attempt took.
func TestFailedRenderGivesCapsBack(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) {
		g.Tags = []string{qunyun.TagInternal}
		g.Caps.DailyMax = 1
	})
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "read https://example.com/a"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})

	faulty := e.newService()
	faulty.Table = &dynamo.Table{DB: &failingLinks{API: e.tb.DB, left: 1}, Name: e.tb.Name, Now: e.clk.Now}
	if _, err := faulty.Tick(context.Background(), local(2026, 11, 23, 11, 0)); err == nil {
		t.Fatal("the faulty tick reported success")
	}
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 6)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != 1 || items[0].State != qunyun.DeliverySent {
		t.Fatalf("deliveries = %+v, want one sent", items)
	}
	if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"g000"`); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
	n, err := e.tb.CapCount(e.ctx, dynamo.GroupDayCap("g000", "2026-11-23"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("daily cap counter = %d, want 1", n)
	}
}

// failingFinish fails the first n writes that move a delivery to state.
type failingFinish struct {
	dynamo.API
	state qunyun.DeliveryState
	mu    sync.Mutex
	left  int
}

func (f *failingFinish) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if st, ok := in.Item["state"].(*types.AttributeValueMemberS); ok && st.Value == string(f.state) {
		f.mu.Lock()
		fail := f.left > 0
		f.left--
		f.mu.Unlock()
		if fail {
			return nil, errors.New("injected: service unavailable")
		}
	}
	return f.API.PutItem(ctx, in, opts...)
}

// A delivery that fails before its send, and whose final write fails too,
// gives back the caps it reserved: they were never recorded on the item.
func TestFailedFinishBeforeSendGivesCapsBack(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Plan{ID: "p", Contents: []string{"missing"}, Cron: "0 11 * * ? *"})

	faulty := e.newService()
	faulty.Table = &dynamo.Table{DB: &failingFinish{API: e.tb.DB, state: qunyun.DeliveryFailed, left: 1}, Name: e.tb.Name, Now: e.clk.Now}
	if _, err := faulty.Tick(context.Background(), local(2026, 11, 23, 11, 0)); err == nil {
		t.Fatal("the faulty tick reported success")
	}
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 6)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	items := e.deliveries(local(2026, 11, 23, 11, 0))
	if len(items) != 1 || items[0].State != qunyun.DeliveryFailed {
		t.Fatalf("deliveries = %+v, want one failed", items)
	}
	n, err := e.tb.CapCount(e.ctx, dynamo.GroupDayCap("g000", "2026-11-23"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("daily cap counter = %d after a delivery that never went out, want 0", n)
	}
}
