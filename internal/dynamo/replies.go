package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Replies reads the passive replies the callback kept with the group
// messages it answered at once (the smart bot's keyword and check-in
// replies): the `reply` of a group-day log's MSG# item (callback.go,
// callback_followup.go). It only reads.
//
// It is a store type of its own rather than more methods on Table
// (STYLE.md: one small store per area).
type Replies struct{ Table *Table }

// Answered is a message and the reply it got.
type Answered struct {
	Message qunyun.Message
	Reply   string
}

// InGroup lists the group's answered messages whose time is in [from, to),
// oldest first: one Query per UTC date the span touches.
func (r Replies) InGroup(ctx context.Context, groupID string, from, to time.Time) ([]Answered, error) {
	var out []Answered
	for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		pk := GroupLogPK(groupID, day)
		items, err := r.Table.QueryItems(ctx, Query{PK: pk, SKPrefix: "MSG#"})
		if err != nil {
			return nil, fmt.Errorf("read replies %s: %w", pk, err)
		}
		for _, it := range items {
			reply, _ := it["reply"].(*types.AttributeValueMemberS)
			if reply == nil || reply.Value == "" {
				continue
			}
			var m qunyun.Message
			if err := Unmarshal(it, &m); err != nil {
				return nil, fmt.Errorf("read replies %s: %w", pk, err)
			}
			if !m.At.Before(from) && m.At.Before(to) {
				out = append(out, Answered{Message: m, Reply: reply.Value})
			}
		}
	}
	return out, nil
}
