package push

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Invoke is the Lambda handler: the scheduler's {"kind":"tick",...} input or
// an EventBridge event from the bus, told apart by their JSON.
func (s *Service) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Kind       string `json:"kind"`
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, qunyun.Errorf(qunyun.EINVALID, "push: input is not a JSON object: %v", err)
	}
	switch {
	case probe.DetailType != "":
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, qunyun.Errorf(qunyun.EINVALID, "push: bad EventBridge event: %v", err)
		}
		return s.HandleEvent(ctx, ev.DetailType, ev.Detail, ev.Time)
	case probe.Kind == "tick":
		var in ScheduleInput
		if err := json.Unmarshal(raw, &in); err != nil || in.ScheduledTime.IsZero() {
			return nil, qunyun.Errorf(qunyun.EINVALID, `push: tick input needs "scheduledTime" in RFC 3339`)
		}
		rep, err := s.Tick(ctx, in.ScheduledTime)
		if !rep.AlreadyDone {
			// What earlier invocations owe the bus must not fail this tick:
			// a retry would only repeat it, and the next round tries again.
			if aerr := s.AnnounceOwed(ctx, in.ScheduledTime); aerr != nil {
				s.log().Error("publishing owed announcements failed", "err", aerr)
			}
		}
		return rep, err
	}
	return nil, qunyun.Errorf(qunyun.EINVALID, "push: neither a tick nor a bus event (kind %q)", probe.Kind)
}
