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
func (k Links) PutLink(ctx context.Context, l qunyun.Link) error {
	if _, err := k.Table.PutNew(ctx, linkItem{Keys{PK: "LINK#" + l.Code, SK: meta, Type: "Link"}, l}); err != nil {
		return fmt.Errorf("put link %s: %w", l.Code, err)
	}
	return nil
}

// Link reads a tracked link.
func (k Links) Link(ctx context.Context, code string) (qunyun.Link, bool, error) {
	var it linkItem
	found, err := k.Table.Get(ctx, "LINK#"+code, meta, &it)
	if err != nil {
		return qunyun.Link{}, false, fmt.Errorf("get link %s: %w", code, err)
	}
	return it.Link, found, nil
}

// GroupOpens lists the link opens in a group's log for a UTC date.
func (k Links) GroupOpens(ctx context.Context, groupID, date string) ([]qunyun.LinkOpen, error) {
	return QueryInto[qunyun.LinkOpen](ctx, k.Table, Query{PK: "GROUP#" + groupID + "#D#" + date, SKPrefix: "OPEN#"})
}

// ContentOpens lists the opens of a content item on UTC dates from..to
// (inclusive, YYYY-MM-DD), across groups.
func (k Links) ContentOpens(ctx context.Context, contentID, from, to string) ([]qunyun.LinkOpen, error) {
	return QueryInto[qunyun.LinkOpen](ctx, k.Table, Query{Index: GSI1, PK: "CONTENT#" + contentID + "#OPENS", SKFrom: from, SKTo: to + "#\uffff"})
}

// ContentHeat sums a content item's opens over from..to.
func (k Links) ContentHeat(ctx context.Context, contentID, from, to string) (qunyun.Heat, error) {
	opens, err := k.ContentOpens(ctx, contentID, from, to)
	return HeatOf(opens), err
}

// GroupHeat sums a group's opens over the UTC dates from..to.
func (k Links) GroupHeat(ctx context.Context, groupID string, from, to time.Time) (qunyun.Heat, error) {
	var all []qunyun.LinkOpen
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(to.UTC()); d = d.AddDate(0, 0, 1) {
		opens, err := k.GroupOpens(ctx, groupID, d.Format(time.DateOnly))
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

type openItem struct {
	Keys
	qunyun.LinkOpen
	AccountID string `dynamodbav:"account,omitempty"`
	Source    string `dynamodbav:"source,omitempty"`
	Code      string `dynamodbav:"code"`
	UA        string `dynamodbav:"ua,omitempty"`
}

// RecordLinkOpen logs one open of a tracked link under the link's group (or
// its account for a 1:1 link), indexed by content for reading heat.
func (ks Links) RecordLinkOpen(ctx context.Context, l qunyun.Link, o qunyun.LinkOpen, requestID, ua string) error {
	k := Keys{SK: "OPEN#" + Millis(o.At) + "#" + requestID, Type: "Open"}
	if l.GroupID != "" {
		k.PK = GroupLogPK(l.GroupID, o.At)
	} else {
		k.PK = AccountLogPK(l.AccountID, o.At)
	}
	if l.ContentID != "" {
		k.GSI1PK, k.GSI1SK = "CONTENT#"+l.ContentID+"#OPENS", LogDate(o.At)+"#"+l.GroupID
	}
	if _, err := ks.Table.PutNew(ctx, openItem{Keys: k, LinkOpen: o, AccountID: l.AccountID, Source: l.Source, Code: l.Code, UA: ua}); err != nil {
		return fmt.Errorf("record open of %s: %w", l.Code, err)
	}
	return nil
}
