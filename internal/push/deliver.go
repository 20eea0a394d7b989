package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// DeliveryID is deterministic in source, slot and target, so every
// invocation that expands the same slot claims the same item.
func DeliveryID(source, slot string, kind qunyun.TargetKind, target string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + slot + "\x00" + string(kind) + "\x00" + target))
	return hex.EncodeToString(sum[:12])
}

// Outcome counts what happened to the deliveries of one invocation.
type Outcome struct {
	Claimed  int            `json:"claimed"`
	Raced    int            `json:"raced"` // already claimed by someone else
	Sent     int            `json:"sent"`
	Tasks    int            `json:"tasks"` // task_created
	Skipped  map[string]int `json:"skipped,omitempty"`
	Failed   int            `json:"failed"`
	Deferred int            `json:"deferred"` // not sent, to be retried`
	Unknown  int            `json:"unknown"`
	Resolved int            `json:"resolved"` // tasks confirmed, expired, ...
	mu       sync.Mutex
}

func (o *Outcome) add(f func(o *Outcome)) {
	o.mu.Lock()
	f(o)
	o.mu.Unlock()
}

// emit reports an invocation's outcome as metrics; the emitter leaves out
// zero counts, so an idle tick writes nothing (internal/metrics).
func (s *Service) emit(o *Outcome) {
	skipped := 0
	for _, n := range o.Skipped {
		skipped += n
	}
	s.Metrics.Emit(
		metrics.Metric{Name: "DeliveriesSent", Value: float64(o.Sent)},
		metrics.Metric{Name: "TasksCreated", Value: float64(o.Tasks)},
		metrics.Metric{Name: "DeliveriesSkipped", Value: float64(skipped)},
		metrics.Metric{Name: "DeliveriesFailed", Value: float64(o.Failed)},
		metrics.Metric{Name: "DeliveriesDeferred", Value: float64(o.Deferred)},
	)
}

// job is one delivery to run, with what it needs to render.
type job struct {
	item   qunyun.DeliveryRecord
	member MemberVars
}

