// Package metrics writes CloudWatch Embedded Metric Format (EMF) lines to
// stdout: CloudWatch turns each line into metrics with no API call and no
// extra latency. It must not block or fail a request: a write error is dropped.
package metrics

import (
	"encoding/json"
	"io"
	"os"
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

// Emit writes the metrics as one EMF line.
func (e *Emitter) Emit(ms ...Metric) {
	if e == nil || len(ms) == 0 {
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
