package loadtest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/loadtest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/simulate/callbacktest"
)

// A short run through the real callback with duplicates and 5 % DynamoDB
// faults: nothing lost, nothing stored twice, and the faults did happen.
func TestRunAgainstCallbackWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	var list []qunyun.Account
	for _, tg := range targets {
		list = append(list, tg.Account)
	}
	st := callbacktest.Start(t, callbacktest.Options{Accounts: list, Faults: 0.05, Seed: 11, Clock: clock.Real{}}) // wallclock: a load run paces requests in real time
	gw, tb, proxy := st.URL, st.Table, st.Proxy
	mix, _ := loadtest.ParseMix("relay=0.6,wecom=0.15,bot=0.15,oa=0.1")
	run, err := loadtest.Start(context.Background(), &callbacks.Sender{
		// Patient, unlike WeChat (5 s, 3 tries): this test proves that
		// storage is exactly once under DynamoDB faults, and a loaded
		// machine must not turn slowness into "gave up".
		Base: gw, Client: &http.Client{Timeout: time.Minute}, MaxTries: 10, Backoff: 100 * time.Millisecond,
	}, loadtest.Options{
		Rate: 100, Duration: 3 * time.Second, Mix: mix, Dup: 0.2, Seed: 5, Targets: targets, Now: time.Now, // wallclock: a load run paces requests in real time
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadtest.Check(context.Background(), tb, run)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Logf("faults injected %v\n%s", proxy.Stats().Injected, out.String())
	if !rep.OK() || rep.Stored != rep.Distinct {
		t.Errorf("lost %d, duplicated %d, stored %d of %d", len(rep.Lost), len(rep.Duplicated), rep.Stored, rep.Distinct)
	}
	if len(proxy.Stats().Injected) == 0 {
		t.Error("no fault was injected: the test proves nothing about faults")
	}
}

// A run through the real callback behind a front that, like a busy stack's
// queue, holds every fourth callback without answering (the client sees
// the connection drop and gives up after its tries) and lets the held ones
// through only when asked whether it is idle. Settle waits for them: they
// count as stored, not lost, and the stack's dedup still holds.
func TestSettleWaitsForQueuedCallbacks(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	var list []qunyun.Account
	for _, tg := range targets {
		list = append(list, tg.Account)
	}
	st := callbacktest.Start(t, callbacktest.Options{Accounts: list, Clock: clock.Real{}}) // wallclock: a load run paces requests in real time
	q := &queue{next: st.URL, hold: map[string]bool{}}
	front := httptest.NewServer(q)
	defer front.Close()
	mix, _ := loadtest.ParseMix("relay=0.6,wecom=0.15,bot=0.15,oa=0.1")
	ctx := context.Background()
	run, err := loadtest.Start(ctx, &callbacks.Sender{Base: front.URL, Client: &http.Client{Timeout: 5 * time.Second}}, loadtest.Options{
		Rate: 40, Duration: time.Second, Mix: mix, Dup: 0.2, Seed: 7, Targets: targets, Now: time.Now, // wallclock: a load run paces requests in real time
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadtest.Settle(ctx, st.Table, run, loadtest.Drain{Limit: time.Minute, Poll: 10 * time.Millisecond, Idle: q.idle})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Logf("held %d requests\n%s", q.released, out.String())
	if q.released == 0 || rep.GaveUp == 0 {
		t.Fatalf("nothing was held (%d) or given up (%d): the test proves nothing", q.released, rep.GaveUp)
	}
	if !rep.OK() || rep.Stored != rep.Distinct {
		t.Errorf("lost %v, in flight %v, duplicated %v; stored %d of %d", rep.Lost, rep.InFlight, rep.Duplicated, rep.Stored, rep.Distinct)
	}
}

// queue forwards requests to next, except every fourth distinct callback
// (all its copies and tries): those it drops unanswered and keeps until
// idle is called.
type queue struct {
	next     string
	mu       sync.Mutex
	hold     map[string]bool // body → held
	held     []heldRequest
	released int
}

type heldRequest struct {
	uri    string
	header http.Header
	body   []byte
}

func (q *queue) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h := heldRequest{uri: r.URL.RequestURI(), header: r.Header.Clone(), body: body}
	q.mu.Lock()
	hold, seen := q.hold[string(body)]
	if !seen {
		hold = len(q.hold)%4 == 0
		q.hold[string(body)] = hold
	}
	if hold {
		q.held = append(q.held, h)
	}
	q.mu.Unlock()
	if hold {
		panic(http.ErrAbortHandler) // the connection drops: no answer
	}
	resp, err := q.forward(h)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func (q *queue) forward(h heldRequest) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, q.next+h.uri, bytes.NewReader(h.body))
	if err != nil {
		return nil, err
	}
	req.Header = h.header
	return http.DefaultClient.Do(req)
}

// idle lets the held requests through, then reports idle once none is
// left.
func (q *queue) idle(context.Context) bool {
	q.mu.Lock()
	held := q.held
	q.held = nil
	q.released += len(held)
	q.mu.Unlock()
	for _, h := range held {
		if resp, err := q.forward(h); err == nil {
			resp.Body.Close()
		}
	}
	return len(held) == 0
}