// runJobs claims and runs deliveries with a few workers.
func (s *Service) runJobs(ctx context.Context, cat *catalog, jobs []job, out *Outcome) error {
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		errs  []error
	)
	ch := make(chan job)
	for range min(s.workers(), max(1, len(jobs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := s.claimAndRun(ctx, cat, j, out); err != nil {
					errMu.Lock()
					errs = append(errs, err)
					errMu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	return errors.Join(errs...)
}

// errCrashed stops an invocation the way a dead process would (tests).
var errCrashed = errors.New("simulated crash between send and confirm")

func (s *Service) claimAndRun(ctx context.Context, cat *catalog, j job, out *Outcome) error {
	g, err := cat.group(ctx, j.item.GroupID)
	if err != nil {
		return err
	}
	s.prepare(&j.item.Delivery, g)
	claimed, stored, err := s.Store.Deliveries.ClaimDelivery(ctx, j.item)
	if err != nil {
		return err
	}
	if !claimed {
		out.add(func(o *Outcome) { o.Raced++ })
		return s.resolveStale(ctx, cat, stored, out)
	}
	out.add(func(o *Outcome) { o.Claimed++ })
	if s.now().Before(stored.DeferredUntil) {
		// Due later (a burst's summary, when its window closes): the
		// sweep runs it then, like a delivery quiet hours deferred.
		s.heldClaim(stored.Delivery)
		out.add(func(o *Outcome) { o.Deferred++ })
		return nil
	}
	return s.run(ctx, cat, &stored, j.member, out)
}

// resolveStale looks at a delivery someone else claimed: if the claim is
// old, its process died. Died after the send started → unknown (never
// re-sent); died before → run it now, nothing went out. A delivery that
// quiet hours deferred waits here, claimed, until its DeferredUntil.
func (s *Service) resolveStale(ctx context.Context, cat *catalog, it qunyun.DeliveryRecord, out *Outcome) error {
	if it.State.Final() {
		// A retry of what finished it (EventBridge's, a re-expanded
		// minute): publish what its first run may have failed to.
		return s.announce(ctx, &it)
	}
	if it.State != qunyun.DeliveryClaimed {
		return nil
	}
	now := s.now()
	if !it.SendStartedAt.IsZero() {
		if now.Sub(it.SendStartedAt) < s.staleAfter() {
			return nil
		}
		if s.deduplicates(ctx, cat, it) {
			return s.resendLater(ctx, &it, out)
		}
		return s.markUnknown(ctx, &it, qunyun.ReasonCrashed, out)
	}
	if now.Sub(it.UpdatedAt) < s.staleAfter() || now.Before(it.DeferredUntil) {
		return nil
	}
	// A deferred delivery is due again from DeferredUntil, not its slot.
	if now.Sub(later(it.At, it.DeferredUntil)) > s.retryWindow() {
		reason := it.Reason
		if reason == "" {
			reason = qunyun.ReasonUnavailable
		}
		return s.finish(ctx, &it, qunyun.DeliveryFailed, reason, out)
	}
	return s.run(ctx, cat, &it, MemberVars{ID: it.TargetID}, out)
}

// run takes a claimed delivery through policies, send and confirm.
func (s *Service) run(ctx context.Context, cat *catalog, it *qunyun.DeliveryRecord, member MemberVars, out *Outcome) error {
	d := it.Delivery
	group, err := cat.group(ctx, d.GroupID)
	if err != nil {
		return err
	}
	acct, ch, to, reason, err := s.route(ctx, cat, d, group)
	if err != nil {
		return err
	}
	if reason == "" {
		reason, err = s.checkPolicies(ctx, it, group, acct, ch == s.Channels.CustomerGroups)
		if err != nil {
			return err
		}
	}
	if reason != "" {
		return s.skip(ctx, it, reason, out)
	}
	if it.Inline == nil && d.ContentID == moderationSummary {
		// Written now, from the batch as its window closed.
		text, err := s.summaryText(ctx, group, it)
		if err != nil {
			return errors.Join(err, s.releaseCaps(ctx, it.ID, it.Caps))
		}
		if text == "" {
			return s.finish(ctx, it, qunyun.DeliverySkipped, qunyun.ReasonSingleHit, out)
		}
		it.Inline = &qunyun.Content{ID: moderationSummary, Kind: qunyun.ContentText, Text: text}
	}
	content, reason, err := s.contentOf(ctx, cat, *it)
	if err != nil {
		// The caps reserved above are not recorded on the item yet: give
		// them back, or the resumed delivery finds its own reservation.
		return errors.Join(err, s.releaseCaps(ctx, it.ID, it.Caps))
	}
	if reason != "" {
		return s.finish(ctx, it, qunyun.DeliveryFailed, reason, out)
	}
	// A member's contribution is in the catalog but is their text: never a
	// template, its links never ours (DESIGN.md §5 Trust).
	operator := it.Inline == nil && content.Contribution == nil
	msg, err := s.render(ctx, d, *content, operator, s.templateData(d, group, member, it.Data))
	if err != nil {
		if qunyun.ErrorCode(err) == qunyun.EUNAVAILABLE {
			return errors.Join(err, s.releaseCaps(ctx, it.ID, it.Caps))
		}
		s.log().Warn("content template failed", "delivery", d.ID, "content", content.ID, "err", err)
		return s.finish(ctx, it, qunyun.DeliveryFailed, qunyun.ReasonTemplate, out)
	}

	// The mark is written before the call: if we die after it, the next
	// invocation knows the message may be out and will not send it again.
	// A mark whose answer was lost is still ours (UpdateDelivery reads it
	// back), and we send: the API was not called yet, so it is not unknown.
	changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) { d.SendStartedAt = s.now() })
	if err != nil || !changed {
		// Not sending (someone else moved it on, or the table failed): the
		// counters reserved above are not ours to keep.
		return errors.Join(err, s.releaseCaps(ctx, it.ID, it.Caps))
	}
	to.DeliveryID = d.ID
	taskID, sendErr := ch.Send(ctx, *acct, to, msg)
	if s.crashAfterSend != nil && s.crashAfterSend(d) {
		return errCrashed
	}
	switch {
	case sendErr == nil && taskID != "":
		_, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) {
			d.State, d.TaskID, d.Sender = qunyun.DeliveryTaskCreated, taskID, to.Sender
		})
		if err == nil {
			out.add(func(o *Outcome) { o.Tasks++ })
		}
		return err
	case sendErr == nil:
		return s.finish(ctx, it, qunyun.DeliverySent, "", out)
	case wechatapi.SkipReason(sendErr) != "":
		return s.finish(ctx, it, qunyun.DeliverySkipped, wechatapi.SkipReason(sendErr), out)
	case wechatapi.Throttled(sendErr) || wechatapi.NotSent(sendErr):
		// Certainly not out: release it for a later invocation.
		s.log().Warn("send deferred", "delivery", d.ID, "err", sendErr)
		return s.retryLater(ctx, it, retryReason(sendErr), out)
	case wechatapi.Resendable(sendErr):
		// Maybe out, but the bridge posts each delivery id at most once:
		// the same post under the same id cannot appear twice.
		s.log().Warn("bridge did not answer; posting again later under the same id", "delivery", d.ID, "err", sendErr)
		return s.resendLater(ctx, it, out)
	case wechatapi.IsAPIError(sendErr) || qunyun.ErrorCode(sendErr) == qunyun.EINVALID:
		// WeChat answered with an errcode, or we never sent: nothing is out.
		s.log().Warn("send refused", "delivery", d.ID, "err", sendErr)
		return s.finish(ctx, it, qunyun.DeliveryFailed, qunyun.ReasonRejected, out)
	default:
		// No answer: the message may or may not be out. At most once wins.
		s.log().Error("send outcome unknown", "delivery", d.ID, "err", sendErr)
		return s.markUnknown(ctx, it, qunyun.ReasonCrashed, out)
	}
}

