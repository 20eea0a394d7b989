package loadtest

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Reader is the one table call the check needs; *dynamo.Table has it.
type Reader interface {
	QueryItems(ctx context.Context, q dynamo.Query) ([]dynamo.Item, error)
}

// Report compares what a run sent with what the table holds. Its JSON
// (json.go) is the style of every qunyun --json: durations in milliseconds.
type Report struct {
	Distinct int `json:"distinct"` // distinct callbacks
	Requests int `json:"requests"` // requests sent, duplicates included (each retried on its own)
	Tries    int `json:"tries"`    // HTTP tries, retries included
	Accepted int `json:"accepted"` // distinct callbacks some try of which got 200
	Stored   int `json:"stored"`   // distinct callbacks found in the table
	// Lost are the keys of callbacks sent but not stored, of which nothing
	// can still arrive: the stack said 200 to one, every try was answered,
	// or the stack had finished every request (see Settle). WeChat gives up
	// after its tries, so a callback never answered 200 can be lost too.
	Lost []string `json:"lost"`
	// InFlight are the keys of callbacks not stored yet, never answered
	// 200, with a try that got no answer, while the stack may still be
	// working on them: at Settle's deadline these are neither stored nor
	// known to be lost.
	InFlight []string `json:"inFlight"`
	// Duplicated are the keys stored more than once.
	Duplicated []string `json:"duplicated"`
	// Unacknowledged counts callbacks stored though no try got a 200; the
	// stack should have said 200 to the retry that found them.
	Unacknowledged int `json:"unacknowledged"`
	// Errors counts non-200 tries by status ("503", "timeout/conn" for 0).
	Errors map[string]int `json:"errors"`
	// GaveUp counts requests whose every try failed.
	GaveUp int `json:"gaveUp"`
	// Latency of each request's first try.
	P50, P90, P99, Max time.Duration          `json:"-"`
	Elapsed            time.Duration          `json:"-"`
	ByChannel          map[qunyun.Channel]int `json:"byChannel"`
	// Capacity is what the run cost in DynamoDB, when the stack has a
	// meter (the local stack's /_local/capacity); the caller sets it.
	Capacity *Capacity `json:"capacity,omitempty"`
}

// OK reports whether every callback is known to be stored exactly once:
// nothing lost, duplicated or still in flight.
func (r Report) OK() bool { return len(r.Lost) == 0 && len(r.Duplicated) == 0 && len(r.InFlight) == 0 }

// ErrorCount is the number of non-200 tries.
func (r Report) ErrorCount() int {
	n := 0
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Drain says how long Settle waits for the stack to finish the run's
// requests, and how it can tell.
type Drain struct {
	Limit time.Duration // the longest wait
	Poll  time.Duration // between reads; 0 means a second
	// Idle, when set, tells whether the stack has no request in flight (the
	// local stack's /_local/inflight): Settle then waits for that, which
	// also lets a late copy of a stored callback show as a duplicate.
	// Without it only the table tells, so Settle waits until no callback
	// that may be on its way is missing, and one really lost until Limit.
	Idle func(context.Context) bool
	// Progress, when set, is called after each read with how many
	// callbacks may still be on their way.
	Progress func(inFlight int)
}

// Settle reads back the run once the stack is done with it. Start returns
// when every try has been answered or timed out, but a timed-out try may
// sit in the stack's queue for minutes and be stored after: Settle re-reads
// until the stack reports nothing in flight (or, without Drain.Idle, no
// such callback is missing) or Limit has passed; what is still missing
// then, unanswered, is reported as in flight rather than lost.
func Settle(ctx context.Context, table Reader, run *Run, d Drain) (Report, error) {
	poll := cmp.Or(d.Poll, time.Second)
	deadline := time.Now().Add(d.Limit) // wallclock: how long a load run waits for the stack
	for {
		// Asked before the read: a stack idle then has stored all it will.
		idle := d.Idle != nil && d.Idle(ctx)
		rep, err := check(ctx, table, run, idle)
		if err != nil {
			return rep, err
		}
		if d.Progress != nil {
			d.Progress(len(rep.InFlight))
		}
		settled := idle || (d.Idle == nil && len(rep.InFlight) == 0)
		if settled || !time.Now().Before(deadline) { // wallclock: the drain deadline
			return rep, nil
		}
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return rep, fmt.Errorf("wait for %d callbacks in flight: %w", len(rep.InFlight), ctx.Err())
		}
	}
}

// Check reads back every partition the run's callbacks belong to and counts
// each callback's records, taking the stack to be done with them: anything
// missing is lost.
func Check(ctx context.Context, table Reader, run *Run) (Report, error) {
	return check(ctx, table, run, true)
}

// check is Check; unless the stack is done, a missing callback whose tries
// were not all answered counts as in flight.
func check(ctx context.Context, table Reader, run *Run, done bool) (Report, error) {
	rep := Report{Distinct: len(run.Sent), Errors: map[string]int{}, Elapsed: run.Elapsed, ByChannel: map[qunyun.Channel]int{}}
	unanswered := rep.countAttempts(run)
	found, err := readStored(ctx, table, run)
	if err != nil {
		return rep, err
	}
	for i, s := range run.Sent {
		rep.ByChannel[s.Request.Channel]++
		if s.Accepted {
			rep.Accepted++
		}
		n := 0
		for _, pk := range partitions(s) {
			n += found[pk][s.Request.Key]
		}
		switch {
		case n == 0 && !done && !s.Accepted && unanswered[i]:
			rep.InFlight = append(rep.InFlight, s.Request.Key)
		case n == 0:
			rep.Lost = append(rep.Lost, s.Request.Key)
		case n > 1:
			rep.Duplicated = append(rep.Duplicated, s.Request.Key)
			rep.Stored++
		default:
			rep.Stored++
		}
		if n > 0 && !s.Accepted {
			rep.Unacknowledged++
		}
	}
	return rep, nil
}

