package loadtest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/loadtest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/wechat"
)

const aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

var targets = map[qunyun.Channel]loadtest.Target{
	qunyun.ChannelRelay:    {Account: qunyun.Account{ID: "bridge", Kind: qunyun.ChannelRelay, HMACKey: "s"}, Groups: []string{"g1", "g2"}},
	qunyun.ChannelWeComBot: {Account: qunyun.Account{ID: "bot", Kind: qunyun.ChannelWeComBot, Token: "t", EncodingAESKey: aesKey}, Groups: []string{"g1"}},
	qunyun.ChannelWeCom:    {Account: qunyun.Account{ID: "wc", Kind: qunyun.ChannelWeCom, CorpID: "ww", Token: "t", EncodingAESKey: aesKey}, Groups: []string{"g2"}},
	qunyun.ChannelOA:       {Account: qunyun.Account{ID: "oa", Kind: qunyun.ChannelOA, AppID: "wx", Token: "t"}},
}

func TestParseMix(t *testing.T) {
	m, err := loadtest.ParseMix("relay=0.6, bot=0.2,wecom=0.1,oa=0.1")
	if err != nil {
		t.Fatal(err)
	}
	if m[qunyun.ChannelWeComBot] != 0.2 || m.String() != "oa=0.1,relay=0.6,wecom=0.1,wecom-bot=0.2" {
		t.Errorf("mix %v", m)
	}
	for _, bad := range []string{"", "relay", "sms=1", "relay=-1", "relay=0", "relay=x"} {
		if _, err := loadtest.ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) succeeded", bad)
		}
	}
}

// receiver answers 200 and keeps every request body, per key of the
// relay/bot/oa/wecom path, so the test can count what the runner sent.
type receiver struct {
	mu     sync.Mutex
	bodies map[string]int
	n      int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies[string(b)]++
	rc.n++
	rc.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/wechat/") {
		http.NotFound(w, r)
		return
	}
	w.Write([]byte("success"))
}

