package push

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Moderation alerts are batched per group and alert window: a burst of
// thirty messages used to send twenty-two alerts, which moderators learn to
// ignore. The window's first hit alerts at once (level 1); EscalateAfter
// hits later one follow-up gives the total, the signals counted and the
// senders (level 2); the rest of the window is only counted. Each level is
// one delivery per moderator, keyed by group, window and level, so the
// at-most-once claim makes it one alert however many hits and redeliveries
// arrive. Counting happens here, not in the callback, whose budget is one
// write per message. The window's end brings one summary
// (moderation_summary.go).

// moderationHit is the part of a ModerationHit detail push reads.
type moderationHit struct {
	ID         string         `json:"id"`
	GroupID    string         `json:"group"`
	AccountID  string         `json:"account"`
	Channel    qunyun.Channel `json:"channel"`
	MemberID   string         `json:"member"`
	MemberName string         `json:"memberName"`
	Text       string         `json:"text"`
	Signals    []string       `json:"signals"`
	Words      []string       `json:"words"`
	Domains    []string       `json:"domains"`
}

func (s *Service) alertWindow() time.Duration { return orDuration(s.AlertWindow, 10*time.Minute) }

func (s *Service) escalateAfter() int {
	switch {
	case s.EscalateAfter < 0:
		return 0
	case s.EscalateAfter == 0:
		return 10
	}
	return s.EscalateAfter
}

// moderationJobs counts a hit in its group's batch and returns the alerts
// it raises, one per moderator (urgent: quiet hours do not hold back an
// alert). Everything that can refuse the hit is checked before the count.
func (s *Service) moderationJobs(ctx context.Context, cat *catalog, h moderationHit, at time.Time) ([]job, error) {
	g, err := cat.group(ctx, h.GroupID)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, qunyun.Errorf(qunyun.EINVALID, "ModerationHit %s: unknown group %s", h.ID, h.GroupID)
	}
	staff, err := s.moderators(ctx, g)
	if err != nil {
		return nil, err
	}
	if len(staff) == 0 {
		s.log().Warn("moderation hit but nobody to alert", "group", g.ID, "hit", h.ID)
		return nil, nil
	}
	// The window is the hit's own time, so a redelivery counts in the
	// same batch however late it comes.
	window := at.UTC().Truncate(s.alertWindow())
	sample := qunyun.ModerationSample{HitID: h.ID, MemberID: h.MemberID, MemberName: h.MemberName, Signals: h.Signals, Text: h.Text}
	store := s.Store.Moderation
	batch, levels, err := store.AddHit(ctx, g.ID, window, sample, s.escalateAfter())
	if err != nil {
		return nil, err
	}
	var jobs []job
	acct := orString(h.AccountID, g.AccountID)
	for _, lvl := range levels {
		code := moderation.CaseCode(h.ID)
		if err := store.OpenCase(ctx, qunyun.ModerationCase{
			Code: code, HitID: h.ID, AccountID: acct, Channel: h.Channel, GroupID: g.ID, MemberID: h.MemberID,
			Signals: h.Signals, Words: h.Words, Domains: h.Domains, Text: h.Text, At: at,
		}); err != nil {
			return nil, err
		}
		text, err := s.alertText(g, h, batch, lvl, code)
		if err != nil {
			return nil, err
		}
		slot := g.ID + "@" + window.Format(time.RFC3339) + "#" + strconv.Itoa(lvl)
		for _, id := range staff {
			d := qunyun.Delivery{
				ID: DeliveryID(SourceModeration, slot, qunyun.TargetStaff, id), Source: SourceModeration, Slot: slot,
				TargetKind: qunyun.TargetStaff, TargetID: id, GroupID: g.ID, AccountID: acct,
				ContentID: "moderation-alert", At: at, Urgent: true,
			}
			jobs = append(jobs, job{item: qunyun.DeliveryRecord{Delivery: d, Inline: &qunyun.Content{ID: "moderation-alert", Kind: qunyun.ContentText, Text: text}}})
		}
		if lvl == 1 {
			jobs = append(jobs, s.summaryJobs(g, acct, window, staff, at)...)
		}
	}
	return jobs, nil
}

// alertText renders level 1 (the hit) or level 2 (the batch so far). The
// alert quotes what members wrote and the names members and owners chose:
// as data of our template, with their links broken so the moderator sees
// the domain and cannot tap it (nor is it tracked).
func (s *Service) alertText(g *qunyun.Group, h moderationHit, b qunyun.ModerationBatch, level int, code string) (string, error) {
	vars := map[string]any{
		"Group":   GroupVars{ID: g.ID, Name: moderation.Defang(orString(g.Name, g.ID))},
		"Member":  MemberVars{ID: h.MemberID, Name: moderation.Defang(orString(h.MemberName, h.MemberID))},
		"Signals": s.signalNames(h.Signals), "Text": moderation.Defang(h.Text), "Code": code,
		"Minutes": int(s.alertWindow() / time.Minute),
	}
	if level == 1 {
		return s.text("moderation_alert", vars)
	}
	vars["Hits"], vars["Members"], vars["Counts"] = b.Hits, len(b.Members), s.signalCounts(b.Signals)
	return s.text("moderation_followup", vars)
}

// signalCounts names each signal with its count, most frequent first:
// "刷屏 ×20、链接 ×2".
func (s *Service) signalCounts(counts map[string]int) string {
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s ×%d", s.signalNames([]string{c}), counts[c])
	}
	return strings.Join(parts, "、")
}
