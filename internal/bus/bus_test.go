package bus_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/local/eventbus"
)

type recorder struct {
	batches [][]types.PutEventsRequestEntry
	fail    bool
}

func (r *recorder) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	r.batches = append(r.batches, in.Entries)
	out := &eventbridge.PutEventsOutput{}
	if r.fail {
		out.FailedEntryCount = 1
		out.Entries = []types.PutEventsResultEntry{{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("boom")}}
	}
	return out, nil
}

func TestPublishBatchesByTen(t *testing.T) {
	r := &recorder{}
	p := &bus.Publisher{Client: r, BusName: "qunyun-dev"}
	var evs []bus.Event
	for i := 0; i < 23; i++ {
		evs = append(evs, bus.Event{DetailType: "MemberJoined", Detail: map[string]any{"id": "k" + string(rune('a'+i))}})
	}
	if err := p.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	if len(r.batches) != 3 || len(r.batches[0]) != 10 || len(r.batches[2]) != 3 {
		t.Fatalf("batches: %d", len(r.batches))
	}
	e := r.batches[0][0]
	if aws.ToString(e.Source) != "qunyun" || aws.ToString(e.EventBusName) != "qunyun-dev" || !strings.Contains(aws.ToString(e.Detail), `"id":"ka"`) {
		t.Fatalf("entry: %+v", e)
	}
}

func TestPublishErrors(t *testing.T) {
	p := &bus.Publisher{Client: &recorder{}, BusName: "b"}
	if err := p.Publish(context.Background(), bus.Event{DetailType: "X", Detail: map[string]string{"no": "id"}}); err == nil {
		t.Error("detail without id: no error")
	}
	p = &bus.Publisher{Client: &recorder{fail: true}, BusName: "b"}
	if err := p.Publish(context.Background(), bus.Event{DetailType: "X", Detail: map[string]string{"id": "1"}}); err == nil || !strings.Contains(err.Error(), "InternalFailure") {
		t.Errorf("failed entry: %v", err)
	}
}

// An event's Time goes into the entry; none leaves it to PutEvents.
func TestPublishTime(t *testing.T) {
	r := &recorder{}
	p := &bus.Publisher{Client: r, BusName: "b"}
	at := time.Date(2026, 11, 22, 23, 59, 50, 0, time.UTC)
	err := p.Publish(context.Background(),
		bus.Event{DetailType: "ModerationHit", Detail: map[string]string{"id": "m1"}, Time: at},
		bus.Event{DetailType: "ModerationHit", Detail: map[string]string{"id": "m2"}})
	if err != nil {
		t.Fatal(err)
	}
	got := r.batches[0]
	if got[0].Time == nil || !got[0].Time.Equal(at) {
		t.Errorf("entry time %v, want %v", got[0].Time, at)
	}
	if got[1].Time != nil {
		t.Errorf("an event without a time got %v", got[1].Time)
	}
}

// Over the wire, to the local stack's EventBridge: the delivered envelope
// carries the event's own time, however late it is put; without one, the
// time of the put.
func TestPublishTimeReachesEnvelope(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 30, 0, time.UTC)
	inv := &envelopes{}
	b, err := eventbus.New(eventbus.Config{Invoker: inv, Clock: clock.NewManual(now), Rules: []eventbus.Rule{
		{Function: "PushFunction", EventBusName: "qunyun-test", Pattern: []byte(`{"source":["qunyun"]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b)
	defer func() { srv.Close(); b.Wait() }()
	p := &bus.Publisher{BusName: "qunyun-test", Client: eventbridge.New(eventbridge.Options{Region: "us-east-1",
		BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})}
	at := time.Date(2026, 11, 22, 23, 59, 50, 0, time.UTC)
	if err := p.Publish(context.Background(),
		bus.Event{DetailType: "ModerationHit", Detail: map[string]string{"id": "m1"}, Time: at},
		bus.Event{DetailType: "MemberJoined", Detail: map[string]string{"id": "j1"}}); err != nil {
		t.Fatal(err)
	}
	b.Wait()
	got := inv.byDetailType(t)
	if e := got["ModerationHit"]; !e.Time.Equal(at) {
		t.Errorf("ModerationHit delivered with time %v, want %v", e.Time, at)
	}
	if e := got["MemberJoined"]; !e.Time.Equal(now) {
		t.Errorf("MemberJoined delivered with time %v, want the put's %v", e.Time, now)
	}
}

// envelopes is an eventbus.Invoker that keeps what it is given.
type envelopes struct {
	mu       sync.Mutex
	payloads [][]byte
}

func (e *envelopes) Invoke(_ context.Context, _ string, payload []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.payloads = append(e.payloads, payload)
	return nil
}

func (e *envelopes) byDetailType(t *testing.T) map[string]events.EventBridgeEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]events.EventBridgeEvent{}
	for _, p := range e.payloads {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(p, &ev); err != nil {
			t.Fatal(err)
		}
		out[ev.DetailType] = ev
	}
	return out
}
