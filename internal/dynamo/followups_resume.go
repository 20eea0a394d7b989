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

// FollowupNotes returns the notes of date (UTC), in key order.
func (f Followups) FollowupNotes(ctx context.Context, date string) ([]qunyun.FollowupNote, error) {
	notes, err := QueryInto[stuckNote](ctx, f.Table, Query{PK: "FOLLOWUP#" + date})
	if err != nil {
		return nil, fmt.Errorf("unfinished work of %s: %w", date, err)
	}
	out := make([]qunyun.FollowupNote, len(notes))
	for i, n := range notes {
		out[i] = qunyun.FollowupNote{Date: date, Record: n.RecordPK + " " + n.RecordSK, NotedAt: notedAt(n.ExpiresAt), Version: n.ExpiresAt}
	}
	return out, nil
}

func followupNoteKey(n qunyun.FollowupNote) Item {
	return Key("FOLLOWUP#"+n.Date, n.Record)
}

// ClaimFollowupNote takes n for one resumer at now: it rewrites the note's
// time (and so its version) if nobody changed it since it was read. false:
// another resumer claimed it, or the work failed again meanwhile; either way
// it is not this caller's to do now.
func (f Followups) ClaimFollowupNote(ctx context.Context, n *qunyun.FollowupNote, now time.Time) (bool, error) {
	claimed := TTL(now, followupNoteTTL)
	if claimed == n.Version {
		claimed++ // a claim must change the version, even within the second
	}
	_, err := f.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(f.Table.Name),
		Key:                       followupNoteKey(*n),
		UpdateExpression:          aws.String("SET expiresAt = :new"),
		ConditionExpression:       aws.String("expiresAt = :old"),
		ExpressionAttributeValues: Item{":new": epoch(claimed), ":old": epoch(n.Version)},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Unavailable("claim the note of "+n.Record, err)
	}
	n.Version, n.NotedAt = claimed, notedAt(claimed)
	return true, nil
}

// ClearFollowupNote deletes n, unless it changed since it was read or
// claimed (a newer failure noted again: that note stays for a later run).
func (f Followups) ClearFollowupNote(ctx context.Context, n qunyun.FollowupNote) error {
	_, err := f.Table.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(f.Table.Name),
		Key:                       followupNoteKey(n),
		ConditionExpression:       aws.String("expiresAt = :v"),
		ExpressionAttributeValues: Item{":v": epoch(n.Version)},
	})
	if err != nil && !IsConditionFailed(err) {
		return Unavailable("clear the note of "+n.Record, err)
	}
	return nil
}

// FollowupRecord reads the record n names. pending is false when its work
// is done (a retry finished it) or the record no longer exists.
func (f Followups) FollowupRecord(ctx context.Context, n qunyun.FollowupNote) (r qunyun.StuckRecord, pending bool, err error) {
	pk, sk, _ := strings.Cut(n.Record, " ")
	res, err := f.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.Table.Name),
		Key: Key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return r, false, Unavailable("read "+sk, err)
	}
	if res.Item == nil {
		return r, false, nil
	}
	var k Keys
	if err := Unmarshal(res.Item, &k); err != nil {
		return r, false, err
	}
	if err := Unmarshal(res.Item, &r.Followup); err != nil {
		return r, false, err
	}
	if !r.Pending() {
		return r, false, nil
	}
	switch {
	case strings.HasPrefix(k.SK, "MSG#"):
		r.Message = new(qunyun.Message)
		err = Unmarshal(res.Item, r.Message)
	case strings.HasPrefix(k.SK, "EVT#"):
		r.Event = new(qunyun.GroupEvent)
		err = Unmarshal(res.Item, r.Event)
		r.Event.Type = k.Type
	default:
		// Only messages and group events list work; anything else is not
		// ours to finish.
		return r, false, nil
	}
	return r, err == nil, err
}

// notedAt is when a note's work last failed (or it was claimed), to the
// second: its expiry less followupNoteTTL.
func notedAt(expiresAt int64) time.Time {
	return time.Unix(expiresAt, 0).Add(-followupNoteTTL).UTC()
}

func epoch(sec int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(sec, 10)}
}
