package simulate_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/simulate"
)

func TestDemoCommunity(t *testing.T) {
	// The real path: the members file it names is read relative to it.
	file := filepath.Join("..", "..", "infra", "local", "community.yaml")
	base, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 4, 10, 30, 0, time.UTC) // 12:10:30 in Shanghai
	c, err := simulate.DemoCommunity(base, file, now)
	if err != nil {
		t.Fatal(err)
	}
	var planOK, sessionOK bool
	for _, p := range c.Plans {
		if p.ID == simulate.DemoPlanID {
			planOK = p.Cron == "cron(12 12 22 11 ? 2026)"
			if !planOK {
				t.Errorf("demo plan cron %q, want 12:12 Shanghai today only", p.Cron)
			}
		}
	}
	for _, s := range c.Sessions {
		if s.ID == simulate.DemoSessionID {
			sessionOK = s.Start.Equal(now.Truncate(time.Minute).Add(3*time.Minute)) && s.End.Sub(s.Start) == 30*time.Minute && s.HostID != ""
			if !sessionOK {
				t.Errorf("demo session %+v, want 30 minutes from 04:13Z with a host", s)
			}
		}
	}
	if !planOK || !sessionOK {
		t.Fatalf("demo community lacks the demo plan (%v) or session (%v)", planOK, sessionOK)
	}
	if len(c.Groups) != 10 {
		t.Errorf("%d groups, want the demo's 10 unchanged", len(c.Groups))
	}
	if _, err := simulate.DemoCommunity([]byte("groups: [ {id: x"), "broken.yaml", now); err == nil {
		t.Error("a broken base file was accepted")
	}
}
