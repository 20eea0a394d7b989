package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Contest entries and votes (docs/data-model.md):
//
//	CONTEST#<id>   ENTRY#<commentId, 20 digits>   qunyun.ContestEntry (scoring)
//	CONTEST#<id>   VOTE#<openid>                  qunyun.ContestVote (one per member: a conditional put)
//
// and the OA 1:1 log the votes and follows are read from (written by the
// callback), one Query per UTC date.

type contestEntryItem struct {
	Keys
	qunyun.ContestEntry
}

type contestVoteItem struct {
	Keys
	qunyun.ContestVote
}

func contestEntrySK(commentID int64) string { return fmt.Sprintf("ENTRY#%020d", commentID) }

// PutContestEntry stores an entry (an idempotent overwrite).
func (sc Scores) PutContestEntry(ctx context.Context, e qunyun.ContestEntry) error {
	k := Keys{PK: "CONTEST#" + e.ContestID, SK: contestEntrySK(e.CommentID), Type: "ContestEntry"}
	if err := sc.Table.Put(ctx, contestEntryItem{k, e}); err != nil {
		return fmt.Errorf("put entry %d of contest %s: %w", e.CommentID, e.ContestID, err)
	}
	return nil
}

// ContestEntries lists a contest's entries by comment id.
func (sc Scores) ContestEntries(ctx context.Context, contestID string) ([]qunyun.ContestEntry, error) {
	out, err := QueryInto[qunyun.ContestEntry](ctx, sc.Table, Query{PK: "CONTEST#" + contestID, SKPrefix: "ENTRY#"})
	if err != nil {
		return nil, fmt.Errorf("list entries of contest %s: %w", contestID, err)
	}
	return out, nil
}

// RecordContestVote stores a member's vote unless they already voted in
// this contest: created is false for a second vote (or a retry).
func (sc Scores) RecordContestVote(ctx context.Context, v qunyun.ContestVote) (bool, error) {
	k := Keys{PK: "CONTEST#" + v.ContestID, SK: "VOTE#" + v.MemberID, Type: "ContestVote"}
	created, err := sc.Table.PutNew(ctx, contestVoteItem{k, v})
	if err != nil {
		return false, fmt.Errorf("record vote of %s in contest %s: %w", v.MemberID, v.ContestID, err)
	}
	return created, nil
}

// ContestVotes lists a contest's votes.
func (sc Scores) ContestVotes(ctx context.Context, contestID string) ([]qunyun.ContestVote, error) {
	out, err := QueryInto[qunyun.ContestVote](ctx, sc.Table, Query{PK: "CONTEST#" + contestID, SKPrefix: "VOTE#"})
	if err != nil {
		return nil, fmt.Errorf("list votes of contest %s: %w", contestID, err)
	}
	return out, nil
}

// AccountLog reads an account's OA 1:1 messages and events with times in
// [from, to), one Query per UTC date.
func (l Log) AccountLog(ctx context.Context, accountID string, from, to time.Time) ([]qunyun.Message, []qunyun.AccountEvent, error) {
	var msgs []qunyun.Message
	var evts []qunyun.AccountEvent
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		pk := AccountLogPK(accountID, day)
		items, err := l.Table.QueryItems(ctx, Query{PK: pk})
		if err != nil {
			return nil, nil, fmt.Errorf("read log %s: %w", pk, err)
		}
		for _, it := range items {
			sk, _ := it["SK"].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			switch {
			case strings.HasPrefix(sk.Value, "MSG#"):
				var m qunyun.Message
				if err := Unmarshal(it, &m); err != nil {
					return nil, nil, fmt.Errorf("read %s %s: %w", pk, sk.Value, err)
				}
				if in(m.At) {
					msgs = append(msgs, m)
				}
			case strings.HasPrefix(sk.Value, "EVT#"):
				var e qunyun.AccountEvent
				if err := Unmarshal(it, &e); err != nil {
					return nil, nil, fmt.Errorf("read %s %s: %w", pk, sk.Value, err)
				}
				if typ, ok := it["type"].(*types.AttributeValueMemberS); ok {
					e.Type = typ.Value
				}
				if in(e.At) {
					evts = append(evts, e)
				}
			}
		}
	}
	return msgs, evts, nil
}