// countAttempts counts the run's requests, tries, errors and latencies,
// and returns which callbacks (by Sent index) had a try with no answer.
func (rep *Report) countAttempts(run *Run) (unanswered map[int]bool) {
	var lat []time.Duration
	unanswered = map[int]bool{}
	for _, a := range run.Attempts {
		rep.Requests++
		rep.Tries += a.Result.Tries
		lat = append(lat, a.Result.Latency)
		for _, st := range a.Result.Statuses {
			switch st {
			case 200:
			case 0:
				rep.Errors["timeout/conn"]++
				unanswered[a.Index] = true
			default:
				rep.Errors[strconv.Itoa(st)]++
			}
		}
		if !a.Result.Accepted {
			rep.GaveUp++
		}
	}
	rep.P50, rep.P90, rep.P99, rep.Max = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), percentile(lat, 100)
	return unanswered
}

// readStored reads the partitions the run's callbacks can be in and counts
// the records stored under each callback's key: pk → key → records.
func readStored(ctx context.Context, table Reader, run *Run) (map[string]map[string]int, error) {
	// Which partitions to read: each callback's log partition for the UTC
	// date of its event time, and of its sending time (the smart bot's body
	// carries no time, so the callback stamps it on arrival).
	want := map[string]bool{}
	for _, s := range run.Sent {
		for _, pk := range partitions(s) {
			want[pk] = true
		}
	}
	pks := make([]string, 0, len(want))
	for pk := range want {
		pks = append(pks, pk)
	}
	sort.Strings(pks)
	found := map[string]map[string]int{} // pk → stored key → records
	for _, pk := range pks {
		items, err := table.QueryItems(ctx, dynamo.Query{PK: pk})
		if err != nil {
			return nil, fmt.Errorf("check: read %s: %w", pk, err)
		}
		keys := map[string]int{}
		for _, it := range items {
			sk, _ := it["SK"].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			if k, ok := logKey(sk.Value); ok {
				keys[k]++
			}
		}
		found[pk] = keys
	}
	return found, nil
}

// partitions are the distinct log partitions a callback can be in.
func partitions(s *Sent) []string {
	pk := func(t time.Time) string {
		date := t.UTC().Format(time.DateOnly)
		if s.GroupID == "" {
			return "ACCOUNT#" + s.Request.Account + "#D#" + date
		}
		return "GROUP#" + s.GroupID + "#D#" + date
	}
	a, b := pk(s.Request.At), pk(s.SentAt)
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// logKey takes the idempotency key out of a log sort key: MSG#<ms>#<key> or
// EVT#<ms>#<key> (docs/data-model.md). A WeCom membership event is recorded
// once per member as <key>#<member>; the load runner names one member per
// event, so the part before that '#' is the callback's key. Other items of
// the partition (deliveries, opens, check-ins) are not callbacks' records.
func logKey(sk string) (string, bool) {
	kind, rest, ok := strings.Cut(sk, "#")
	if !ok || (kind != "MSG" && kind != "EVT") {
		return "", false
	}
	_, key, ok := strings.Cut(rest, "#")
	key, _, _ = strings.Cut(key, "#")
	return key, ok
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100 // nearest rank
	return s[max(0, min(len(s)-1, i-1))]
}

// Print writes the report as a small table.
func (r Report) Print(w io.Writer) {
	fmt.Fprintf(w, "distinct callbacks  %d", r.Distinct)
	var chs []string
	for ch, n := range r.ByChannel {
		chs = append(chs, fmt.Sprintf("%s=%d", ch, n))
	}
	sort.Strings(chs)
	if len(chs) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(chs, " "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "requests sent       %d (%d duplicates), %d tries, over %v\n", r.Requests, r.Requests-r.Distinct, r.Tries, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "accepted            %d\n", r.Accepted)
	fmt.Fprintf(w, "stored              %d\n", r.Stored)
	fmt.Fprintf(w, "lost                %d%s\n", len(r.Lost), sample(r.Lost))
	fmt.Fprintf(w, "still in flight     %d%s\n", len(r.InFlight), sample(r.InFlight))
	fmt.Fprintf(w, "duplicated          %d%s\n", len(r.Duplicated), sample(r.Duplicated))
	fmt.Fprintf(w, "stored, no 200      %d\n", r.Unacknowledged)
	fmt.Fprintf(w, "errors (tries)      %d%s\n", r.ErrorCount(), errs(r.Errors))
	fmt.Fprintf(w, "gave up (3 tries)   %d\n", r.GaveUp)
	fmt.Fprintf(w, "latency first try   p50 %v  p90 %v  p99 %v  max %v\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	if r.Capacity != nil {
		r.Capacity.Print(w)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func sample(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	n := min(len(keys), 5)
	return " e.g. " + strings.Join(keys[:n], ", ")
}

func errs(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(parts)
	return " (" + strings.Join(parts, ", ") + ")"
}
