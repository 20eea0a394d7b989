package loadtest

import (
	"encoding/json"
	"time"
)

// MarshalJSON writes the report as `qunyun load --json` prints it: the
// durations in milliseconds (p50Ms … elapsedMs) rather than Go's
// nanoseconds, and the key lists as [] when empty.
func (r Report) MarshalJSON() ([]byte, error) {
	type fields Report // the same fields without this method
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	f := fields(r)
	if f.Lost == nil {
		f.Lost = []string{}
	}
	if f.InFlight == nil {
		f.InFlight = []string{}
	}
	if f.Duplicated == nil {
		f.Duplicated = []string{}
	}
	return json.Marshal(struct {
		fields
		P50Ms     float64 `json:"p50Ms"`
		P90Ms     float64 `json:"p90Ms"`
		P99Ms     float64 `json:"p99Ms"`
		MaxMs     float64 `json:"maxMs"`
		ElapsedMs float64 `json:"elapsedMs"`
	}{f, ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), ms(r.Elapsed)})
}
