package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Tracked links (LINK#<code> / #META, the qunyun.Link fields) are written by
// push and read by the callback's /r/{code}; opens are written by the
// callback into the group-day log (OPEN#...) and read here for reading heat.

type linkItem struct {
	Keys
	qunyun.Link
}

// PutLink writes a tracked link once; writing the same code again is a no-op
// (codes are derived from the delivery and URL, so a retry rewrites the same).
func (t *Table) PutLink(ctx context.Context, l qunyun.Link) error {
	if _, err := t.PutNew(ctx, linkItem{Keys{PK: "LINK#" + l.Code, SK: meta, Type: "Link"}, l}); err != nil {
		return fmt.Errorf("put link %s: %w", l.Code, err)
	}
	return nil
}

// Link reads a tracked link.
func (t *Table) Link(ctx context.Context, code string) (qunyun.Link, bool, error) {
	var it linkItem
	found, err := t.Get(ctx, "LINK#"+code, meta, &it)
	if err != nil {
		return qunyun.Link{}, false, fmt.Errorf("get link %s: %w", code, err)
	}
	return it.Link, found, nil
}

// GroupOpens lists the link opens in a group's log for a UTC date.
func (t *Table) GroupOpens(ctx context.Context, groupID, date string) ([]qunyun.LinkOpen, error) {
	return QueryInto[qunyun.LinkOpen](ctx, t, Query{PK: "GROUP#" + groupID + "#D#" + date, SKPrefix: "OPEN#"})
}

// ContentOpens lists the opens of a content item on UTC dates from..to
// (inclusive, YYYY-MM-DD), across groups.
func (t *Table) ContentOpens(ctx context.Context, contentID, from, to string) ([]qunyun.LinkOpen, error) {
	return QueryInto[qunyun.LinkOpen](ctx, t, Query{Index: GSI1, PK: "CONTENT#" + contentID + "#OPENS", SKFrom: from, SKTo: to + "#\uffff"})
}

// ContentHeat sums a content item's opens over from..to.
func (t *Table) ContentHeat(ctx context.Context, contentID, from, to string) (qunyun.Heat, error) {
	opens, err := t.ContentOpens(ctx, contentID, from, to)
	return HeatOf(opens), err
}

// GroupHeat sums a group's opens over the UTC dates from..to.
func (t *Table) GroupHeat(ctx context.Context, groupID string, from, to time.Time) (qunyun.Heat, error) {
	var all []qunyun.LinkOpen
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to.UTC()); d = d.AddDate(0, 0, 1) {
		opens, err := t.GroupOpens(ctx, groupID, d.Format(time.DateOnly))
		if err != nil {
			return qunyun.Heat{}, err
		}
		all = append(all, opens...)
	}
	return HeatOf(all), nil
}

// HeatOf counts opens, distinct openers and shares (opens with WeChat's
// share signal). An open names only its link's recipient: a group link's
// opens are anonymous, and a 1:1 link opened from a share was opened by
// someone the recipient shared it with, so each of those counts as one
// reader; a recipient opening their own link counts once.
func HeatOf(opens []qunyun.LinkOpen) qunyun.Heat {
	var h qunyun.Heat
	seen := map[string]bool{}
	for _, o := range opens {
		h.Opens++
		switch {
		case o.From != "":
			h.Shares++
			h.Readers++
		case o.MemberID == "":
			h.Readers++
		case !seen[o.MemberID]:
			seen[o.MemberID] = true
			h.Readers++
		}
	}
	return h
}

// SharedBy is the share map of some opens: the members whose own 1:1 link
// was opened from a share, with how many such opens each brought, most
// first. Group links name no member, so their shares are counted (Heat)
// but credited to no one.
func SharedBy(opens []qunyun.LinkOpen) []qunyun.Sharer {
	count := map[string]int{}
	for _, o := range opens {
		if o.From != "" && o.MemberID != "" {
			count[o.MemberID]++
		}
	}
	out := make([]qunyun.Sharer, 0, len(count))
	for m, n := range count {
		out = append(out, qunyun.Sharer{MemberID: m, Opens: n})
	}
	slices.SortFunc(out, func(a, b qunyun.Sharer) int {
		return cmp.Or(cmp.Compare(b.Opens, a.Opens), cmp.Compare(a.MemberID, b.MemberID))
	})
	return out
}
