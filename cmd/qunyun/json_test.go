package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/loadtest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate"
)

// Every --json follows one style (printJSON): camelCase keys, durations in
// milliseconds, [] rather than null, no zero times. These tests run each
// command that has --json and check its output against that style and the
// keys a program reads.

var camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// dataMaps are keys whose objects are keyed by data (a delivery state, a
// channel, an HTTP status, a field name), not by field names.
var dataMaps = map[string]bool{
	"errors": true, "byChannel": true, "deliveries": true, "sessions": true,
	"rejected": true, "sent": true, "accepted": true, "from": true, "to": true,
}

// checkStyle decodes out and fails the test on every style problem
// (styleProblems). It returns the decoded value.
func checkStyle(t *testing.T, name, out string) any {
	t.Helper()
	v, problems, err := styleProblems(out)
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, out)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	return v
}

// styleProblems walks JSON: no null, no zero time, camelCase keys outside
// dataMaps.
func styleProblems(out string) (any, []string, error) {
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return nil, nil, err
	}
	var problems []string
	var walk func(path string, v any, keysAreData bool)
	walk = func(path string, v any, keysAreData bool) {
		switch v := v.(type) {
		case nil:
			problems = append(problems, path+" is null")
		case string:
			if strings.HasPrefix(v, "0001-01-01") {
				problems = append(problems, path+" is a zero time")
			}
		case []any:
			for i, e := range v {
				walk(path+"["+strconv.Itoa(i)+"]", e, false)
			}
		case map[string]any:
			for k, e := range v {
				if !keysAreData && !camelCase.MatchString(k) {
					problems = append(problems, "key "+path+"."+k+" is not camelCase")
				}
				walk(path+"."+k, e, !keysAreData && dataMaps[k])
			}
		}
	}
	walk("$", v, false)
	return v, problems, nil
}

// keys returns an object's keys, sorted.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// hasKeys fails unless obj has every key in want.
func hasKeys(t *testing.T, name string, obj any, want ...string) {
	t.Helper()
	got := keys(obj)
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("%s: no key %q in %v", name, k, got)
		}
	}
}

