package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/config"
)

func TestEnvCollectsEveryProblem(t *testing.T) {
	vars := map[string]string{"A": "x", "N": "seven", "D": "5m"}
	e := config.New(func(k string) string { return vars[k] })
	if got := e.Required("A"); got != "x" {
		t.Errorf("A = %q", got)
	}
	e.Required("TABLE_NAME")
	if got := e.Int("N", 3); got != 3 {
		t.Errorf("N = %d", got)
	}
	if got := e.Duration("D", 0); got != 5*time.Minute {
		t.Errorf("D = %v", got)
	}
	if got := e.Optional("MISSING", "def"); got != "def" {
		t.Errorf("MISSING = %q", got)
	}
	err := e.Err()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"TABLE_NAME is required", `N="seven"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
