package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Resuming noted work (callback.Service.Resume, run by the callback's
// schedule). A FOLLOWUP note (NoteStuckFollowup) is rewritten on every
// failure of its record's work, so its expiresAt tells when the work last
// failed, and serves as the note's version:
//
//   - FollowupNotes lists a date's notes with that time;
//   - ClaimFollowupNote rewrites a note's time to now, only if it is still
//     as read: of two resumers (overlapping schedule runs) one gets it, and
//     a failure noted meanwhile makes the claim fail too;
//   - FollowupRecord reads the record, with its work if still to do;
//   - ClearFollowupNote deletes the note once the record's work is done,
//     only if it is still as claimed, so later runs no longer read it.

// followupNoteTTL is how long a note is kept; NoteStuckFollowup writes
// expiresAt = the failure's time + followupNoteTTL.
const followupNoteTTL = 14 * 24 * time.Hour

// FollowupNote is one note of unfinished work after a callback record.
type FollowupNote struct {
	Date   string // the UTC date it is noted under
	Record Keys   // the record's PK and SK

	expiresAt int64 // as read or claimed: the note's version
}

// NotedAt is when the work last failed (or the note was claimed), to the
// second: the note's expiry less followupNoteTTL.
func (n FollowupNote) NotedAt() time.Time {
	return time.Unix(n.expiresAt, 0).Add(-followupNoteTTL).UTC()
}

// FollowupNotes returns the notes of date (UTC), in key order.
func (t *Table) FollowupNotes(ctx context.Context, date string) ([]FollowupNote, error) {
	notes, err := QueryInto[stuckNote](ctx, t, Query{PK: "FOLLOWUP#" + date})
	if err != nil {
		return nil, fmt.Errorf("unfinished work of %s: %w", date, err)
	}
	out := make([]FollowupNote, len(notes))
	for i, n := range notes {
		out[i] = FollowupNote{Date: date, Record: Keys{PK: n.RecordPK, SK: n.RecordSK}, expiresAt: n.ExpiresAt}
	}
	return out, nil
}

func followupNoteKey(n FollowupNote) Item {
	return Key("FOLLOWUP#"+n.Date, n.Record.PK+" "+n.Record.SK)
}

// ClaimFollowupNote takes n for one resumer at now: it rewrites the note's
// time (and so its version) if nobody changed it since it was read. false:
// another resumer claimed it, or the work failed again meanwhile; either way
// it is not this caller's to do now.
func (t *Table) ClaimFollowupNote(ctx context.Context, n *FollowupNote, now time.Time) (bool, error) {
	claimed := TTL(now, followupNoteTTL)
	if claimed == n.expiresAt {
		claimed++ // a claim must change the version, even within the second
	}
	_, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(t.Name),
		Key:                       followupNoteKey(*n),
		UpdateExpression:          aws.String("SET expiresAt = :new"),
		ConditionExpression:       aws.String("expiresAt = :old"),
		ExpressionAttributeValues: Item{":new": epoch(claimed), ":old": epoch(n.expiresAt)},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Unavailable("claim the note of "+n.Record.SK, err)
	}
	n.expiresAt = claimed
	return true, nil
}

// ClearFollowupNote deletes n, unless it changed since it was read or
// claimed (a newer failure noted again: that note stays for a later run).
func (t *Table) ClearFollowupNote(ctx context.Context, n FollowupNote) error {
	_, err := t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(t.Name),
		Key:                       followupNoteKey(n),
		ConditionExpression:       aws.String("expiresAt = :v"),
		ExpressionAttributeValues: Item{":v": epoch(n.expiresAt)},
	})
	if err != nil && !IsConditionFailed(err) {
		return Unavailable("clear the note of "+n.Record.SK, err)
	}
	return nil
}

// FollowupRecord reads the record n names. pending is false when its work
// is done (a retry finished it) or the record no longer exists.
func (t *Table) FollowupRecord(ctx context.Context, n FollowupNote) (r StuckRecord, pending bool, err error) {
	res, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name),
		Key: Key(n.Record.PK, n.Record.SK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return r, false, Unavailable("read "+n.Record.SK, err)
	}
	if res.Item == nil {
		return r, false, nil
	}
	if err := Unmarshal(res.Item, &r.Keys); err != nil {
		return r, false, err
	}
	if err := Unmarshal(res.Item, &r.Followup); err != nil {
		return r, false, err
	}
	if !r.Pending() {
		return r, false, nil
	}
	switch {
	case strings.HasPrefix(r.SK, "MSG#"):
		r.Message = new(qunyun.Message)
		err = Unmarshal(res.Item, r.Message)
	case strings.HasPrefix(r.SK, "EVT#"):
		r.Event = new(qunyun.GroupEvent)
		err = Unmarshal(res.Item, r.Event)
		r.Event.Type = r.Type
	default:
		// Only messages and group events list work; anything else is not
		// ours to finish.
		return r, false, nil
	}
	return r, err == nil, err
}

func epoch(sec int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(sec, 10)}
}
