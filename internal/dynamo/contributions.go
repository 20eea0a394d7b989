package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Contributions is the store of content members submit from WeChat: drafts
// in the content library (CONTENT#<cid>, with a contribution) that staff
// approve or reject, and, for each approval, an entry in the group-day log
// scoring credits the contributor with.
//
// Keys (docs/data-model.md):
//
//	CONTENT#<cid>               #META                  the content, contribution.state draft/approved/rejected
//	GROUP#<gid>#D#<UTC date>    CONTRIB#<ms>#<cid>     an approved contribution (qunyun.Contributed)
type Contributions struct{ Table *Table }

type contributedItem struct {
	Keys
	qunyun.Contributed
}

// Submit writes a draft once: its id comes from the submitting message, so
// a retry of that message finds it written (created=false) and writes
// nothing.
func (s Contributions) Submit(ctx context.Context, c qunyun.Content) (created bool, err error) {
	k := contentEntity.keys(c)
	k.Type = contentEntity.typ
	created, err = s.Table.PutNew(ctx, struct {
		Keys
		qunyun.Content
		Version int64 `dynamodbav:"version"`
	}{k, c, 1})
	if err != nil {
		return false, fmt.Errorf("submit content %s: %w", c.ID, err)
	}
	return created, nil
}

// Drafts lists the contributions waiting for review, oldest first.
func (s Contributions) Drafts(ctx context.Context) ([]qunyun.Content, error) {
	all, err := Catalog{Table: s.Table}.Contents(ctx)
	if err != nil {
		return nil, err
	}
	var out []qunyun.Content
	for _, c := range all {
		if c.Contribution != nil && c.Contribution.State == qunyun.ContentDraft {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b qunyun.Content) int {
		return a.Contribution.SubmittedAt.Compare(b.Contribution.SubmittedAt)
	})
	return out, nil
}

// Review approves or rejects a draft with who, when and (for a rejection)
// why. Only a draft can be reviewed (ECONFLICT otherwise, ENOTFOUND for no
// such content), so two staff cannot both decide. An approval is then
// logged in the contributor's group for scoring: an overwrite keyed by the
// content, so running it again logs nothing twice.
func (s Contributions) Review(ctx context.Context, id string, approve bool, by string, at time.Time, reason string) (qunyun.Content, error) {
	c, err := contentEntity.update(ctx, s.Table, "CONTENT#"+id, meta, func(c *qunyun.Content, found bool) error {
		switch {
		case !found || c.Contribution == nil:
			return qunyun.Errorf(qunyun.ENOTFOUND, "no contribution %s", id)
		case c.Contribution.State != qunyun.ContentDraft:
			return qunyun.Errorf(qunyun.ECONFLICT, "contribution %s is %s already (by %s)", id, c.Contribution.State, c.Contribution.ReviewedBy)
		}
		c.Contribution.State = qunyun.ContentRejected
		if approve {
			c.Contribution.State = qunyun.ContentApproved
		}
		c.Contribution.ReviewedBy, c.Contribution.ReviewedAt, c.Contribution.Reason = by, at.UTC(), reason
		return nil
	})
	if err != nil || !approve || c.Contribution.GroupID == "" {
		return c, err
	}
	return c, s.logApproval(ctx, c)
}

func (s Contributions) logApproval(ctx context.Context, c qunyun.Content) error {
	at := c.Contribution.ReviewedAt
	it := contributedItem{
		Keys:        Keys{PK: GroupLogPK(c.Contribution.GroupID, at), SK: "CONTRIB#" + fmt.Sprintf("%013d", at.UnixMilli()) + "#" + c.ID, Type: "Contributed"},
		Contributed: qunyun.Contributed{GroupID: c.Contribution.GroupID, MemberID: c.Contribution.MemberID, ContentID: c.ID, At: at},
	}
	if err := s.Table.Put(ctx, it); err != nil {
		return fmt.Errorf("log contribution %s: %w", c.ID, err)
	}
	return nil
}