func TestJSONOfTableCommands(t *testing.T) {
	tb, targs := appliedDemo(t)
	ctx := context.Background()
	start := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	if _, err := (dynamo.Sessions{Table: tb}).CreateSession(ctx, qunyun.Session{ID: "s-json", GroupID: "g-vip-1", HostID: "h-founder",
		Start: start, End: start.Add(time.Hour), State: qunyun.SessionScheduled}); err != nil {
		t.Fatal(err)
	}
	// As scoring writes it: every dimension, even one with no demand.
	if err := (dynamo.Scores{Table: tb}).PutGroupScore(ctx, qunyun.GroupScore{GroupID: "g-shelf", Purpose: qunyun.PurposeShelf, Date: "2026-11-19", Value: 40,
		Dimensions: []qunyun.DimensionScore{{Name: qunyun.DimensionInformation, Score: 40, Weight: 1, Evidence: true, Why: "好物被打开"}}}); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Scores{Table: tb}).PutReport(ctx, qunyun.Report{Date: "2026-11-21", GeneratedAt: time.Date(2026, 11, 21, 18, 5, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	lists := []struct {
		args []string
		keys []string // keys of the first element
	}{
		{[]string{"get", "groups"}, []string{"id", "name", "purpose", "caps"}},
		{[]string{"get", "members", "--group", "g-vip-1"}, []string{"id", "group", "name", "role"}},
		{[]string{"get", "plans"}, []string{"id", "name", "select"}},
		{[]string{"get", "contents"}, []string{"id", "kind"}},
		{[]string{"get", "hosts"}, []string{"id", "name", "availability"}},
		{[]string{"get", "deliveries", "--date", "2026-11-22"}, []string{"id", "group", "state", "at"}},
		{[]string{"get", "sessions", "--date", "2026-12-02"}, []string{"id", "group", "start", "end", "state"}},
		{[]string{"get", "scores", "--date", "2026-11-19"}, []string{"group", "date", "value", "dimensions"}},
		{[]string{"get", "members", "--group", "g-nobody"}, nil},     // nothing found: []
		{[]string{"get", "deliveries", "--date", "2026-10-01"}, nil}, // nothing found: []
	}
	for _, c := range lists {
		name := strings.Join(c.args, " ")
		out, _, err := run(t, "", append(append(c.args, "--json"), targs...)...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		list, ok := checkStyle(t, name, out).([]any)
		switch {
		case !ok:
			t.Errorf("%s: not a list:\n%s", name, out)
		case c.keys == nil && len(list) != 0:
			t.Errorf("%s: want [], got %d elements", name, len(list))
		case c.keys != nil && len(list) == 0:
			t.Errorf("%s: empty list", name)
		case c.keys != nil:
			hasKeys(t, name, list[0], c.keys...)
		}
	}

	// apply: the diff, and no changes as changes: [].
	for _, args := range [][]string{{"apply", "--dry-run", "-f", demoFile}, {"apply", "-f", demoFile}} {
		out, _, err := run(t, "", append(append(args, "--json"), targs...)...)
		if err != nil {
			t.Fatal(err)
		}
		v := checkStyle(t, "apply", out)
		hasKeys(t, "apply", v, "changes")
	}
	bad := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(bad, []byte("groups:\n  - id: g1\n    purpose: nonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "", append([]string{"apply", "-f", bad, "--json"}, targs...)...)
	if err == nil {
		t.Fatal("apply of a broken file: no error")
	}
	problems := checkStyle(t, "apply problems", out)
	if list, _ := problems.(map[string]any)["problems"].([]any); len(list) == 0 {
		t.Errorf("apply problems: %s", out)
	} else {
		hasKeys(t, "apply problems", list[0], "file", "line", "column", "message")
	}

	// report: where the page went.
	page := filepath.Join(t.TempDir(), "r.html")
	out, _, err = run(t, "", append([]string{"report", "--date", "2026-11-21", "-o", page, "--json"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if v := checkStyle(t, "report", out); !slices.Equal(keys(v), []string{"date", "path"}) {
		t.Errorf("report: keys %v", keys(v))
	}
}

func TestJSONOfSplit(t *testing.T) {
	out, _, err := run(t, "{\"id\":\"a\",\"tier\":\"vip\"}\n{\"id\":\"b\"}\n", "split", "-f", "-", "--json")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := checkStyle(t, "split", out).([]any)
	if len(list) != 2 {
		t.Fatalf("split: %s", out)
	}
	hasKeys(t, "split", list[0], "group", "tier", "members")
}

// load and simulate need a running stack; what they print is printJSON of
// their report, checked here on a filled-in one.
func TestJSONOfLoadAndSimulate(t *testing.T) {
	var b bytes.Buffer
	rep := loadtest.Report{Distinct: 3, Requests: 4, Tries: 5, Accepted: 3, Stored: 3, Errors: map[string]int{"timeout/conn": 1},
		P50: 1500 * time.Microsecond, P90: 2 * time.Millisecond, P99: 3 * time.Millisecond, Max: 4 * time.Millisecond, Elapsed: 2 * time.Second,
		ByChannel: map[qunyun.Channel]int{qunyun.ChannelWeComBot: 3}}
	if err := printJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	v := checkStyle(t, "load", b.String())
	hasKeys(t, "load", v, "distinct", "requests", "tries", "accepted", "stored", "lost", "duplicated", "unacknowledged",
		"inFlight", "errors", "gaveUp", "p50Ms", "p90Ms", "p99Ms", "maxMs", "elapsedMs", "byChannel")
	if m := v.(map[string]any); m["p50Ms"] != 1.5 || m["elapsedMs"] != 2000.0 {
		t.Errorf("load: durations not in ms: %s", b.String())
	}

	b.Reset()
	sum := simulate.Summary{Seed: 7, Days: 1, Groups: 1, Members: 2,
		Sent: simulate.Counts{"message": 3}, Accepted: simulate.Counts{"message": 3}, Rejected: map[string]int{},
		Deliveries: map[string]int{"task_created": 1}, Sessions: map[string]int{},
		ByClass: map[qunyun.DeliveryClass]map[string]int{qunyun.ClassContent: {"sent": 1}}, Reached: []simulate.SessionReach{},
		Scores: []simulate.ScoreLine{{GroupID: "g1", Purpose: "general", Date: "2026-11-23", Value: 12}}, ReportDate: "2026-11-23"}
	if err := printJSON(&b, sum); err != nil {
		t.Fatal(err)
	}
	v = checkStyle(t, "simulate", b.String())
	hasKeys(t, "simulate", v, "seed", "days", "groups", "members", "sent", "accepted", "rejected", "questions",
		"confirmations", "linkOpens", "deliveries", "byClass", "sessions", "reached", "scores", "reportDate")
	hasKeys(t, "simulate score", v.(map[string]any)["scores"].([]any)[0], "group", "purpose", "date", "value", "value7", "noisy", "dying")
}

// The checker itself fails on what it is for.
func TestStyleProblems(t *testing.T) {
	for _, bad := range []string{`{"Seed":1}`, `{"lost":null}`, `{"at":"0001-01-01T00:00:00Z"}`, `[{"p50_ms":1}]`} {
		if _, problems, err := styleProblems(bad); err != nil || len(problems) == 0 {
			t.Errorf("%s passed (%v)", bad, err)
		}
	}
	if _, problems, _ := styleProblems(`{"errors":{"timeout/conn":1},"byChannel":{"wecom-bot":2}}`); len(problems) > 0 {
		t.Errorf("data keys: %v", problems)
	}
}
