package push_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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
	faulty.Store = pushStores(&dynamo.Table{DB: dynamotest.NewClient(srv.URL), Name: e.tb.Name, Now: e.clk.Now})
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

// failingPuts fails the PutItem calls whose item match selects, as a
// DynamoDB outage would: it lets the first pass of them through, then fails
// the next fail of them (all of them when fail < 0).
type failingPuts struct {
	dynamo.API
	match      func(dynamo.Item) bool
	pass, fail int

	mu   sync.Mutex
	seen int
}

func (f *failingPuts) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if f.match(in.Item) {
		f.mu.Lock()
		f.seen++
		n := f.seen
		f.mu.Unlock()
		if n > f.pass && (f.fail < 0 || n <= f.pass+f.fail) {
			return nil, errors.New("injected: service unavailable")
		}
	}
	return f.API.PutItem(ctx, in, opts...)
}

// attrHasPrefix selects items whose string attribute name starts with prefix.
func attrHasPrefix(name, prefix string) func(dynamo.Item) bool {
	return func(it dynamo.Item) bool {
		v, ok := it[name].(*types.AttributeValueMemberS)
		return ok && strings.HasPrefix(v.Value, prefix)
	}
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
	faulty.Store = pushStores(&dynamo.Table{DB: &failingPuts{API: e.tb.DB, match: attrHasPrefix("SK", "DLV#"), pass: 4, fail: -1}, Name: e.tb.Name, Now: e.clk.Now})
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
	faulty.Store = pushStores(&dynamo.Table{DB: &failingPuts{API: e.tb.DB, match: attrHasPrefix("PK", "LINK#"), fail: 1}, Name: e.tb.Name, Now: e.clk.Now})
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
	n, err := dynamo.Deliveries{Table: e.tb}.CapCount(e.ctx, qunyun.GroupDayCap("g000", "2026-11-23"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("daily cap counter = %d, want 1", n)
	}
}

// A delivery that fails before its send, and whose final write fails too,
// gives back the caps it reserved: they were never recorded on the item.
func TestFailedFinishBeforeSendGivesCapsBack(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Plan{ID: "p", Contents: []string{"missing"}, Cron: "0 11 * * ? *"})

	faulty := e.newService()
	faulty.Store = pushStores(&dynamo.Table{DB: &failingPuts{API: e.tb.DB, match: attrHasPrefix("state", string(qunyun.DeliveryFailed)), fail: 1}, Name: e.tb.Name, Now: e.clk.Now})
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
	n, err := dynamo.Deliveries{Table: e.tb}.CapCount(e.ctx, qunyun.GroupDayCap("g000", "2026-11-23"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("daily cap counter = %d after a delivery that never went out, want 0", n)
	}
}

// lostPut applies the first PutItem that match selects and DynamoDB
// accepts, and loses its answer: with retry set the caller sees what the
// SDK's own retry gets (the put sent again), else an error.
type lostPut struct {
	dynamo.API
	match func(dynamo.Item) bool
	retry bool
	lost  atomic.Bool
}

func (l *lostPut) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := l.API.PutItem(ctx, in, opts...)
	if err != nil || !l.match(in.Item) || l.lost.Swap(true) {
		return out, err
	}
	if l.retry {
		return l.API.PutItem(ctx, in, opts...)
	}
	return nil, errors.New("injected: connection reset after the write")
}

// sendStartedMark selects the write of the send-started mark: a claimed
// delivery that carries sendStartedAt.
func sendStartedMark(item dynamo.Item) bool {
	var it qunyun.DeliveryRecord
	if sk, _ := item["SK"].(*types.AttributeValueMemberS); sk == nil || !strings.HasPrefix(sk.Value, "DLV#") {
		return false
	}
	return dynamo.Unmarshal(item, &it) == nil && it.State == qunyun.DeliveryClaimed && !it.SendStartedAt.IsZero()
}

// The send-started mark is written before the API call. Whether its write
// is lost (applied, answer unheard) or fails (not applied), the API was not
// called yet: the delivery is sent exactly once and never ends unknown.
func TestLostSendStartedMarkIsNotUnknown(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(dynamo.API) dynamo.API
	}{
		{"applied, the SDK's retry fails its condition", func(db dynamo.API) dynamo.API {
			return &lostPut{API: db, match: sendStartedMark, retry: true}
		}},
		{"applied, the answer is an error", func(db dynamo.API) dynamo.API {
			return &lostPut{API: db, match: sendStartedMark}
		}},
		{"not applied", func(db dynamo.API) dynamo.API {
			return &failingPuts{API: db, match: sendStartedMark, fail: 1}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, local(2026, 11, 23, 11, 0))
			e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
			e.put(qunyun.Member{GroupID: "g000", ID: "mod-1", Role: qunyun.RoleModerator})
			e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
			e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})

			faulty := e.newService()
			faulty.Store = pushStores(&dynamo.Table{DB: tc.db(e.tb.DB), Name: e.tb.Name, Now: e.clk.Now})
			faulty.Tick(e.ctx, local(2026, 11, 23, 11, 0)) // may fail: the next ticks recover
			if n := e.sendsTo("/cgi-bin/appchat/send", `"chatid":"g000"`); n > 1 {
				t.Fatalf("%d posts in the faulty tick", n)
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
			if n := len(e.bus.of(qunyun.EventDeliveryRequested)); n != 0 {
				t.Fatalf("%d alerts requested for a delivery that was sent once", n)
			}
		})
	}
}