func TestRunSendsRateAndDuplicates(t *testing.T) {
	rc := &receiver{bodies: map[string]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	mix, _ := loadtest.ParseMix("relay=1,bot=1,wecom=1,oa=1")
	run, err := loadtest.Start(context.Background(), &callbacks.Sender{Base: srv.URL, Client: srv.Client()}, loadtest.Options{
		Rate: 400, Duration: time.Second, Mix: mix, Dup: 0.25, Seed: 3, Targets: targets, Now: time.Now, // wallclock: a load run paces requests in real time
	})
	if err != nil {
		t.Fatal(err)
	}
	if rc.n != 400 || len(run.Attempts) != 400 {
		t.Fatalf("receiver saw %d requests, run recorded %d attempts; want 400", rc.n, len(run.Attempts))
	}
	dups := 400 - len(run.Sent)
	if dups < 60 || dups > 140 {
		t.Errorf("%d duplicates of 400, want about 100", dups)
	}
	repeated := 0
	for _, n := range rc.bodies {
		repeated += n - 1
	}
	if repeated != dups {
		t.Errorf("receiver saw %d repeated bodies, run says %d duplicates: duplicates must be identical bytes", repeated, dups)
	}
	channels := map[qunyun.Channel]int{}
	for _, s := range run.Sent {
		channels[s.Request.Channel]++
	}
	if len(channels) != 4 {
		t.Errorf("channels %v, want all four", channels)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	s := &callbacks.Sender{Base: "http://127.0.0.1:1", Client: http.DefaultClient}
	mix, _ := loadtest.ParseMix("relay=1")
	good := loadtest.Options{Rate: 10, Duration: time.Second, Mix: mix, Targets: targets, Now: time.Now} // wallclock: a load run paces requests in real time
	for name, mut := range map[string]func(*loadtest.Options){
		"rate":     func(o *loadtest.Options) { o.Rate = 0 },
		"duration": func(o *loadtest.Options) { o.Duration = 0 },
		"dup":      func(o *loadtest.Options) { o.Dup = 1 },
		"account":  func(o *loadtest.Options) { o.Targets = nil },
		"groups": func(o *loadtest.Options) {
			o.Targets = map[qunyun.Channel]loadtest.Target{qunyun.ChannelRelay: {Account: targets[qunyun.ChannelRelay].Account}}
		},
	} {
		o := good
		mut(&o)
		if _, err := loadtest.Start(context.Background(), s, o); err == nil {
			t.Errorf("%s: Start succeeded", name)
		}
	}
}

// The checker against a fixture in dynalite: one callback stored once, one
// stored twice, one not at all, one 1:1 OA message, and other items of the
// partition that are not callbacks' records.
func TestCheckCountsLostAndDuplicated(t *testing.T) {
	at := time.Date(2026, 11, 22, 23, 59, 59, 0, time.UTC)
	tb := dynamotest.NewTable(t, clock.NewManual(at))
	ctx := context.Background()
	b := &callbacks.Builder{Random: bytes.NewReader(make([]byte, 4096))}
	relay := targets[qunyun.ChannelRelay].Account
	mk := func(id string) callbacks.Request {
		r, err := b.Relay(relay, wechat.RelayEvent{ID: id, Type: "message", GroupID: "g1", MemberID: "m", Kind: "text", Time: at.Unix()}, at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	oaReq, err := b.OAText(targets[qunyun.ChannelOA].Account, "o1", "hi", 77, at)
	if err != nil {
		t.Fatal(err)
	}
	ok200 := callbacks.Result{Status: 200, Tries: 1, Statuses: []int{200}, Accepted: true, Latency: 10 * time.Millisecond}
	retried := callbacks.Result{Status: 200, Tries: 2, Statuses: []int{503, 200}, Accepted: true, Latency: 30 * time.Millisecond}
	failed := callbacks.Result{Status: 0, Tries: 3, Statuses: []int{0, 0, 0}, Latency: 5 * time.Second}
	run := &loadtest.Run{
		Sent: []*loadtest.Sent{
			{Request: mk("once"), GroupID: "g1", SentAt: at, Copies: 1, Accepted: true},
			// Sent just after midnight: found through the sending day's partition.
			{Request: mk("twice"), GroupID: "g1", SentAt: at.Add(2 * time.Second), Copies: 2, Accepted: true},
			{Request: mk("never"), GroupID: "g1", SentAt: at, Copies: 1, Accepted: true},
			{Request: mk("silent"), GroupID: "g1", SentAt: at, Copies: 1},
			{Request: oaReq, SentAt: at, Copies: 1, Accepted: true},
		},
		Attempts: []loadtest.Attempt{
			{Index: 0, Result: ok200}, {Index: 1, Result: retried}, {Index: 1, Dup: true, Result: ok200},
			{Index: 2, Result: ok200}, {Index: 3, Result: failed}, {Index: 4, Result: ok200},
		},
	}
	ms := "1764460799000"
	put := func(pk, sk string) {
		t.Helper()
		if _, err := tb.PutNew(ctx, dynamo.Keys{PK: pk, SK: sk, Type: "Message"}); err != nil {
			t.Fatal(err)
		}
	}
	day1, day2 := "GROUP#g1#D#2026-11-22", "GROUP#g1#D#2026-11-23"
	put(day1, "MSG#"+ms+"#once")
	put(day1, "MSG#"+ms+"#twice")
	put(day2, "MSG#1764460801000#twice") // a second record under another time
	put(day1, "MSG#"+ms+"#silent")
	put(day1, "DLV#d1")
	put(day1, "CHECKIN#never#2026-11-23")
	put("ACCOUNT#oa#D#2026-11-22", "MSG#"+ms+"#77")

	rep, err := loadtest.Check(ctx, tb, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Lost) != 1 || rep.Lost[0] != "never" {
		t.Errorf("lost %v, want [never]", rep.Lost)
	}
	if len(rep.Duplicated) != 1 || rep.Duplicated[0] != "twice" {
		t.Errorf("duplicated %v, want [twice]", rep.Duplicated)
	}
	if rep.Stored != 4 || rep.Accepted != 4 || rep.Unacknowledged != 1 || rep.GaveUp != 1 {
		t.Errorf("report %+v, want 4 stored, 4 accepted, 1 stored without a 200, 1 gave up", rep)
	}
	if rep.Requests != 6 || rep.Tries != 9 || rep.Errors["503"] != 1 || rep.Errors["timeout/conn"] != 3 {
		t.Errorf("requests %d tries %d errors %v", rep.Requests, rep.Tries, rep.Errors)
	}
	if rep.P50 != 10*time.Millisecond || rep.Max != 5*time.Second {
		t.Errorf("p50 %v max %v", rep.P50, rep.Max)
	}
	if rep.OK() {
		t.Error("report with a lost and a duplicated callback says OK")
	}
	var out strings.Builder
	rep.Print(&out)
	for _, want := range []string{"lost                1 e.g. never", "duplicated          1 e.g. twice", "p50 10.0ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed report lacks %q:\n%s", want, out.String())
		}
	}
}

// Settle against a fixture in dynalite: a callback stored, one answered
// 200 but not stored, one refused on every try, and one whose every try
// timed out, not stored yet. Only the last may still be on its way: it is
// in flight while the stack works, stored once the stack has finished it,
// and lost when the stack is idle without it.
func TestSettleTellsInFlightFromLost(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	b := &callbacks.Builder{Random: bytes.NewReader(make([]byte, 4096))}
	relay := targets[qunyun.ChannelRelay].Account
	mk := func(id string) callbacks.Request {
		r, err := b.Relay(relay, wechat.RelayEvent{ID: id, Type: "message", GroupID: "g1", MemberID: "m", Kind: "text", Time: at.Unix()}, at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ok200 := callbacks.Result{Status: 200, Tries: 1, Statuses: []int{200}, Accepted: true}
	refused := callbacks.Result{Status: 503, Tries: 3, Statuses: []int{503, 503, 503}}
	timedOut := callbacks.Result{Status: 0, Tries: 3, Statuses: []int{0, 0, 0}}
	run := &loadtest.Run{
		Sent: []*loadtest.Sent{
			{Request: mk("stored"), GroupID: "g1", SentAt: at, Copies: 1, Accepted: true},
			{Request: mk("answered"), GroupID: "g1", SentAt: at, Copies: 1, Accepted: true},
			{Request: mk("refused"), GroupID: "g1", SentAt: at, Copies: 1},
			{Request: mk("queued"), GroupID: "g1", SentAt: at, Copies: 1},
		},
		Attempts: []loadtest.Attempt{{Index: 0, Result: ok200}, {Index: 1, Result: ok200}, {Index: 2, Result: refused}, {Index: 3, Result: timedOut}},
	}
	const day = "GROUP#g1#D#2026-11-22"
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	newTable := func(t *testing.T) *dynamo.Table {
		tb := dynamotest.NewTable(t, clock.NewManual(at))
		store(t, tb, day, "MSG#"+ms+"#stored")
		return tb
	}
	never := func(context.Context) bool { return false }
	always := func(context.Context) bool { return true }

	for _, tc := range []struct {
		name           string
		drain          func(t *testing.T, tb *dynamo.Table) loadtest.Drain
		lost, inFlight string
	}{
		{"stack still working at the deadline", func(*testing.T, *dynamo.Table) loadtest.Drain {
			return loadtest.Drain{Idle: never}
		}, "answered refused", "queued"},
		{"no probe: the table cannot tell", func(*testing.T, *dynamo.Table) loadtest.Drain {
			return loadtest.Drain{}
		}, "answered refused", "queued"},
		{"stack idle without it", func(*testing.T, *dynamo.Table) loadtest.Drain {
			return loadtest.Drain{Idle: always, Limit: time.Hour}
		}, "answered refused queued", ""},
		{"stack stores it, then is idle", func(t *testing.T, tb *dynamo.Table) loadtest.Drain {
			calls := 0
			return loadtest.Drain{Limit: time.Hour, Poll: time.Millisecond, Idle: func(context.Context) bool {
				calls++
				if calls == 1 {
					store(t, tb, day, "MSG#"+ms+"#queued")
				}
				return calls > 1
			}}
		}, "answered refused", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTable(t)
			rep, err := loadtest.Settle(context.Background(), tb, run, tc.drain(t, tb))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rep.Lost, " "); got != tc.lost {
				t.Errorf("lost %q, want %q", got, tc.lost)
			}
			if got := strings.Join(rep.InFlight, " "); got != tc.inFlight {
				t.Errorf("in flight %q, want %q", got, tc.inFlight)
			}
			if want := 4 - len(rep.Lost) - len(rep.InFlight); rep.Stored != want {
				t.Errorf("stored %d, want %d", rep.Stored, want)
			}
			if rep.OK() {
				t.Error("report with lost callbacks says OK")
			}
		})
	}
}

func store(t *testing.T, tb *dynamo.Table, pk, sk string) {
	t.Helper()
	if _, err := tb.PutNew(context.Background(), dynamo.Keys{PK: pk, SK: sk, Type: "Message"}); err != nil {
		t.Fatal(err)
	}
}

func TestTraceListsEachRequestInOrder(t *testing.T) {
	run := &loadtest.Run{
		Sent: []*loadtest.Sent{
			{Request: callbacks.Request{Channel: qunyun.ChannelRelay, Key: "relay:1"}},
			{Request: callbacks.Request{Channel: qunyun.ChannelOA, Key: "oa:2"}},
		},
		Attempts: []loadtest.Attempt{
			{Index: 1, At: 12 * time.Millisecond, Result: callbacks.Result{Tries: 2, Statuses: []int{0, 200}, Latency: 5 * time.Second}},
			{Index: 0, At: 3 * time.Millisecond, Result: callbacks.Result{Tries: 1, Statuses: []int{200}, Latency: 2500 * time.Microsecond}},
			{Index: 0, Dup: true, At: 20 * time.Millisecond, Result: callbacks.Result{Tries: 1, Statuses: []int{200}, Latency: time.Millisecond}},
		},
	}
	var b strings.Builder
	if err := run.WriteTrace(&b); err != nil {
		t.Fatal(err)
	}
	want := `sent_ms,channel,key,duplicate,tries,statuses,first_try_ms
3,relay,relay:1,false,1,200,2.500
12,oa,oa:2,false,2,0 200,5000.000
20,relay,relay:1,true,1,200,1.000
`
	if b.String() != want {
		t.Errorf("trace:\n%s\nwant:\n%s", b.String(), want)
	}
}
