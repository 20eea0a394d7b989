package local

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/local/capacity"
	"github.com/qunyun/qunyun/internal/local/runtimeapi"
)

// startMeter puts the capacity meter in front of the stack's DynamoDB for
// the functions (behind the fault proxy, when there is one: a request the
// proxy fails never reaches the engine and costs nothing), until ctx ends.
func (s *Stack) startMeter(ctx context.Context) error {
	var indexes []capacity.Index
	for _, ix := range s.tpl.Tables[0].GlobalSecondaryIndexes {
		keys := make([]string, 0, len(ix.KeySchema))
		for _, k := range ix.KeySchema {
			keys = append(keys, k.Name)
		}
		indexes = append(indexes, capacity.Index{Name: ix.Name, Keys: keys})
	}
	m, err := capacity.New(s.Endpoints().DynamoDB, capacity.Options{Indexes: indexes})
	if err != nil {
		return err
	}
	srv, err := capacity.Start("127.0.0.1:0", m)
	if err != nil {
		return err
	}
	s.meter = srv
	go func() {
		<-ctx.Done()
		stop, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Close(stop)
	}()
	return nil
}

// meteredDynamoDB is the meter's endpoint, or the engine's before the
// meter starts.
func (s *Stack) meteredDynamoDB() string {
	if s.meter != nil {
		return s.meter.URL
	}
	return s.Endpoints().DynamoDB
}

// functionsDynamoDB is the DynamoDB endpoint the functions are given: the
// fault proxy when there is one, which forwards to the meter.
func (s *Stack) functionsDynamoDB() string {
	if s.faults != nil {
		return s.faults.URL
	}
	return s.meteredDynamoDB()
}

// Capacity returns what the functions' DynamoDB requests have cost so far,
// by the kind of event that made them (see eventKind).
func (s *Stack) Capacity() capacity.Snapshot {
	if s.meter == nil {
		return capacity.Snapshot{ByKind: map[string]capacity.Usage{}}
	}
	return s.meter.Snapshot()
}

// track gives an invocation its trace id and registers it with the meter
// under the kind of event it handles; done ends the registration.
func (s *Stack) track(ctx context.Context, trigger, function string, payload []byte) (_ context.Context, done func()) {
	if s.meter == nil {
		return ctx, func() {}
	}
	trace := runtimeapi.NewTraceID(time.Now()) // wallclock: a trace id, as in Lambda
	return runtimeapi.WithTraceID(ctx, trace), s.meter.Track(trace, s.eventKind(trigger, function, payload))
}

// eventKind names what an invocation handles: a callback POST by its
// account's channel (oa, wecom, wecom-bot, relay), another HTTP request by
// its route, an EventBridge event by its function and detail type, and a
// schedule by its function.
func (s *Stack) eventKind(trigger, function string, payload []byte) string {
	var ev struct {
		RouteKey       string            `json:"routeKey"`
		PathParameters map[string]string `json:"pathParameters"`
		DetailType     string            `json:"detail-type"`
	}
	_ = json.Unmarshal(payload, &ev)
	if trigger == "http" {
		if kind, ok := s.accountKinds[ev.PathParameters["account"]]; ok && strings.HasPrefix(ev.RouteKey, "POST ") {
			return kind
		}
		if ev.RouteKey != "" {
			return ev.RouteKey
		}
		return fmt.Sprintf("%s http", function)
	}
	if ev.DetailType != "" {
		return function + " " + ev.DetailType
	}
	return function + " schedule"
}
