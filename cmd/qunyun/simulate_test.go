package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimulateBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--days", "0"}, "--days"},
		{[]string{"--speed", "0.5"}, "--speed"},
		{[]string{"--size", "1"}, "--size"},
		{[]string{"--start", "23/11/2026"}, "--start"},
		{[]string{"--workers", "0"}, "--workers"},
	} {
		_, _, err := run(t, "", append([]string{"simulate", "-f", demoFile}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("simulate %v: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}

// A broken community file stops the run before any stack starts, with the
// file's problems on stderr.
func TestSimulateBadCommunity(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "community.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\ngroups:\n  - id: g1\n    purpse: fan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, "", "simulate", "-f", bad)
	if err == nil || !strings.Contains(err.Error(), "problem") {
		t.Fatalf("error %v, want the file's problems", err)
	}
	if !strings.Contains(stderr, "community.yaml:4") {
		t.Errorf("stderr %q, want a line-numbered problem", stderr)
	}
}
