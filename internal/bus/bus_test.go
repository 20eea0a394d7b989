package bus_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/qunyun/qunyun/internal/bus"
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
