package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Scheduled is the ScheduleV2 input of the scoring schedule (hourly: each
// run scores the groups whose local night it is, see DueDate). Date, when
// set, re-scores that local date for every group whose day is over instead
// (an operator's re-run).
type Scheduled struct {
	Kind          string `json:"kind"`
	ScheduledTime string `json:"scheduledTime"`
	Date          string `json:"date,omitempty"`
}

// Handler is the ScoringFunction's entry point: the hourly schedule and the
// ScoringShardRequested events it fans out to itself.
type Handler struct {
	Night *Night
	// Contests, when set, runs the OA comment contests each night before
	// the scores (package contest).
	Contests interface {
		RunAll(ctx context.Context) error
	}
}

// Handle tells a bus envelope from the schedule's input by its JSON.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	var probe struct {
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "scoring: input is not a JSON object")
	}
	if probe.DetailType != "" {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return qunyun.Errorf(qunyun.EINVALID, "scoring: bad EventBridge envelope")
		}
		if ev.DetailType != qunyun.EventScoringShardRequested {
			return qunyun.Errorf(qunyun.EINVALID, "scoring: unexpected event %q", ev.DetailType)
		}
		var s qunyun.ScoringShard
		if err := json.Unmarshal(ev.Detail, &s); err != nil {
			return qunyun.Errorf(qunyun.EINVALID, "scoring: bad shard detail")
		}
		if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
			return qunyun.Errorf(qunyun.EINVALID, "scoring: shard %q has a bad date", s.ID)
		}
		return h.Night.Shard(ctx, s)
	}
	var in Scheduled
	if err := json.Unmarshal(raw, &in); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "scoring: bad schedule input")
	}
	if in.Kind != "nightly" {
		return qunyun.Errorf(qunyun.EINVALID, "scoring: unknown kind %q", in.Kind)
	}
	if in.Date != "" {
		if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
			return qunyun.Errorf(qunyun.EINVALID, "scoring: bad date %q", in.Date)
		}
		return errors.Join(h.contests(ctx), h.Night.Run(ctx, in.Date))
	}
	at, err := time.Parse(time.RFC3339, in.ScheduledTime)
	if err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "scoring: bad scheduledTime %q", in.ScheduledTime)
	}
	// The contests run once a day, at the default zone's night, as before
	// the schedule ran hourly: their dates are Asia/Shanghai dates.
	var contestErr error
	if _, nightly := ReportDue(at); nightly {
		contestErr = h.contests(ctx)
	}
	return errors.Join(contestErr, h.Night.RunAt(ctx, at))
}

// contests runs the OA comment contests. A failing comment API must not
// cost the night its scores: both run, and either failure fails the
// invocation so the retry (idempotent) finishes the job.
func (h *Handler) contests(ctx context.Context) error {
	if h.Contests == nil {
		return nil
	}
	if err := h.Contests.RunAll(ctx); err != nil {
		return fmt.Errorf("contests: %w", err)
	}
	return nil
}
