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

// Scheduled is the ScheduleV2 input of the nightly schedule. Date, when set,
// re-scores that local date instead (an operator's re-run).
type Scheduled struct {
	Kind          string `json:"kind"`
	ScheduledTime string `json:"scheduledTime"`
	Date          string `json:"date,omitempty"`
}

// Handler is the ScoringFunction's entry point: the nightly schedule and the
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
		return h.Night.Shard(ctx, s.Date, s.Shard, s.Shards)
	}
	var in Scheduled
	if err := json.Unmarshal(raw, &in); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "scoring: bad schedule input")
	}
	if in.Kind != "nightly" {
		return qunyun.Errorf(qunyun.EINVALID, "scoring: unknown kind %q", in.Kind)
	}
	date := in.Date
	if date == "" {
		var err error
		if date, err = NightDate(in.ScheduledTime); err != nil {
			return err
		}
	} else if _, err := time.Parse(time.DateOnly, date); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "scoring: bad date %q", date)
	}
	// A failing comment API must not cost the night its scores: both run,
	// and either failure fails the invocation so the retry (idempotent)
	// finishes the job.
	var contestErr error
	if h.Contests != nil {
		if contestErr = h.Contests.RunAll(ctx); contestErr != nil {
			contestErr = fmt.Errorf("contests: %w", contestErr)
		}
	}
	return errors.Join(contestErr, h.Night.Run(ctx, date))
}

// NightDate is the local date a nightly run scores: the day before the
// scheduled time, in the default time zone (Asia/Shanghai) the schedule
// runs in. Each group is scored for that date in its own zone.
func NightDate(scheduledTime string) (string, error) {
	t, err := time.Parse(time.RFC3339, scheduledTime)
	if err != nil {
		return "", qunyun.Errorf(qunyun.EINVALID, "scoring: bad scheduledTime %q", scheduledTime)
	}
	local := t.In(qunyun.LoadLocation(""))
	return local.AddDate(0, 0, -1).Format(time.DateOnly), nil
}
