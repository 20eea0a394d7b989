package clock_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
)

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	c, err := clock.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(clock.Real); !ok {
		t.Fatalf("empty env: got %T, want Real", c)
	}

	realStart := time.Now().Add(-10 * time.Second)
	virt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &clock.Scaled{Start: virt, RealStart: realStart, Speed: 60}
	c, err = clock.FromEnv(env(map[string]string{clock.EnvStart: s.EnvValue(), clock.EnvSpeed: "60"}))
	if err != nil {
		t.Fatal(err)
	}
	// 10 real seconds at 60x is 10 virtual minutes.
	got := c.Now().Sub(virt)
	if got < 10*time.Minute || got > 11*time.Minute {
		t.Fatalf("virtual elapsed = %v, want about 10m", got)
	}

	for _, bad := range []map[string]string{
		{clock.EnvSpeed: "fast"},
		{clock.EnvSpeed: "-1"},
		{clock.EnvStart: "yesterday"},
		{clock.EnvStart: "2026-01-01T00:00:00Z@noon"},
	} {
		if _, err := clock.FromEnv(env(bad)); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestManual(t *testing.T) {
	m := clock.NewManual(time.Unix(0, 0))
	m.Advance(time.Hour)
	if got := m.Now(); !got.Equal(time.Unix(3600, 0)) {
		t.Fatalf("got %v", got)
	}
}
