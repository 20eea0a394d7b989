package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
)

// run executes the CLI in-process with args, as a user would type them.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// tableArgs points a command at a fresh table in the test engine, on the
// test's clock (a test may set QUNYUN_CLOCK_START again after it).
func tableArgs(t *testing.T) (*dynamo.Table, []string) {
	t.Helper()
	// The commands tell time by the same clock as the table: what the test
	// writes is dated then, and must not read as expired on a later day.
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	t.Setenv(clock.EnvStart, at.Format(time.RFC3339))
	tb := dynamotest.NewTable(t, clock.NewManual(at))
	return tb, []string{"--endpoint", dynamotest.Endpoint(t), "--table", tb.Name}
}

const demoFile = "../../infra/local/community.yaml"

func TestApplyDemoTwiceIsNoOp(t *testing.T) {
	tb, targs := tableArgs(t)
	out, _, err := run(t, "", append([]string{"apply", "-f", demoFile}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "+ group g-vip-1") || !strings.Contains(out, "applied: ") {
		t.Fatalf("first apply output:\n%s", out)
	}
	out, _, err = run(t, "", append([]string{"apply", "-f", demoFile}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "no changes") || strings.Contains(out, "applied:") {
		t.Fatalf("second apply output:\n%s", out)
	}
	groups, err := dynamo.Catalog{Table: tb}.Groups(context.Background())
	if err != nil || len(groups) != 10 {
		t.Fatalf("%d groups, %v", len(groups), err)
	}
}

func TestApplyTypoWritesNothing(t *testing.T) {
	tb, targs := tableArgs(t)
	data, err := os.ReadFile(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "    purpose: fan\n", "    purpsoe: fan\n", 1)
	path := filepath.Join(t.TempDir(), "community.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, "", append([]string{"apply", "-f", path}, targs...)...)
	if err == nil || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("err = %v", err)
	}
	line := 1 + strings.Count(bad[:strings.Index(bad, "purpsoe")], "\n")
	want := path + ":" + itoa(line) + ":5: groups[2].purpsoe: unknown field \"purpsoe\" (did you mean \"purpose\"?)"
	if !strings.Contains(stderr, want) {
		t.Fatalf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	groups, _ := dynamo.Catalog{Table: tb}.Groups(context.Background())
	contents, _ := dynamo.Catalog{Table: tb}.Contents(context.Background())
	if len(groups)+len(contents) != 0 {
		t.Fatalf("a bad file wrote %d groups, %d contents", len(groups), len(contents))
	}
}

func TestApplyDryRunAndPrune(t *testing.T) {
	tb, targs := tableArgs(t)
	out, _, err := run(t, "", append([]string{"apply", "--dry-run", "-f", demoFile}, targs...)...)
	if err != nil || !strings.Contains(out, "+ plan p-lunch") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if groups, _ := (dynamo.Catalog{Table: tb}).Groups(context.Background()); len(groups) != 0 {
		t.Fatalf("dry run wrote %d groups", len(groups))
	}
	if _, _, err := run(t, "", append([]string{"apply", "-f", demoFile}, targs...)...); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(t.TempDir(), "small.yaml")
	os.WriteFile(small, []byte("groups:\n  - {id: g-shelf, purpose: shelf}\n"), 0o600)
	// No terminal and no --yes: refuse.
	_, _, err = run(t, "y\n", append([]string{"apply", "--prune", "-f", small}, targs...)...)
	if err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("prune without --yes: %v", err)
	}
	if groups, _ := (dynamo.Catalog{Table: tb}).Groups(context.Background()); len(groups) != 10 {
		t.Fatalf("refused prune left %d groups", len(groups))
	}
	out, _, err = run(t, "", append([]string{"apply", "--prune", "--yes", "-f", small}, targs...)...)
	if err != nil || !strings.Contains(out, "- group g-vip-1") || !strings.Contains(out, "~ group g-shelf") {
		t.Fatalf("prune: %v\n%s", err, out)
	}
	if groups, _ := (dynamo.Catalog{Table: tb}).Groups(context.Background()); len(groups) != 1 {
		t.Fatalf("after prune: %d groups", len(groups))
	}
}

func TestApplyJSON(t *testing.T) {
	_, targs := tableArgs(t)
	out, _, err := run(t, "", append([]string{"apply", "--json", "--dry-run", "-f", demoFile}, targs...)...)
	if err != nil || !strings.Contains(out, `"op": "+"`) {
		t.Fatalf("%v\n%s", err, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestApplyProblemsAsJSON(t *testing.T) {
	_, targs := tableArgs(t)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("groups:\n  - {id: g1, purpose: general}\nplans:\n  - {id: p1, contents: [nope], cron: \"cron(0 11 * * ? *)\", pasued: true}\n"), 0o600)
	out, _, err := run(t, "", append([]string{"apply", "--json", "-f", path}, targs...)...)
	if err == nil {
		t.Fatal("no error")
	}
	var got struct {
		Problems []struct {
			Line, Column  int
			Path, Message string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The schema's typo and the dangling reference come back together.
	if len(got.Problems) != 2 || got.Problems[0].Path != "plans[0].contents[0]" || got.Problems[1].Path != "plans[0].pasued" || got.Problems[1].Line != 4 {
		t.Fatalf("%+v", got.Problems)
	}
}

func TestConfirm(t *testing.T) {
	for _, tc := range []struct {
		answer   string
		terminal bool
		ok       bool
	}{
		{"y\n", true, true},
		{"YES\n", true, true},
		{"n\n", true, false},
		{"\n", true, false}, // the default is no
		{"", true, false},
		{"y\n", false, false}, // no terminal: never ask, never delete
	} {
		var prompt bytes.Buffer
		err := confirm(strings.NewReader(tc.answer), &prompt, 3, tc.terminal)
		if (err == nil) != tc.ok {
			t.Errorf("answer %q terminal %v: err = %v", tc.answer, tc.terminal, err)
		}
		if tc.terminal && !strings.Contains(prompt.String(), "Delete 3 record(s)? [y/N]") {
			t.Errorf("prompt %q", prompt.String())
		}
	}
}

// Apply warns about a plan slot inside quiet hours, and applies anyway.
func TestApplyWarnsAboutQuietSlots(t *testing.T) {
	tb, targs := tableArgs(t)
	file := filepath.Join(t.TempDir(), "community.yaml")
	if err := os.WriteFile(file, []byte(`
accounts:
  - {id: wc, kind: wecom}
groups:
  - {id: g1, account: wc, purpose: punch-card}
contents:
  - {id: c1, kind: text, text: 早安}
plans:
  - {id: p-dawn, contents: [c1], cron: "0 7 * * ? *"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "", append([]string{"apply", "-f", file}, targs...)...)
	if err != nil || !strings.Contains(out, "warning: plan p-dawn: its 07:00 slot is inside the quiet hours (22:00–08:00) of g1") {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if _, found, err := (dynamo.Catalog{Table: tb}).Plan(context.Background(), "p-dawn"); err != nil || !found {
		t.Fatalf("the plan was not applied: %v", err)
	}
	out, _, err = run(t, "", append([]string{"apply", "-f", file, "--dry-run", "--json"}, targs...)...)
	if err != nil || !strings.Contains(out, `"warnings": [`) {
		t.Fatalf("apply --json: %v\n%s", err, out)
	}
}

// The diff names each bot group's robot, when the group is created and when
// its robot changes, and never shows a robot's URL or key (they are in the
// account's sending half, not the file).
func TestApplyShowsEachGroupsRobot(t *testing.T) {
	_, targs := tableArgs(t)
	out, _, err := run(t, "", append([]string{"apply", "-f", demoFile}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `+ group g-learning (webhook: "learning")`) || strings.Contains(out, "+ group g-shelf (") {
		t.Fatalf("first apply output:\n%s", out)
	}
	data, err := os.ReadFile(demoFile)
	if err != nil {
		t.Fatal(err)
	}
	members, err := filepath.Abs(filepath.Join(filepath.Dir(demoFile), "members.csv"))
	if err != nil {
		t.Fatal(err)
	}
	moved := strings.Replace(string(data), "    webhook: learning\n", "    webhook: learning-2\n", 1)
	moved = strings.Replace(moved, "members: {file: members.csv}", "members: {file: "+members+"}", 1)
	path := filepath.Join(t.TempDir(), "community.yaml")
	if err := os.WriteFile(path, []byte(moved), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "", append([]string{"apply", "--dry-run", "-f", path}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `~ group g-learning (webhook: "learning" → "learning-2")`) {
		t.Fatalf("dry run output:\n%s", out)
	}
	if strings.Contains(out, "key=") || strings.Contains(out, "/webhook/send") {
		t.Fatalf("the diff shows a robot's URL:\n%s", out)
	}
}
