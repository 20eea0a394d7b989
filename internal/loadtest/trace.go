package loadtest

import (
	"cmp"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteTrace writes one CSV line per request the run sent, in the order
// they were sent: when (ms from the run's start), the channel, the
// callback's idempotency key, whether it repeated an earlier request, how
// many tries it took, each try's status (0: no answer), and the first
// try's latency in ms. It shows where a run's slow requests are: all in
// its first seconds (processes starting), or spread over it.
func (r *Run) WriteTrace(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"sent_ms", "channel", "key", "duplicate", "tries", "statuses", "first_try_ms"})
	attempts := slices.SortedStableFunc(slices.Values(r.Attempts), func(a, b Attempt) int { return cmp.Compare(a.At, b.At) })
	for _, a := range attempts {
		sent := r.Sent[a.Index]
		statuses := make([]string, len(a.Result.Statuses))
		for i, st := range a.Result.Statuses {
			statuses[i] = strconv.Itoa(st)
		}
		cw.Write([]string{
			strconv.FormatInt(a.At.Milliseconds(), 10), string(sent.Request.Channel), sent.Request.Key,
			strconv.FormatBool(a.Dup), strconv.Itoa(a.Result.Tries), strings.Join(statuses, " "),
			strconv.FormatFloat(float64(a.Result.Latency.Microseconds())/1000, 'f', 3, 64),
		})
	}
	cw.Flush()
	return cw.Error()
}
