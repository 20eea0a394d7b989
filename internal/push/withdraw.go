package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Withdrawing an unconfirmed customer-group task (at its deadline, at
// TaskExpiry, or when the group's quiet hours begin). Until WeCom has taken the cancel the task is
// live: its owner can still post it, so it keeps its caps and stays
// task_created, and the cancel is retried on the following ticks. Only a
// task known to be withdrawn (cancel taken, then read back unsent) is
// expired and gives its caps back; a task found posted or refused meanwhile
// takes that state instead. When the retries run out the task is unknown
// (reason withdraw_failed): caps kept, moderators alerted, never followed
// again.

// withdrawRetryFor bounds how long a failing withdrawal is retried after
// its first failure.
const withdrawRetryFor = 30 * time.Minute

// sweepMargin: the sweep reads deliveries of today and yesterday (UTC), so
// a task must end some ticks before its day leaves it, or it would stay
// open and unfollowed for ever.
const sweepMargin = 10 * time.Minute

// withdrawTask ends task it (account a, owner sender). reason says why, as
// the expired delivery records it: its deadline passed (expired), the quiet
// hours began (quiet_hours), or "" for TaskExpiry. With resume set, a task
// known withdrawn is deferred until then instead of expired, with reason:
// the quiet hours' end, or at once for a group's new owner (owner_changed).
func (s *Service) withdrawTask(ctx context.Context, it *qunyun.DeliveryRecord, a qunyun.Account, sender, reason string, resume time.Time, out *Outcome) error {
	// The owner may have acted since the last look: nothing to withdraw.
	results, lookErr := s.Tasks.GroupMsgSendResult(ctx, a, it.TaskID, sender)
	if lookErr == nil {
		if st := taskState(results); st != "" {
			return s.finish(ctx, it, st, "", out)
		}
	}
	if it.WithdrawnAt.IsZero() {
		if err := s.Tasks.CancelGroupMsgSend(ctx, a, it.TaskID); err != nil {
			return s.withdrawLater(ctx, it, fmt.Errorf("cancel task of delivery %s: %w", it.ID, err), out)
		}
		// A confirmation may have slipped in before the cancel (which then
		// withdrew nothing): look again before calling it expired.
		results, lookErr = s.Tasks.GroupMsgSendResult(ctx, a, it.TaskID, sender)
		if lookErr != nil {
			// Remember the cancel was taken: the next tick only looks.
			if _, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) { d.WithdrawnAt = s.now() }); err != nil {
				return errors.Join(lookErr, err)
			}
		}
	}
	if lookErr != nil {
		return s.withdrawLater(ctx, it, fmt.Errorf("read task of delivery %s after its cancel: %w", it.ID, lookErr), out)
	}
	if st := taskState(results); st != "" {
		return s.finish(ctx, it, st, "", out)
	}
	if !resume.IsZero() {
		return s.requeue(ctx, it, resume, reason, out)
	}
	return s.finish(ctx, it, qunyun.DeliveryExpired, reason, out)
}

// withdrawLater leaves a task whose withdrawal failed open for the next tick
// (its caps stay taken) and returns cause; once the retries have run out it
// makes the task unknown instead.
func (s *Service) withdrawLater(ctx context.Context, it *qunyun.DeliveryRecord, cause error, out *Outcome) error {
	now := s.now()
	if it.WithdrawFailedAt.IsZero() {
		changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) { d.WithdrawFailedAt = now })
		if err != nil || !changed {
			return errors.Join(cause, err) // someone else moved it on: theirs now
		}
	}
	if now.Before(withdrawDeadline(it.Delivery)) {
		s.log().Warn("task not withdrawn yet; retrying next tick", "delivery", it.ID, "err", cause)
		return cause
	}
	s.log().Error("task could not be withdrawn; the owner may still post it", "delivery", it.ID, "group", it.GroupID, "err", cause)
	return s.markUnknown(ctx, it, qunyun.ReasonWithdrawFailed, out)
}

// withdrawDeadline is when a failing withdrawal of d stops being retried:
// withdrawRetryFor after its first failure, and sweepMargin before d's day
// leaves the sweep.
func withdrawDeadline(d qunyun.Delivery) time.Time {
	deadline := d.WithdrawFailedAt.Add(withdrawRetryFor)
	day, err := time.Parse(time.DateOnly, qunyun.DeliveryDate(d))
	if err != nil {
		return deadline
	}
	if last := day.AddDate(0, 0, 2).Add(-sweepMargin); last.Before(deadline) {
		return last
	}
	return deadline
}
