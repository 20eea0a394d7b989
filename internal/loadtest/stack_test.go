package loadtest_test

import (
	"context"
	"net/http"
	"strings"
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
