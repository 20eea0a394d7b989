package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeMembersCSV(t *testing.T, n, vip int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,name,tier,tags\n")
	tags := []string{"餐饮;健康", "好物", "行业|餐饮", ""}
	for i := 0; i < n; i++ {
		tier := "regular"
		if i < vip {
			tier = "vip"
		}
		fmt.Fprintf(&b, "u%03d,成员%d,%s,%s\n", i, i, tier, tags[i%len(tags)])
	}
	path := filepath.Join(t.TempDir(), "members.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSplitCSV(t *testing.T) {
	path := writeMembersCSV(t, 500, 100)
	out, _, err := run(t, "", "split", "-f", path, "--groups", "10")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[1], "g-vip-01") || !strings.HasPrefix(lines[10], "g-08") {
		t.Fatalf("split table:\n%s", out)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, " 50 ") {
			t.Errorf("group not of 50: %q", l)
		}
	}
	out, _, err = run(t, "", "split", "-f", path, "--groups", "10", "--yaml")
	if err != nil || !strings.Contains(out, "  - id: g-vip-02\n    purpose: vip\n    tier: vip\n") {
		t.Fatalf("yaml: %v\n%s", err, out)
	}
	out, _, err = run(t, "", "split", "-f", path, "--groups", "10", "--members")
	if err != nil || !strings.Contains(out, "u000") || !strings.Contains(out, "成员499") {
		t.Fatalf("members: %v", err)
	}
}

func TestSplitJSONLinesFromStdin(t *testing.T) {
	in := `{"id":"a","tier":"vip","tags":["x"]}
{"id":"b"}
{"id":"c","name":"丙"}
`
	out, _, err := run(t, in, "split", "-f", "-", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"group": "g-vip-01"`) || !strings.Contains(out, `"group": "g-01"`) {
		t.Fatalf("%s", out)
	}
}

func TestSplitErrors(t *testing.T) {
	path := writeMembersCSV(t, 500, 60)
	if _, _, err := run(t, "", "split", "-f", path, "--groups", "10"); err == nil || !strings.Contains(err.Error(), "at least 11 groups") {
		t.Fatalf("too few groups: %v", err)
	}
	if _, _, err := run(t, "", "split", "-f", "-"); err == nil {
		t.Fatal("empty stdin: no error")
	}
	if _, _, err := run(t, "{\"id\":\"a\",\"level\":3}\n", "split", "-f", "-"); err == nil || !strings.Contains(err.Error(), "-:1:") {
		t.Fatalf("unknown JSON field: %v", err)
	}
	if _, _, err := run(t, "name,tier\nx,vip\n", "split", "-f", "-"); err == nil || !strings.Contains(err.Error(), "no id column") {
		t.Fatalf("no id column: %v", err)
	}
}
