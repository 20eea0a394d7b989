package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
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

// What split prints is what apply loads: the groups fragment and the
// members file, with every member landing in the group split chose.
func TestSplitOutputApplies(t *testing.T) {
	path := writeMembersCSV(t, 120, 30)
	groups, _, err := run(t, "", "split", "-f", path, "--groups", "3")
	if err != nil {
		t.Fatal(err)
	}
	fragment, _, err := run(t, "", "split", "-f", path, "--groups", "3", "--yaml")
	if err != nil {
		t.Fatal(err)
	}
	csv, _, err := run(t, "", "split", "-f", path, "--groups", "3", "--csv")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(csv, "group,id,name,tier,tags\n") || strings.Count(csv, "\n") != 121 || !strings.Contains(csv, "g-vip-01,u000,成员0,vip,餐饮;健康\n") {
		t.Fatalf("members file:\n%.300s", csv)
	}
	dir := t.TempDir()
	yaml := "accounts: [{id: rl, kind: relay}]\nmembers: {file: members.csv}\n" +
		strings.ReplaceAll(fragment, "    purpose:", "    account: rl\n    purpose:")
	if err := os.WriteFile(filepath.Join(dir, "members.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "community.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	tb, targs := tableArgs(t)
	out, _, err := run(t, "", append([]string{"apply", "-f", filepath.Join(dir, "community.yaml")}, targs...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "+ member g-vip-01/u000") || !strings.Contains(out, "applied: 123 created") {
		t.Fatalf("apply:\n%.500s", out)
	}
	ms, err := dynamo.Catalog{Table: tb}.Members(context.Background(), "g-vip-01")
	if err != nil || len(ms) != 30 || !ms[0].VIP || ms[0].Role != "member" {
		t.Fatalf("g-vip-01: %d members, first %+v, %v", len(ms), ms[0], err)
	}
	if !strings.Contains(groups, "g-vip-01") {
		t.Fatalf("split table:\n%s", groups)
	}
}
