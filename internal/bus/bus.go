// Package bus publishes domain events to the EventBridge bus (DESIGN.md §5):
// source "qunyun", a PascalCase detail-type, and a detail whose "id" is the
// idempotency key consumers dedupe on. It only publishes; the rules that
// route events live in template.yaml.
package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// API is the part of the EventBridge client the publisher uses.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Event is one event to publish. Detail must marshal to a JSON object with a
// non-empty "id".
type Event struct {
	DetailType string
	Detail     any
	// Time is when the event happened: the envelope's "time", which
	// consumers may date their work by (push keys a delivery by it). Zero
	// means the time of the PutEvents call, so a publisher that may publish
	// one event again (a retried step) sets it, to the same time each
	// time, and the copy is the same event to its consumers.
	Time time.Time
}

// Publisher puts events on one bus.
type Publisher struct {
	Client  API
	BusName string
}

// maxBatch is PutEvents' entry limit.
const maxBatch = 10

// Publish puts the events, ten per request. It fails if any entry fails, so
// the caller can retry the whole call (consumers dedupe on the detail id).
func (p *Publisher) Publish(ctx context.Context, events ...Event) error {
	entries := make([]types.PutEventsRequestEntry, 0, len(events))
	for _, e := range events {
		detail, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("publish %s: marshal detail: %w", e.DetailType, err)
		}
		var head struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(detail, &head) != nil || head.ID == "" {
			return fmt.Errorf("publish %s: detail has no id", e.DetailType)
		}
		entry := types.PutEventsRequestEntry{
			EventBusName: aws.String(p.BusName),
			Source:       aws.String(qunyun.EventSource),
			DetailType:   aws.String(e.DetailType),
			Detail:       aws.String(string(detail)),
		}
		if !e.Time.IsZero() {
			entry.Time = aws.Time(e.Time)
		}
		entries = append(entries, entry)
	}
	for len(entries) > 0 {
		n := min(len(entries), maxBatch)
		out, err := p.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries[:n]})
		if err != nil {
			return &qunyun.Error{Code: qunyun.EUNAVAILABLE, Message: "put events", Err: err}
		}
		if out.FailedEntryCount > 0 {
			for _, r := range out.Entries {
				if r.ErrorCode != nil {
					return qunyun.Errorf(qunyun.EUNAVAILABLE, "put events: %d failed, first: %s %s",
						out.FailedEntryCount, aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
				}
			}
			return qunyun.Errorf(qunyun.EUNAVAILABLE, "put events: %d failed", out.FailedEntryCount)
		}
		entries = entries[n:]
	}
	return nil
}
