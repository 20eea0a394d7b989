package push

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// When a burst's alert window closes, its moderators get one summary: the
// hits per signal, the members involved and what was decided on the
// window's case codes so far. It is claimed with the window's first alert,
// one delivery per moderator keyed by group and window, and held
// (DeferredUntil) until the window closes; the sweep then runs it like a
// delivery quiet hours deferred, and writes its text from the batch as it
// stands. So it is one summary however many hits came, and one however
// many pushes run the sweep: the claim's state machine sends it at most
// once. A window with a single hit gets none (skipped, ReasonSingleHit):
// its alert said everything.

// moderationSummary is the content id of a burst's summary.
const moderationSummary = "moderation-summary"

// summaryWindow is the Data key of the window (RFC 3339) a summary is about.
const summaryWindow = "window"

// summaryJobs are the window's summaries, due when it closes.
func (s *Service) summaryJobs(g *qunyun.Group, acct string, window time.Time, staff []string, at time.Time) []job {
	closes := window.Add(s.alertWindow())
	slot := g.ID + "@" + window.Format(time.RFC3339) + "#summary"
	jobs := make([]job, 0, len(staff))
	for _, id := range staff {
		d := qunyun.Delivery{
			ID: DeliveryID(SourceModeration, slot, qunyun.TargetStaff, id), Source: SourceModeration, Slot: slot,
			TargetKind: qunyun.TargetStaff, TargetID: id, GroupID: g.ID, AccountID: acct,
			ContentID: moderationSummary, At: at, Urgent: true,
			DeferredUntil: closes, Deadline: closes.Add(s.retryWindow()),
		}
		jobs = append(jobs, job{item: qunyun.DeliveryRecord{Delivery: d, Data: map[string]string{summaryWindow: window.Format(time.RFC3339)}}})
	}
	return jobs
}

// summaryCase is one case code as the summary lists it.
type summaryCase struct {
	Code, Member string
	Decisions    string // "小鱼 撤回；阿青 标为误报", empty when none
}

// summaryText writes a window's summary from its batch, "" for a window
// with a single hit (or none stored: it expired, or never counted).
func (s *Service) summaryText(ctx context.Context, g *qunyun.Group, it *qunyun.DeliveryRecord) (string, error) {
	window, err := time.Parse(time.RFC3339, it.Data[summaryWindow])
	if err != nil {
		return "", qunyun.Errorf(qunyun.EINVALID, "moderation summary %s: bad window %q", it.ID, it.Data[summaryWindow])
	}
	b, found, err := s.Store.Moderation.Batch(ctx, it.GroupID, window)
	if err != nil || !found || b.Hits < 2 {
		return "", err
	}
	members, err := s.Store.Catalog.Members(ctx, it.GroupID)
	if err != nil {
		return "", err
	}
	names := map[string]string{b.First.MemberID: b.First.MemberName, b.Latest.MemberID: b.Latest.MemberName}
	for _, m := range members {
		if m.Name != "" {
			names[m.ID] = m.Name
			if m.WeComUserID != "" {
				names[m.WeComUserID] = m.Name
			}
		}
	}
	name := func(id string) string { return moderation.Defang(orString(names[id], id)) }
	var senders []string
	known := 0
	for _, id := range slices.Sorted(slices.Values(b.Members)) { // a set: in no order
		if id == "-" { // a hit whose sender the channel did not name
			continue
		}
		if known++; len(senders) < 5 {
			senders = append(senders, name(id))
		}
	}
	var cases []summaryCase
	for _, hit := range []string{b.AlertHit, b.FollowUpHit} {
		if hit == "" {
			continue
		}
		c, found, err := s.Store.Moderation.Case(ctx, moderation.CaseCode(hit))
		if err != nil {
			return "", err
		}
		if !found {
			continue
		}
		sc := summaryCase{Code: c.Code, Member: name(c.MemberID)}
		for i, d := range c.Decisions {
			if i > 0 {
				sc.Decisions += "；"
			}
			sc.Decisions += name(d.By) + " " + s.actionName(d.Action)
		}
		cases = append(cases, sc)
	}
	loc := qunyun.LoadLocation("")
	if g != nil {
		loc = g.Location()
	}
	groupName := it.GroupID
	if g != nil {
		groupName = orString(g.Name, g.ID)
	}
	return s.text("moderation_summary", map[string]any{
		"Group": GroupVars{ID: it.GroupID, Name: moderation.Defang(groupName)},
		"From":  window.In(loc).Format("15:04"), "To": window.Add(s.alertWindow()).In(loc).Format("15:04"),
		"Hits": b.Hits, "Counts": s.signalCounts(b.Signals), "Members": known,
		"Names": strings.Join(senders, "、"), "More": known > len(senders), "Cases": cases,
	})
}

// actionName names a moderator's decision (texts.yaml actions).
func (s *Service) actionName(a qunyun.ModerationAction) string {
	if s.loadTexts() != nil {
		return string(a)
	}
	return orString(s.actions[string(a)], fmt.Sprint(a))
}
