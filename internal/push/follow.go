package push

import (
	"context"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// followTask checks an open customer-group task. To spread the calls, each
// task is polled every ten minutes (on its own minute), except when a
// reminder or the end is due. An unconfirmed task ends at its deadline or
// after TaskExpiry (at the latest at its follow edge, before the sweep
// stops reading its day), or when the group's quiet hours begin: the owner could otherwise post it
// at midnight. Reminders are not sent in quiet hours. A task whose account
// is not in the directory is a configuration error until it expires, then
// unknown (accountMissing).
//
// poll says whether the task is due for polling (its minute came since the
// last sweep); it is polled then, or when a reminder, the end or quiet
// hours bring it here.
func (s *Service) followTask(ctx context.Context, cat *catalog, it *qunyun.DeliveryRecord, now time.Time, poll bool, out *Outcome) error {
	g, err := cat.group(ctx, it.GroupID)
	if err != nil {
		return err
	}
	clock := s.now()
	quiet := g != nil && InQuietHours(clock.In(g.Location()), g.EffectiveCaps())
	// A task ends at its deadline (a closing notice confirmed after the
	// session is worse than none), at TaskExpiry, and no later than its
	// follow edge: past it the sweep would soon stop reading the task's day
	// (see followEdge).
	pastDeadline := expired(it.Delivery, clock)
	expiring := pastDeadline || clock.Sub(it.SendStartedAt) >= s.taskExpiry() || !clock.Before(followEdge(it.Delivery))
	last := it.LastRemindedAt
	if last.IsZero() {
		last = it.SendStartedAt
	}
	remindDue := !quiet && it.Reminders < qunyun.MaxTaskReminders && clock.Sub(last) >= s.remindEvery()
	// Only the member a task was made for can post it: a group that has
	// changed hands (groupsync.go) gets its open tasks made again for its
	// new owner.
	moved := it.TargetKind == qunyun.TargetGroup && g != nil && it.Sender != "" && g.OwnerID != "" && g.OwnerID != it.Sender
	if !expiring && !remindDue && !quiet && !moved && !poll {
		return nil
	}
	a, err := cat.account(ctx, it.AccountID)
	if err != nil {
		if !clock.Before(followEdge(it.Delivery)) {
			// At its follow edge, the sweep about to forget it: ending it is
			// better than leaving it open and unfollowed for ever.
			s.log().Error("task's account unreadable as its day leaves the sweep; the owner may still post it", "delivery", it.ID, "err", err)
			return s.markUnknown(ctx, it, qunyun.ReasonWithdrawFailed, out)
		}
		return fmt.Errorf("follow task %s: account %s: %w", it.ID, it.AccountID, err)
	}
	if a == nil {
		return s.accountMissing(ctx, it, expiring, poll, out)
	}
	sender := it.Sender
	if sender == "" && g != nil {
		sender = g.OwnerID // a task made before tasks kept their sender
	}
	if expiring || quiet {
		reason, resume := withdrawal(it.Delivery, g, clock, pastDeadline, expiring)
		return s.withdrawTask(ctx, it, *a, sender, reason, resume, out) // withdraw.go
	}
	if moved {
		// Made again for the new owner as soon as the old task is read back
		// unposted; posted meanwhile, it is sent.
		return s.withdrawTask(ctx, it, *a, sender, qunyun.ReasonOwnerChanged, clock, out)
	}
	results, err := s.Tasks.GroupMsgSendResult(ctx, *a, it.TaskID, sender)
	if err != nil {
		return fmt.Errorf("follow task %s: %w", it.ID, err)
	}
	state := taskState(results)
	switch {
	case state != "":
		return s.finish(ctx, it, state, "", out)
	case remindDue:
		// Record the reminder first: a reminder lost to a crash is better
		// than a fourth one.
		changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) {
			d.Reminders++
			d.LastRemindedAt = clock
		})
		if err != nil || !changed {
			return err
		}
		if err := s.Tasks.RemindGroupMsgSend(ctx, *a, it.TaskID); err != nil {
			s.log().Warn("task reminder refused", "delivery", it.ID, "err", err)
		}
	}
	return nil
}

// withdrawal is why an open task is withdrawn at clock, and when it is
// made again (zero: never): past its deadline it expired; at TaskExpiry
// the state says it all; in quiet hours it is made again when they end, if
// still worth it then.
func withdrawal(d qunyun.Delivery, g *qunyun.Group, clock time.Time, pastDeadline, expiring bool) (reason string, resume time.Time) {
	switch {
	case pastDeadline:
		return qunyun.ReasonExpired, time.Time{}
	case expiring:
		return "", time.Time{}
	}
	if d.Deadline.IsZero() {
		return qunyun.ReasonQuietHours, time.Time{} // stored before deadlines existed
	}
	resume = QuietEnd(clock.In(g.Location()), g.EffectiveCaps())
	if !resume.Before(d.Deadline) {
		return qunyun.ReasonExpired, time.Time{}
	}
	return qunyun.ReasonQuietHours, resume
}

// accountMissing handles an open task whose account is not in the accounts
// directory: a configuration error, since the task can be neither read nor
// withdrawn. Each poll (every ten minutes) counts it (TaskAccountMissing)
// and logs it, in case the directory is fixed in time; at expiry the task
// ends unknown, keeping its caps (the owner may have posted it or still
// may), and the announcement alerts the group's moderators.
func (s *Service) accountMissing(ctx context.Context, it *qunyun.DeliveryRecord, expiring, poll bool, out *Outcome) error {
	if !expiring && !poll {
		return nil // not its minute: quiet hours or a reminder brought it here
	}
	s.Metrics.Emit(metrics.Metric{Name: "TaskAccountMissing", Value: 1})
	if !expiring {
		return fmt.Errorf("follow task %s: account %q is not in the accounts directory; the task cannot be followed or withdrawn", it.ID, it.AccountID)
	}
	s.log().Error("task's account is not in the accounts directory at its expiry; ending it unknown, the owner may still post it",
		"delivery", it.ID, "group", it.GroupID, "account", it.AccountID)
	return s.markUnknown(ctx, it, ReasonAccountMissing, out)
}

// followEdge is the latest time task d stays open, whatever TaskExpiry
// says: sweepMargin before the sweep stops reading it (it reads d's UTC day,
// qunyun.DeliveryDate, and the one after). withdrawDeadline (withdraw.go)
// stops retrying a failing withdrawal at the same edge, so the task ends
// there, expired or unknown, rather than open and unfollowed for ever. The
// edge is at least 23 h 50 min after d's slot: the default TaskExpiry
// (24 h, counted from the send) is cut short only for tasks sent in the
// last ten minutes of their slot's UTC day or later (a send resumed past
// midnight).
func followEdge(d qunyun.Delivery) time.Time {
	day, err := time.Parse(time.DateOnly, qunyun.DeliveryDate(d))
	if err != nil {
		return d.At // cannot happen for a stored delivery; end it at once
	}
	return day.AddDate(0, 0, 2).Add(-sweepMargin)
}

// taskState maps get_groupmsg_send_result to a final state ("" while the
// owner has not acted).
func taskState(results []wechatapi.TaskResult) qunyun.DeliveryState {
	sawFail := false
	for _, r := range results {
		switch r.Status {
		case wechatapi.TaskSent:
			return qunyun.DeliverySent
		case wechatapi.TaskNotFriend, wechatapi.TaskAlreadyReceived:
			sawFail = true
		}
	}
	if sawFail {
		return qunyun.DeliveryNotSent
	}
	return ""
}