func retryReason(err error) string {
	if wechatapi.Throttled(err) {
		return qunyun.ReasonRateLimit
	}
	return qunyun.ReasonUnavailable
}

// retryLater undoes the send-started mark of a delivery that certainly did
// not go out and gives its caps back; the sweep resumes it once the claim is
// stale, within RetryWindow of its slot, and fails it with reason after that.
func (s *Service) retryLater(ctx context.Context, it *qunyun.DeliveryRecord, reason string, out *Outcome) error {
	caps := it.Caps
	changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) {
		d.SendStartedAt, d.Caps, d.Reason = time.Time{}, nil, reason
	})
	if err != nil || !changed {
		return err
	}
	s.reclaimed(it.Delivery)
	out.add(func(o *Outcome) { o.Deferred++ })
	return s.releaseCaps(ctx, it.ID, caps)
}

// resendBackoff is the wait before posting again after the n-th post (n ≥ 1)
// that got no answer: 1, 2, 4, 8, 16 minutes, then every 30.
func resendBackoff(n int) time.Duration {
	if n > 5 {
		return 30 * time.Minute
	}
	return time.Minute << (n - 1)
}

// resendLater schedules another post of a delivery whose channel dropped
// the answer but deduplicates by delivery id (deduplicates): claimed
// again, deferred by resendBackoff, its caps given back until that run
// reserves them anew. Once the next post would come at or after its
// deadline, it fails unavailable: the bridge stayed down.
func (s *Service) resendLater(ctx context.Context, it *qunyun.DeliveryRecord, out *Outcome) error {
	next := s.now().Add(resendBackoff(it.Resends + 1))
	deadline := it.Deadline
	if deadline.IsZero() {
		deadline = it.At.Add(s.retryWindow())
	}
	if !next.Before(deadline) {
		return s.finish(ctx, it, qunyun.DeliveryFailed, qunyun.ReasonUnavailable, out)
	}
	caps := it.Caps
	changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) {
		d.SendStartedAt, d.Caps, d.Reason, d.DeferredUntil = time.Time{}, nil, qunyun.ReasonUnavailable, next
		d.Resends++
	})
	if err != nil || !changed {
		return err
	}
	s.reclaimed(it.Delivery)
	out.add(func(o *Outcome) { o.Deferred++ })
	return s.releaseCaps(ctx, it.ID, caps)
}

// deduplicates reports whether the channel of delivery it posts each
// delivery id at most once (a relay bridge, by its protocol), so a post
// whose outcome is unknown may be made again instead of left unknown.
func (s *Service) deduplicates(ctx context.Context, cat *catalog, it qunyun.DeliveryRecord) bool {
	a, err := cat.account(ctx, it.AccountID)
	return err == nil && a != nil && a.Kind == qunyun.ChannelRelay
}

func (s *Service) contentOf(ctx context.Context, cat *catalog, it qunyun.DeliveryRecord) (*qunyun.Content, string, error) {
	if it.Inline != nil {
		c := *it.Inline
		if c.ID == "" {
			c.ID = it.ContentID
		}
		return &c, "", nil
	}
	c, err := cat.content(ctx, it.ContentID)
	if err != nil {
		return nil, "", err
	}
	if c == nil {
		return nil, qunyun.ReasonNoContent, nil
	}
	return c, "", nil
}

