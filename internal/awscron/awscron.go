// Package awscron parses EventBridge Scheduler schedule expressions —
// rate(value unit) and the six-field cron(Min Hour DoM Month DoW Year) —
// and computes when they fire, with AWS semantics: day-of-week 1-7 is
// SUN-SAT, exactly one of day-of-month and day-of-week is '?', years run
// 1970-2199, and L, W and # mean what the EventBridge "Cron expressions
// reference" says. Bare L in the day-of-week field is the last day of the
// week, Saturday, as that page states ("specifies the last day of the month
// or week").
//
// Time zones and daylight saving time follow the EventBridge Scheduler guide:
// a cron time that does not exist on a spring-forward day is skipped, and a
// time that occurs twice on a fall-back day fires once (at its first
// occurrence). A rate counts fixed durations from the schedule's start (a day
// is 24 hours), whatever the time zone.
//
// The matcher is written here rather than built on a crontab library because
// crontab libraries number days of the week 0-6, OR the two day fields and
// stop at 2099; adapting one would take more code than matching directly.
//
// The package only computes times: it must not sleep, read the clock, or
// invoke anything. Callers pass "after" from their own (injected) clock.
package awscron

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Expression is a parsed schedule expression: either a rate or a cron.
// The zero value is not a valid expression; use Parse.
type Expression struct {
	raw   string
	rate  time.Duration // > 0 for rate(...)
	cron  *cronSpec     // non-nil for cron(...)
	start time.Time     // anchor of a rate; lower bound of a cron (optional)
}

// Parse parses "rate(value unit)" or "cron(fields)".
func Parse(s string) (Expression, error) {
	switch {
	case strings.HasPrefix(s, "rate(") && strings.HasSuffix(s, ")"):
		d, err := parseRate(s[len("rate(") : len(s)-1])
		if err != nil {
			return Expression{}, fmt.Errorf("%s: %w", s, err)
		}
		return Expression{raw: s, rate: d}, nil
	case strings.HasPrefix(s, "cron(") && strings.HasSuffix(s, ")"):
		c, err := parseCron(s[len("cron(") : len(s)-1])
		if err != nil {
			return Expression{}, fmt.Errorf("%s %w", s, err)
		}
		return Expression{raw: s, cron: c}, nil
	default:
		return Expression{}, fmt.Errorf("schedule expression %q: want rate(value unit) or cron(fields)", s)
	}
}

// String returns the expression as it was written.
func (e Expression) String() string { return e.raw }

// IsRate reports whether e is a rate(...) expression.
func (e Expression) IsRate() bool { return e.rate > 0 }

// Rate returns the period of a rate expression, or 0 for a cron expression.
func (e Expression) Rate() time.Duration { return e.rate }

// From returns a copy of e anchored at start, the schedule's StartDate.
// A rate fires at start, start+period, start+2·period, ...; a cron never
// fires before start. Without From, a rate is anchored at the Unix epoch
// (so rate(5 minutes) fires on every fifth minute of the clock) and a cron
// is unbounded below.
func (e Expression) From(start time.Time) Expression {
	e.start = start
	return e
}

// Start returns the anchor set with From (the zero time if none).
func (e Expression) Start() time.Time { return e.start }

// Next returns the first time the schedule fires strictly after "after",
// evaluating a cron in loc (nil means UTC). It returns the zero time when
// the schedule never fires again (a cron past its last year, or an invalid
// Expression).
func (e Expression) Next(after time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	switch {
	case e.rate > 0:
		return e.nextRate(after)
	case e.cron != nil:
		if !e.start.IsZero() && after.Before(e.start) {
			// Fires at start itself when start matches.
			after = e.start.Add(-time.Nanosecond)
		}
		return e.cron.next(after, loc)
	default:
		return time.Time{}
	}
}

func (e Expression) nextRate(after time.Time) time.Time {
	anchor := e.start
	if anchor.IsZero() {
		anchor = time.Unix(0, 0).UTC()
	}
	if after.Before(anchor) {
		return anchor
	}
	n := after.Sub(anchor)/e.rate + 1
	return anchor.Add(n * e.rate)
}

func parseRate(body string) (time.Duration, error) {
	f := strings.Fields(body)
	if len(f) != 2 {
		return 0, fmt.Errorf("want rate(value unit), got %d fields", len(f))
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("value %q is not a positive integer", f[0])
	}
	units := map[string]time.Duration{
		"minute": time.Minute, "minutes": time.Minute,
		"hour": time.Hour, "hours": time.Hour,
		"day": 24 * time.Hour, "days": 24 * time.Hour,
	}
	unit, ok := units[f[1]]
	if !ok {
		return 0, fmt.Errorf("unit %q: want minute(s), hour(s) or day(s)", f[1])
	}
	plural := strings.HasSuffix(f[1], "s")
	if n == 1 && plural {
		return 0, fmt.Errorf("unit %q: use the singular when the value is 1", f[1])
	}
	if n > 1 && !plural {
		return 0, fmt.Errorf("unit %q: use the plural when the value is greater than 1", f[1])
	}
	if time.Duration(n) > math.MaxInt64/unit {
		return 0, fmt.Errorf("value %d %s is longer than a Go duration (about 292 years)", n, f[1])
	}
	return time.Duration(n) * unit, nil
}
