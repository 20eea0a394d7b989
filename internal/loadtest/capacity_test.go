package loadtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/loadtest"
)

// The report divides each kind's units by its events, lists the callback
// channels first, and charges the background work to the callbacks in the
// total.
func TestCapacityReport(t *testing.T) {
	c := loadtest.NewCapacity([]loadtest.KindCost{
		{Kind: "PushFunction schedule", Events: 2, Requests: 4, WRU: 2, RRU: 6},
		{Kind: "wecom", Events: 4, Requests: 20, WRU: 24, RRU: 22, IndexWRU: 8, ConditionalFailures: 3},
		{Kind: "relay", Events: 10, Requests: 30, WRU: 14, RRU: 2},
	})
	var kinds []string
	for _, k := range c.ByKind {
		kinds = append(kinds, k.Kind)
	}
	if got := strings.Join(kinds, ","); got != "relay,wecom,PushFunction schedule" {
		t.Errorf("order %s", got)
	}
	wecom := c.ByKind[1]
	if !wecom.Callback || wecom.WRUPerEvent != 6 || wecom.RRUPerEvent != 5.5 || wecom.RequestsPerEvent != 5 {
		t.Errorf("wecom %+v", wecom)
	}
	if c.ByKind[2].Callback || c.CallbackEvents != 14 || c.WRUPerCallback != 40.0/14 || c.RRUPerCallback != 30.0/14 {
		t.Errorf("totals %+v", c)
	}
	var out strings.Builder
	c.Print(&out)
	if !strings.Contains(out.String(), "wecom") || !strings.Contains(out.String(), "6.00") || !strings.Contains(out.String(), "all, per callback") {
		t.Errorf("printed:\n%s", out.String())
	}
	raw, err := json.Marshal(loadtest.Report{Capacity: c})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"capacity":{"byKind":[{"kind":"relay","callback":true`, `"wruPerEvent":6`, `"rruPerCallback":`, `"conditionalFailures":3`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("JSON lacks %s:\n%s", key, raw)
		}
	}
}