func (s *Service) templateData(d qunyun.Delivery, g *qunyun.Group, m MemberVars, data map[string]string) TemplateData {
	td := TemplateData{Member: m}
	loc := qunyun.LoadLocation("")
	if g != nil {
		td.Group = GroupVars{ID: g.ID, Name: g.Name, Purpose: g.Purpose, Tags: g.Tags}
		loc = g.Location()
	}
	td.Date = d.At.In(loc).Format(time.DateOnly)
	if td.Member.Name == "" && data != nil {
		td.Member.Name = data["memberName"]
	}
	// Names are what members and owners chose, and the request's data came
	// from outside too: a link in them is quoted, never made clickable by
	// us nor tracked (render tracks every link left in the text).
	td.Member.Name = moderation.Defang(td.Member.Name)
	td.Group.Name = moderation.Defang(td.Group.Name)
	if data != nil {
		td.Data = make(map[string]string, len(data))
		for k, v := range data {
			td.Data[k] = moderation.Defang(v)
		}
	}
	return td
}

// finish moves a claimed delivery to a final state, gives back the caps it
// reserved unless it went out, and announces it. The same write marks the
// announcement pending, so a publish lost to a failure or a crash is made
// later (announce.go) rather than never.
func (s *Service) finish(ctx context.Context, it *qunyun.DeliveryRecord, state qunyun.DeliveryState, reason string, out *Outcome) error {
	caps := it.Caps
	// Sent or maybe sent: the counters stay taken.
	giveBack := state != qunyun.DeliverySent && state != qunyun.DeliveryUnknown
	changed, err := s.Store.Deliveries.UpdateDelivery(ctx, it, func(d *qunyun.Delivery) {
		d.State, d.Reason = state, reason
		d.AnnouncePending = s.Bus != nil
		if giveBack {
			d.Caps = nil
		}
	})
	if err != nil || !changed {
		// Before the send the caps are only in memory (they are recorded
		// with the send-started mark): nobody else will give them back.
		if giveBack && it.SendStartedAt.IsZero() {
			return errors.Join(err, s.releaseCaps(ctx, it.ID, caps))
		}
		return err
	}
	if giveBack {
		if err := s.releaseCaps(ctx, it.ID, caps); err != nil {
			return err
		}
	}
	if state == qunyun.DeliveryUnknown {
		s.Metrics.Emit(metrics.Metric{Name: "DeliveryUnknown", Value: 1})
		s.log().Error("delivery outcome unknown; not re-sending", "delivery", it.ID, "group", it.GroupID, "source", it.Source, "reason", reason)
	}
	out.add(func(o *Outcome) {
		switch state {
		case qunyun.DeliverySent:
			o.Sent++
		case qunyun.DeliverySkipped:
			if o.Skipped == nil {
				o.Skipped = map[string]int{}
			}
			o.Skipped[reason]++
		case qunyun.DeliveryUnknown:
			o.Unknown++
		case qunyun.DeliveryNotSent, qunyun.DeliveryExpired:
			o.Resolved++
		default:
			o.Failed++
		}
	})
	return s.announce(ctx, it)
}

// releaseCaps gives back the caps holder (a delivery's id) reserved.
func (s *Service) releaseCaps(ctx context.Context, holder string, caps []string) error {
	for _, c := range caps {
		if cc, ok := qunyun.ParseCapCounter(c); ok {
			if err := s.Store.Deliveries.ReleaseCap(ctx, cc, holder); err != nil {
				return err
			}
		}
	}
	return nil
}

// markUnknown records that a send may or may not have happened: the metric
// DeliveryUnknown (an alarm watches it), and with the announcement an urgent
// alert to the group's moderators. The delivery is never sent again.
func (s *Service) markUnknown(ctx context.Context, it *qunyun.DeliveryRecord, reason string, out *Outcome) error {
	return s.finish(ctx, it, qunyun.DeliveryUnknown, reason, out)
}

// Sources of deliveries push creates itself.
const (
	SourceAlert      = "alert"      // alerts about push itself (unknown deliveries)
	SourceModeration = "moderation" // ModerationHit → moderators
)

// moderators returns the staff to alert for a group (qunyun.AlertTargets:
// its moderators and owners by role, else the group owner).
func (s *Service) moderators(ctx context.Context, g *qunyun.Group) ([]string, error) {
	if g == nil {
		return nil, nil
	}
	members, err := s.Store.Catalog.Members(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	return qunyun.AlertTargets(*g, members), nil
}
