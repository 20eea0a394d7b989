package push

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// ScheduleInput is the ScheduleV2 Input of the minute tick.
type ScheduleInput struct {
	Kind          string    `json:"kind"`
	ScheduledTime time.Time `json:"scheduledTime"`
}

// memberJoined is the part of a MemberJoined detail (qunyun.GroupEvent) push reads.
type memberJoined struct {
	ID         string    `json:"id"`
	AccountID  string    `json:"account"`
	GroupID    string    `json:"group"`
	MemberID   string    `json:"member"`
	MemberName string    `json:"name"`
	At         time.Time `json:"at"`
}

// HandleEvent runs one bus event. at is the event's own time: it dates the
// deliveries' keys, so a redelivered event claims the same items. Bad input
// returns EINVALID and writes nothing.
func (s *Service) HandleEvent(ctx context.Context, detailType string, detail json.RawMessage, at time.Time) (*Outcome, error) {
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC()
	var jobs []job
	cat := s.newCatalog(nil)
	switch detailType {
	case qunyun.EventDeliveryRequested:
		var r qunyun.DeliveryRequest
		if err := decodeDetail(detail, &r); err != nil {
			return nil, err
		}
		j, err := requestJob(r, at)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	case qunyun.EventModerationHit:
		var h moderationHit
		if err := decodeDetail(detail, &h); err != nil {
			return nil, err
		}
		if h.GroupID == "" {
			return nil, qunyun.Errorf(qunyun.EINVALID, "ModerationHit %s: group is required", h.ID)
		}
		js, err := s.moderationJobs(ctx, cat, h, at)
		if err != nil {
			return nil, err
		}
		jobs = js
	case qunyun.EventMemberJoined:
		var e memberJoined
		if err := decodeDetail(detail, &e); err != nil {
			return nil, err
		}
		if e.GroupID == "" || e.MemberID == "" {
			return nil, qunyun.Errorf(qunyun.EINVALID, "MemberJoined %s: group and member are required", e.ID)
		}
		js, err := s.welcomeJobs(ctx, cat, e, at)
		if err != nil {
			return nil, err
		}
		jobs = js
	case qunyun.EventLinkOpened:
		return &Outcome{}, nil // the callback already recorded the open; nothing to send
	case qunyun.EventGroupSyncRequested:
		var r qunyun.GroupSyncRequest
		if err := decodeDetail(detail, &r); err != nil {
			return nil, err
		}
		if r.GroupID == "" {
			return nil, qunyun.Errorf(qunyun.EINVALID, "GroupSyncRequested %s: group is required", r.ID)
		}
		return &Outcome{}, s.handleSyncRequest(ctx, cat, r)
	default:
		return nil, qunyun.Errorf(qunyun.EINVALID, "push: unexpected detail-type %q", detailType)
	}
	if err := s.dateOnce(ctx, jobs); err != nil {
		return nil, err
	}
	out := &Outcome{}
	err := s.runJobs(ctx, cat, jobs, out)
	s.emit(out)
	return out, err
}

// dateOnce fixes the time each job's delivery is keyed (and dated) by,
// the same for every copy of its event. A request re-published by its
// sender (a retried step, a replay from the dead-letter queue) carries a
// new event time, and a ModerationHit or MemberJoined whose record's work
// the callback resumed carries the record's time, hours or days old: keyed
// by it, a delivery could land on a date the sweep no longer reads (today
// and yesterday: a WeCom task never followed, a stale claim never
// resolved) or be failed at once as past RetryWindow. So a delivery is
// dated by its event's time when push first sees it within RetryWindow of
// that time and on the same UTC day, else by when push first saw it (the
// sweep then reads it for at least a day, as long as a task may stay open);
// the id's first time is kept (DLVREQ#<id>, without expiry) and every copy
// claims the delivery of that.
func (s *Service) dateOnce(ctx context.Context, jobs []job) error {
	now := s.now().UTC()
	today := now.Format(time.DateOnly)
	for i := range jobs {
		d := &jobs[i].item.Delivery
		if now.Sub(d.At) > s.retryWindow() || d.At.UTC().Format(time.DateOnly) != today {
			d.At = now
		}
		first, err := s.Store.Deliveries.RequestedDelivery(ctx, *d)
		if err != nil {
			return err
		}
		d.At = first
	}
	return nil
}

