package push

import (
	"context"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Deferring: quiet hours hold a delivery back until they end, when its
// deadline allows (checkPolicies decides). A deferred delivery is not a
// new queue: it stays claimed, with DeferredUntil and the reason, and the
// sweep that resumes abandoned claims (resolveStale) runs it again once
// DeferredUntil has passed, through every policy anew. Nothing was sent,
// so running it again cannot post twice. The deadline keeps it within the
// sweep's reach (prepare caps it at the follow edge).

// skip ends a delivery a policy held back: deferred when checkPolicies set
// a DeferredUntil still ahead, else skipped with reason.
func (s *Service) skip(ctx context.Context, it *qunyun.DeliveryRecord, reason string, out *Outcome) error {
	until := it.DeferredUntil
	if !until.After(s.now()) {
		return s.finish(ctx, it, qunyun.DeliverySkipped, reason, out)
	}
	changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) {
		d.DeferredUntil, d.Reason, d.Caps = until, reason, nil
	})
	if err != nil || !changed {
		return err // someone else moved it on: theirs now
	}
	out.add(func(o *Outcome) { o.Deferred++ })
	return nil
}

// requeue turns a withdrawn task back into a claim deferred until until,
// with reason: at the start of quiet hours until they end (the morning's
// run makes a new task), or for a group's new owner at once. The withdrawal
// was read back unsent, so the old task can no longer be posted. The caps
// of the old task are given back.
func (s *Service) requeue(ctx context.Context, it *qunyun.DeliveryRecord, until time.Time, reason string, out *Outcome) error {
	caps := it.Caps
	changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) {
		d.State, d.Reason, d.DeferredUntil = qunyun.DeliveryClaimed, reason, until
		d.TaskID, d.Sender, d.SendStartedAt, d.Caps = "", "", time.Time{}, nil
		d.Reminders, d.LastRemindedAt = 0, time.Time{}
		d.WithdrawnAt, d.WithdrawFailedAt = time.Time{}, time.Time{}
	})
	if err != nil || !changed {
		return err
	}
	s.reclaimed(it.Delivery)
	out.add(func(o *Outcome) { o.Deferred++ })
	return s.releaseCaps(ctx, it.ID, caps)
}

// QuietEnd is when the quiet hours that local time t falls in end, in t's
// location.
func QuietEnd(t time.Time, c qunyun.Caps) time.Time {
	end, ok := minuteOfDay(c.QuietEnd)
	if !ok {
		return t
	}
	at := time.Date(t.Year(), t.Month(), t.Day(), end/60, end%60, 0, 0, t.Location())
	if !at.After(t) {
		at = time.Date(t.Year(), t.Month(), t.Day()+1, end/60, end%60, 0, 0, t.Location())
	}
	return at
}
