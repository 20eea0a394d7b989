package dynamo

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Reads for the daily report and the operator's `get`: they span the
// areas' keys (deliveries, opens, contents) but write nothing.

// DeliveriesBetween lists every delivery due in [from, to), whatever its
// target kind or state. Deliveries are keyed by the UTC date they are due
// on, so a local day reads the one or two UTC dates it overlaps.
func (d Deliveries) DeliveriesBetween(ctx context.Context, from, to time.Time) ([]qunyun.Delivery, error) {
	items, err := d.recordsBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]qunyun.Delivery, len(items))
	for i, it := range items {
		out[i] = it.Delivery
	}
	return out, nil
}

// recordsBetween is DeliveriesBetween with the records (inline content).
func (d Deliveries) recordsBetween(ctx context.Context, from, to time.Time) ([]qunyun.DeliveryRecord, error) {
	var out []qunyun.DeliveryRecord
	for _, date := range utcDates(from, to) {
		items, err := d.DayDeliveries(ctx, date, "")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if !it.At.Before(from) && it.At.Before(to) {
				out = append(out, it)
			}
		}
	}
	return out, nil
}

// utcDates lists the UTC dates (YYYY-MM-DD) that [from, to) overlaps.
func utcDates(from, to time.Time) []string {
	var dates []string
	day := from.UTC().Truncate(24 * time.Hour)
	for ; day.Before(to); day = day.AddDate(0, 0, 1) {
		dates = append(dates, day.Format(time.DateOnly))
	}
	return dates
}

// ReadingHeat is how each content item was read in [from, to): the sent
// deliveries that carried it, the opens of its tracked links, both per
// group, and who shared it (SharedBy). An item neither sent nor opened in
// the span is left out; the most opened come first. Opens of content sent
// earlier count where they fall: heat is when members read, not when we
// sent. Only catalog content counts: text another function rendered
// (alerts, session notices, replies) and messages to staff are never
// tracked, so they have no reading to show.
func (k Links) ReadingHeat(ctx context.Context, from, to time.Time) ([]qunyun.ContentHeat, error) {
	dates := utcDates(from, to)
	if len(dates) == 0 {
		return []qunyun.ContentHeat{}, nil
	}
	deliveries, err := Deliveries{Table: k.Table}.recordsBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	contents, err := Catalog{Table: k.Table}.Contents(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := Catalog{Table: k.Table}.Groups(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	titles := map[string]string{}
	for _, c := range contents {
		titles[c.ID] = cmp.Or(c.Title, truncateRunes(c.Text, 20))
	}
	sent := map[string]map[string]int{} // content → group → sent deliveries
	for _, d := range deliveries {
		if d.ContentID == "" || d.State != qunyun.DeliverySent || d.Inline != nil || d.TargetKind == qunyun.TargetStaff {
			continue
		}
		if sent[d.ContentID] == nil {
			sent[d.ContentID] = map[string]int{}
		}
		if _, ok := titles[d.ContentID]; !ok {
			titles[d.ContentID] = "" // deleted since: still shown, by its id
		}
		sent[d.ContentID][d.GroupID]++
	}
	out := []qunyun.ContentHeat{}
	for id, title := range titles {
		all, err := k.ContentOpens(ctx, id, dates[0], dates[len(dates)-1])
		if err != nil {
			return nil, err
		}
		var opens []qunyun.LinkOpen
		byGroup := map[string][]qunyun.LinkOpen{}
		for _, o := range all {
			if !o.At.Before(from) && o.At.Before(to) {
				opens = append(opens, o)
				byGroup[o.GroupID] = append(byGroup[o.GroupID], o)
			}
		}
		if len(opens) == 0 && len(sent[id]) == 0 {
			continue
		}
		h := qunyun.ContentHeat{ContentID: id, Title: title, Heat: HeatOf(opens), SharedBy: SharedBy(opens), Groups: []qunyun.GroupHeat{}}
		for g := range sent[id] {
			if byGroup[g] == nil {
				byGroup[g] = []qunyun.LinkOpen{}
			}
		}
		for g, gopens := range byGroup {
			h.Deliveries += sent[id][g]
			h.Groups = append(h.Groups, qunyun.GroupHeat{GroupID: g, Name: names[g], Deliveries: sent[id][g], Heat: HeatOf(gopens)})
		}
		slices.SortFunc(h.Groups, func(a, b qunyun.GroupHeat) int {
			return cmp.Or(cmp.Compare(b.Heat.Opens, a.Heat.Opens), cmp.Compare(b.Deliveries, a.Deliveries), cmp.Compare(a.GroupID, b.GroupID))
		})
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b qunyun.ContentHeat) int {
		return cmp.Or(cmp.Compare(b.Heat.Opens, a.Heat.Opens), cmp.Compare(b.Deliveries, a.Deliveries), cmp.Compare(a.ContentID, b.ContentID))
	})
	return out, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
