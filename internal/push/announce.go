package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Announcing a finished delivery: DeliveryFinished for whoever waits on it
// (the session function), and for an unknown delivery the alert requests to
// the group's moderators. The final state write marks the announcement
// pending (Delivery.AnnouncePending) and a successful publish clears it, so
// an announcement is made at least once:
//
//   - a publish that fails makes the invocation fail, and its retry (an
//     EventBridge retry, a tick that expands the minute again) finds the
//     delivery already final and publishes again (resolveStale);
//   - what no retry comes back for (a task the sweep finished, a crash
//     between the write and the publish) is published by the scheduled
//     invocation every AnnounceEvery (AnnounceOwed).
//
// Consumers may see an event twice (the publish succeeded and clearing the
// mark failed, or two invocations raced) and dedupe on its stable identity:
// DeliveryFinished's id is the delivery id, an alert's id is derived from
// the delivery and the recipient (push itself dedupes it as a request).

// AnnounceEvery is how often the scheduled invocation looks for
// announcements that earlier invocations owe the bus.
const AnnounceEvery = 10 * time.Minute

// announce publishes what a final delivery owes the bus and clears the mark.
func (s *Service) announce(ctx context.Context, it *qunyun.DeliveryRecord) error {
	if s.Bus == nil || !it.AnnouncePending || !it.State.Final() {
		return nil
	}
	d := it.Delivery
	events := []bus.Event{{DetailType: qunyun.EventDeliveryFinished, Detail: qunyun.DeliveryFinished{
		ID: d.ID, Source: d.Source, Slot: d.Slot, TargetKind: d.TargetKind, TargetID: d.TargetID,
		GroupID: d.GroupID, ContentID: d.ContentID, State: d.State, Reason: d.Reason,
	}}}
	if d.State == qunyun.DeliveryUnknown && d.Source != SourceAlert {
		alerts, err := s.unknownAlerts(ctx, d)
		if err != nil {
			return fmt.Errorf("announce delivery %s: %w", d.ID, err)
		}
		events = append(events, alerts...)
	}
	if err := s.Bus.Publish(ctx, events...); err != nil {
		return fmt.Errorf("announce delivery %s: %w", d.ID, err)
	}
	// Not changed: another invocation announced it meanwhile.
	if _, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) { d.AnnouncePending = false }); err != nil {
		return fmt.Errorf("announce delivery %s: %w", d.ID, err)
	}
	return nil
}

// unknownAlerts are the urgent requests to tell a group's moderators that
// a delivery may or may not have gone out.
func (s *Service) unknownAlerts(ctx context.Context, d qunyun.Delivery) ([]bus.Event, error) {
	var g *qunyun.Group
	if d.GroupID != "" {
		v, found, err := s.Store.Catalog.Group(ctx, d.GroupID)
		if err != nil {
			return nil, err
		}
		if found {
			g = &v
		}
	}
	name := d.GroupID
	if g != nil && g.Name != "" {
		name = moderation.Defang(g.Name) // the owner's choice: quoted, never a link
	}
	tmpl, contentID := "unknown_alert", "unknown-alert"
	if d.Reason == qunyun.ReasonWithdrawFailed {
		tmpl, contentID = "withdraw_failed_alert", "withdraw-failed-alert"
	}
	text, err := s.text(tmpl, map[string]any{"Group": GroupVars{ID: d.GroupID, Name: name}, "Delivery": d})
	if err != nil {
		return nil, err
	}
	recipients, err := s.moderators(ctx, g)
	if err != nil {
		return nil, err
	}
	if len(recipients) == 0 {
		s.log().Error("no moderator to alert about an unknown delivery", "delivery", d.ID, "group", d.GroupID)
	}
	var events []bus.Event
	for _, r := range recipients {
		events = append(events, bus.Event{DetailType: qunyun.EventDeliveryRequested, Detail: qunyun.DeliveryRequest{
			ID: "unknown-" + d.ID + "-" + r, Source: SourceAlert, TargetKind: qunyun.TargetStaff, TargetID: r,
			GroupID: d.GroupID, Urgent: true, Content: &qunyun.Content{ID: contentID, Kind: qunyun.ContentText, Text: text},
		}})
	}
	return events, nil
}

// AnnounceOwed publishes, on every AnnounceEvery-th minute, the
// announcements that deliveries still owe the bus. It reads the scheduled
// UTC day and the two before: a delivery reaches its final state by the end
// of the day after its own (the sweep's reach), so an announcement is
// retried for at least a day after it was first owed. A mark younger than
// StaleAfter is left to the invocation that is publishing it. Invoke runs
// it after each scheduled tick.
func (s *Service) AnnounceOwed(ctx context.Context, scheduled time.Time) error {
	scheduled = scheduled.UTC().Truncate(time.Minute)
	if scheduled.Sub(scheduled.Truncate(AnnounceEvery)) != 0 || s.Bus == nil {
		return nil
	}
	var errs []error
	now := s.now()
	for back := 2; back >= 0; back-- {
		date := scheduled.AddDate(0, 0, -back).Format(time.DateOnly)
		items, err := s.Store.Deliveries.UnannouncedDeliveries(ctx, date)
		if err != nil {
			return err
		}
		for _, it := range items {
			if now.Sub(it.UpdatedAt) >= s.staleAfter() {
				errs = append(errs, s.announce(ctx, &it))
			}
		}
	}
	return errors.Join(errs...)
}
