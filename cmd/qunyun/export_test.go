package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExport(t *testing.T) {
	_, targs := appliedDemo(t)
	// The deliveries of appliedDemo are on 2026-11-22 UTC: a stack clock
	// on the 23rd with --days 2 reaches them.
	t.Setenv("QUNYUN_CLOCK_START", "2026-11-23T08:00:00Z")
	out, _, err := run(t, "", append([]string{"export", "--days", "2"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var line struct {
			Kind  string          `json:"kind"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		counts[line.Kind]++
	}
	// The members: one who joined, the demo staff's 23 memberships and
	// the 12 lines of the demo's members.csv.
	want := map[string]int{"group": 10, "member": 1 + 23 + 12, "staff": 6, "content": 8, "plan": 7, "host": 4, "keyword-rule": 6, "moderation": 1, "texts": 2,
		"checkin-rule": 2, "contest": 1, "session-target": 5, "session": 1, "score": 3, "delivery": 2}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d lines, want %d", k, counts[k], n)
		}
	}

	path := filepath.Join(t.TempDir(), "plans.jsonl")
	if _, _, err := run(t, "", append([]string{"export", "--kind", "plan", "-o", path}, targs...)...); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 7 || !strings.Contains(string(data), `"kind":"plan"`) {
		t.Fatalf("plans file: %d lines\n%s", n, data)
	}

	out, _, err = run(t, "", append([]string{"export", "--kind", "delivery", "--days", "1"}, targs...)...)
	if err != nil || out != "" {
		t.Fatalf("deliveries of the 23rd only: %v %q", err, out)
	}
	if _, _, err := run(t, "", append([]string{"export", "--kind", "chat"}, targs...)...); err == nil {
		t.Fatal("unknown kind: no error")
	}
}
