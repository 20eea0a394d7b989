package loadtest

import (
	"fmt"
	"io"
	"sort"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Capacity is what the run cost in DynamoDB, from the local stack's meter
// (GET /_local/capacity, internal/local/capacity): request units as
// on-demand DynamoDB bills them, by the kind of event whose invocation
// made the requests.
type Capacity struct {
	// ByKind has one line per kind: a callback channel (oa, wecom,
	// wecom-bot, relay) or the background work of the run's time (a
	// function and the EventBridge detail type or schedule that invoked
	// it; "untraced" for requests no invocation made).
	ByKind []KindCost `json:"byKind"`
	// CallbackEvents are the callback invocations (every try of every
	// request, duplicates included).
	CallbackEvents int64 `json:"callbackEvents"`
	// WRUPerCallback and RRUPerCallback are all the run's units, the
	// background's included, per callback invocation.
	WRUPerCallback float64 `json:"wruPerCallback"`
	RRUPerCallback float64 `json:"rruPerCallback"`
}

// KindCost is one kind's share.
type KindCost struct {
	Kind     string  `json:"kind"`
	Callback bool    `json:"callback"` // a callback channel
	Events   int64   `json:"events"`   // invocations
	Requests int64   `json:"requests"`
	WRU      float64 `json:"wru"`
	RRU      float64 `json:"rru"`
	// IndexWRU is the part of WRU that went to global secondary indexes.
	IndexWRU float64 `json:"indexWru"`
	// ConditionalFailures are writes refused by their condition (1 WRU each).
	ConditionalFailures int64            `json:"conditionalFailures"`
	Operations          map[string]int64 `json:"operations"`
	WRUPerEvent         float64          `json:"wruPerEvent"`
	RRUPerEvent         float64          `json:"rruPerEvent"`
	RequestsPerEvent    float64          `json:"requestsPerEvent"`
}

// NewCapacity totals the kinds' costs. A kind named after a channel is a
// callback's.
func NewCapacity(kinds []KindCost) *Capacity {
	c := &Capacity{}
	var wru, rru float64
	for _, k := range kinds {
		k.Callback = qunyun.Channel(k.Kind).Valid()
		if k.Events > 0 {
			n := float64(k.Events)
			k.WRUPerEvent, k.RRUPerEvent, k.RequestsPerEvent = k.WRU/n, k.RRU/n, float64(k.Requests)/n
		}
		if k.Callback {
			c.CallbackEvents += k.Events
		}
		wru += k.WRU
		rru += k.RRU
		c.ByKind = append(c.ByKind, k)
	}
	sort.Slice(c.ByKind, func(i, j int) bool {
		a, b := c.ByKind[i], c.ByKind[j]
		if a.Callback != b.Callback {
			return a.Callback
		}
		return a.Kind < b.Kind
	})
	if c.CallbackEvents > 0 {
		c.WRUPerCallback, c.RRUPerCallback = wru/float64(c.CallbackEvents), rru/float64(c.CallbackEvents)
	}
	return c
}

// Print writes the costs as a table.
func (c *Capacity) Print(w io.Writer) {
	fmt.Fprintln(w, "DynamoDB, by event   (the stack's meter: on-demand request units, index writes included)")
	fmt.Fprintf(w, "  %-34s %7s %9s %9s %9s %9s %6s\n", "kind", "events", "requests", "req/event", "WRU/event", "RRU/event", "cond.")
	for _, k := range c.ByKind {
		fmt.Fprintf(w, "  %-34s %7d %9d %9.2f %9.2f %9.2f %6d\n", k.Kind, k.Events, k.Requests, k.RequestsPerEvent, k.WRUPerEvent, k.RRUPerEvent, k.ConditionalFailures)
	}
	fmt.Fprintf(w, "  %-34s %7d %9s %9s %9.2f %9.2f\n", "all, per callback", c.CallbackEvents, "", "", c.WRUPerCallback, c.RRUPerCallback)
}