func decodeDetail(detail json.RawMessage, v any) error {
	if err := json.Unmarshal(detail, v); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "push: bad event detail: %v", err)
	}
	var head struct {
		ID string `json:"id"`
	}
	json.Unmarshal(detail, &head)
	if strings.TrimSpace(head.ID) == "" || len(head.ID) > 256 {
		return qunyun.Errorf(qunyun.EINVALID, "push: event detail needs an id (its idempotency key, at most 256 bytes)")
	}
	return nil
}

// requestJob validates a DeliveryRequest; its id becomes the delivery id.
func requestJob(r qunyun.DeliveryRequest, at time.Time) (job, error) {
	bad := func(format string, args ...any) (job, error) {
		return job{}, qunyun.Errorf(qunyun.EINVALID, "DeliveryRequest %s: "+format, append([]any{r.ID}, args...)...)
	}
	switch r.TargetKind {
	case qunyun.TargetGroup:
		if r.GroupID == "" {
			r.GroupID = r.TargetID
		}
		if r.TargetID == "" || r.TargetID != r.GroupID {
			return bad("a group delivery needs target = group")
		}
	case qunyun.TargetMember, qunyun.TargetStaff:
		if r.TargetID == "" {
			return bad("target is required")
		}
	default:
		return bad("targetKind %q is not group, member or staff", r.TargetKind)
	}
	if r.Source == "" {
		return bad("source is required")
	}
	if (r.ContentID == "") == (r.Content == nil) {
		return bad("give exactly one of content (an id) and inline")
	}
	if r.Content != nil && strings.TrimSpace(r.Content.Text+r.Content.URL+r.Content.MediaID+r.Content.PicURL) == "" {
		return bad("inline content is empty")
	}
	d := qunyun.Delivery{
		ID: r.ID, Source: r.Source, TargetKind: r.TargetKind, TargetID: r.TargetID, GroupID: r.GroupID,
		AccountID: r.AccountID, ContentID: r.ContentID, At: at, Urgent: r.Urgent, Deadline: r.Deadline,
		Mentions: r.Mentions, ReplyTo: r.ReplyTo,
	}
	if r.Content != nil && d.ContentID == "" {
		d.ContentID = r.Content.ID
	}
	return job{item: qunyun.DeliveryRecord{Delivery: d, Inline: r.Content}}, nil
}

// welcomeJobs sends the day-0 journey steps (without a time) of every active
// plan that selects the group.
func (s *Service) welcomeJobs(ctx context.Context, cat *catalog, e memberJoined, at time.Time) ([]job, error) {
	g, err := cat.group(ctx, e.GroupID)
	if err != nil || g == nil {
		return nil, err // an unknown group has no plans yet
	}
	plans, err := s.plans(ctx)
	if err != nil {
		return nil, err
	}
	var jobs []job
	mem := qunyun.Member{GroupID: g.ID, ID: e.MemberID, Name: e.MemberName, JoinedAt: e.At}
	for _, p := range plans {
		if !p.Active(at) || !Selects(p.Select, *g, at) {
			continue
		}
		for _, st := range p.Journey {
			if st.Day == 0 && st.At == "" {
				jobs = append(jobs, journeyJob(p, st, *g, mem, at))
			}
		}
	}
	return jobs, nil
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// String makes an Outcome readable in logs.
func (o *Outcome) String() string {
	return fmt.Sprintf("claimed=%d raced=%d sent=%d tasks=%d skipped=%v failed=%d deferred=%d unknown=%d",
		o.Claimed, o.Raced, o.Sent, o.Tasks, o.Skipped, o.Failed, o.Deferred, o.Unknown)
}
