package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestReport(t *testing.T) {
	tb, targs := tableArgs(t)
	r := qunyun.Report{
		Date: "2026-11-21",
		Groups: []qunyun.GroupScore{
			{GroupID: "g-shelf", Name: "小满好物架", Purpose: qunyun.PurposeShelf, Date: "2026-11-21", Value: 71.5, Why: "好物被打开"},
			{GroupID: "g-general-1", Name: "小满吃货一群", Purpose: qunyun.PurposeGeneral, Date: "2026-11-21", Value: 22},
		},
		Deliveries:  map[string]int{"sent": 4},
		GeneratedAt: time.Date(2026, 11, 21, 18, 5, 0, 0, time.UTC),
	}
	if err := (dynamo.Scores{Table: tb}).PutReport(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.html")
	// A test's stdout is no terminal, so nothing is opened even without --no-open.
	out, _, err := run(t, "", append([]string{"report", "--date", "2026-11-21", "-o", path}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "wrote "+path) {
		t.Fatalf("output: %s", out)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "小满好物架") || !strings.Contains(string(page), "<html") {
		t.Fatalf("the page does not show the report (%d bytes)", len(page))
	}

	// Without -o the page goes under the repository's .local/reports.
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	if _, _, err := run(t, "", append([]string{"report", "--date", "2026-11-21"}, targs...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, ".local", "reports", "qunyun-report-2026-11-21.html")); err != nil {
		t.Fatalf("default report path: %v", err)
	}

	// A date scoring never ran for is an error naming the date, and no file.
	missing := filepath.Join(t.TempDir(), "none.html")
	_, _, err = run(t, "", append([]string{"report", "--date", "2026-11-01", "-o", missing, "--no-open"}, targs...)...)
	if err == nil || !strings.Contains(err.Error(), "no report for 2026-11-01") {
		t.Fatalf("missing report: %v", err)
	}
	if _, statErr := os.Stat(missing); statErr == nil {
		t.Fatal("a file was written for a missing report")
	}
	if _, _, err := run(t, "", append([]string{"report", "--date", "21.11.2026"}, targs...)...); err == nil {
		t.Fatal("bad date: no error")
	}
}
