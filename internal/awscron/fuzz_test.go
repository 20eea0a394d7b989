package awscron_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
)

// FuzzParse parses fuzzed schedule expressions (seeded with template.yaml's
// schedules and infra/local/community.yaml's plans) and checks what Parse
// accepts: it prints as written; a rate is the positive whole number of
// units it names; Next in a zone with or without DST gives the zero time
// or a later whole minute no later than the cron's last year, is the first
// fire after anything between, and a rate fires on its grid.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"cron(0/5 * * * ? *)", "cron(* * * * ? *)", "cron(0 * * * ? *)", // template.yaml
		"cron(0 11 ? * MON-FRI *)", "cron(0 20 ? * FRI *)", "cron(30 19 ? * WED *)", "cron(0 9 1 * ? *)", "cron(0 7 * * ? *)", // community.yaml
		"cron(0 9 LW * ? *)", "cron(15 10 ? * 6L 2026-2030)", "cron(0 2 ? * 2#1 *)", "cron(30 2 15W 3 ? *)",
		"rate(5 minutes)", "rate(1 day)",
	} {
		f.Add(s, int64(1795316400), uint8(0))
	}
	zones := []*time.Location{time.UTC, mustLoadF(f, "Asia/Shanghai"), mustLoadF(f, "America/New_York"), mustLoadF(f, "Australia/Lord_Howe")}
	lastFire := time.Date(2200, 1, 2, 0, 0, 0, 0, time.UTC) // 2199 in any zone
	f.Fuzz(func(t *testing.T, s string, sec int64, zone uint8) {
		e, err := awscron.Parse(s)
		if err != nil {
			return
		}
		if e.String() != s || e.IsRate() != strings.HasPrefix(s, "rate(") {
			t.Fatalf("Parse(%q) = %q, rate %v", s, e, e.IsRate())
		}
		if e.IsRate() {
			fields := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(s, "rate("), ")"))
			n, _ := strconv.ParseInt(fields[0], 10, 64)
			unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(fields[1], "s")]
			if e.Rate() <= 0 || e.Rate()%unit != 0 || int64(e.Rate()/unit) != n {
				t.Fatalf("%s: rate %v", s, e.Rate())
			}
		}
		// A time from 1960 to 2210, so the cron's 1970-2199 is reached from both sides.
		after := time.Unix(-315619200+(sec%(250*365*86400)+250*365*86400)%(250*365*86400), 0).UTC()
		loc := zones[int(zone)%len(zones)]
		next := e.Next(after, loc)
		if next.IsZero() {
			return
		}
		if !next.After(after) || next.Second() != 0 || next.Nanosecond() != 0 || !e.IsRate() && next.After(lastFire) {
			t.Fatalf("%s after %s in %s: %s", s, after, loc, next)
		}
		if mid := after.Add(next.Sub(after) / 2); !e.Next(mid, loc).Equal(next) {
			t.Fatalf("%s: after %s it fires at %s, but after %s at %s", s, after, next, mid, e.Next(mid, loc))
		}
		if e.IsRate() && next.Sub(time.Unix(0, 0))%e.Rate() != 0 {
			t.Fatalf("%s fires off its grid at %s", s, next)
		}
	})
}

func mustLoadF(f *testing.F, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		f.Fatal(err)
	}
	return loc
}
