package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
)

const demoMembers = "../../infra/local/members.csv"

// TestDemoImportsMembers: the demo's members file is in the format `split
// --csv` writes (the same header, so a split's output can replace it), and
// applying the demo imports every line of it.
func TestDemoImportsMembers(t *testing.T) {
	data, err := os.ReadFile(demoMembers)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	out, _, err := run(t, "", "split", "-f", demoMembers, "--groups", "2", "--csv")
	if err != nil {
		t.Fatal(err)
	}
	if header, _, _ := strings.Cut(out, "\n"); header != lines[0] {
		t.Fatalf("split --csv writes the header %q, the demo file has %q", header, lines[0])
	}

	tb, targs := appliedDemo(t)
	want := map[string]string{} // group/id → name
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		want[f[0]+"/"+f[1]] = f[2]
	}
	groups, err := dynamo.Catalog{Table: tb}.Groups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		members, err := dynamo.Catalog{Table: tb}.Members(context.Background(), g.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if name, ok := want[g.ID+"/"+m.ID]; ok && name == m.Name {
				delete(want, g.ID+"/"+m.ID)
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("not imported: %v", want)
	}
	out, _, err = run(t, "", append([]string{"get", "members", "--group", "g-vip-1"}, targs...)...)
	if err != nil || !strings.Contains(out, "周晓雯") || !strings.Contains(out, "餐饮,健康") {
		t.Errorf("get members: %v\n%s", err, out)
	}
}
