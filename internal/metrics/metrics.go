// Package metrics writes CloudWatch Embedded Metric Format (EMF) lines to
// stdout: CloudWatch turns each line into metrics with no API call and no
// extra latency. It must not block or fail a request: a write error is dropped.
//
// A count of zero is not written. CloudWatch bills a custom metric for
// every hour in which it receives a value, and the minute schedules would
// otherwise pay for their idle zeros around the clock; a missing data point
// sums to zero just the same, and an alarm on a count treats missing data as
// not breaching (template.yaml).
package metrics

import (
	"encoding/json"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"time"
)

// Namespace is where Qunyun's metrics live.
const Namespace = "Qunyun"

// Units CloudWatch understands.
const (
	Count        = "Count"
	Milliseconds = "Milliseconds"
	Bytes        = "Bytes"
)

// Metric is one value.
type Metric struct {
	Name  string
	Value float64
	Unit  string
}

// Emitter writes EMF lines with a fixed set of dimensions.
type Emitter struct {
	W          io.Writer
	Dimensions map[string]string // e.g. {"Stage": "dev", "Function": "push"}
	Now        func() time.Time

	mu sync.Mutex
}

// New writes to stdout.
func New(dims map[string]string) *Emitter { return &Emitter{W: os.Stdout, Dimensions: dims} }

// Emit writes the metrics as one EMF line, leaving out zero counts; with
// nothing left it writes nothing.
func (e *Emitter) Emit(ms ...Metric) {
	if e == nil {
		return
	}
	ms = slices.DeleteFunc(slices.Clone(ms), func(m Metric) bool {
		return m.Value == 0 && (m.Unit == "" || m.Unit == Count)
	})
	if len(ms) == 0 {
		return
	}
	now := time.Now // wallclock: CloudWatch timestamps are real time
	if e.Now != nil {
		now = e.Now
	}
	dimNames := make([]string, 0, len(e.Dimensions))
	line := map[string]any{}
	for k, v := range e.Dimensions {
		dimNames = append(dimNames, k)
		line[k] = v
	}
	sort.Strings(dimNames)
	defs := make([]map[string]string, 0, len(ms))
	for _, m := range ms {
		unit := m.Unit
		if unit == "" {
			unit = Count
		}
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": unit})
		line[m.Name] = m.Value
	}
	line["_aws"] = map[string]any{
		"Timestamp": now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{dimNames},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.W.Write(append(b, '\n'))
}
