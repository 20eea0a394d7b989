package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Work after a callback's record (docs/protocols.md, "What runs after the
// record"). A callback whose record implies more work (publishing an event,
// capturing a question, counting a check-in, updating a member and its
// group) writes the record with that work listed in "followup". The list is
// removed once the work is done. A retry that finds the record with a list
// does the work again (every step is idempotent) and removes it; a retry
// that finds none is a pure duplicate. An ordinary group message has no
// work after its record, so it carries no list and still costs one write.
//
// Attributes on the log items of docs/data-model.md:
//
//	followup  list of steps still to do (absent: done, or nothing to do)
//	reply     the passive reply the callback answered, answered again on a retry

type followedMessage struct {
	Keys
	qunyun.Message
	qunyun.Followup
}

// RecordMessage writes the message once, with the work after it. When
// the message was recorded before, stored is the message as recorded (its
// moderation signals and session as the first delivery found them) and the
// Recorded says whether that delivery's work is still to do.
func (l Log) RecordMessage(ctx context.Context, m qunyun.Message, f qunyun.Followup) (stored qunyun.Message, rec qunyun.Recorded, err error) {
	var old followedMessage
	created, err := l.Table.recordOnce(ctx, followedMessage{MessageKeys(m), m, f}, &old)
	if err != nil {
		return m, qunyun.Recorded{}, err
	}
	if created {
		return m, qunyun.Recorded{Created: true, Followup: f}, nil
	}
	return old.Message, qunyun.Recorded{Followup: old.Followup}, nil
}

type followedGroupEvent struct {
	Keys
	qunyun.GroupEvent
	qunyun.Followup
}

// GroupEventKeys returns where a membership or group event lives.
func GroupEventKeys(e qunyun.GroupEvent) Keys {
	return Keys{PK: GroupLogPK(e.GroupID, e.At), SK: "EVT#" + Millis(e.At) + "#" + e.ID, Type: e.Type}
}

// RecordGroupEvent writes a membership or group event once, with the
// work after it.
func (l Log) RecordGroupEvent(ctx context.Context, e qunyun.GroupEvent, f qunyun.Followup) (qunyun.Recorded, error) {
	var old followedGroupEvent
	created, err := l.Table.recordOnce(ctx, followedGroupEvent{GroupEventKeys(e), e, f}, &old)
	if err != nil || created {
		return qunyun.Recorded{Created: created, Followup: f}, err
	}
	return qunyun.Recorded{Followup: old.Followup}, nil
}

type followedAccountEvent struct {
	Keys
	qunyun.AccountEvent
	qunyun.Followup
}

// AccountEventKeys returns where an OA 1:1 event lives. An Unsubscribed
// event is kept out of the person index so deleting the person's data keeps it.
func AccountEventKeys(e qunyun.AccountEvent) Keys {
	k := Keys{PK: AccountLogPK(e.AccountID, e.At), SK: "EVT#" + Millis(e.At) + "#" + e.ID, Type: e.Type}
	if e.Type != qunyun.EventUnsubscribed {
		k.GSI1PK, k.GSI1SK = personLogPK(e.AccountID, e.MemberID), Millis(e.At)
	}
	return k
}

// RecordAccountEvent writes an OA 1:1 event once, with its reply.
func (l Log) RecordAccountEvent(ctx context.Context, e qunyun.AccountEvent, f qunyun.Followup) (qunyun.Recorded, error) {
	var old followedAccountEvent
	created, err := l.Table.recordOnce(ctx, followedAccountEvent{AccountEventKeys(e), e, f}, &old)
	if err != nil || created {
		return qunyun.Recorded{Created: created, Followup: f}, err
	}
	return qunyun.Recorded{Followup: old.Followup}, nil
}

// recordOnce is PutNew that also reads back what an existing record says
// (into old), in the one read PutNew makes when its condition fails. That
// read is a full item: its cost is the item's size, projected or not.
func (t *Table) recordOnce(ctx context.Context, v, old any) (created bool, err error) {
	created, stored, err := t.putNew(ctx, v, true)
	if err != nil || created {
		return created, err
	}
	if stored == nil {
		// Deleted between the two calls (unsubscribe deletes 1:1 items):
		// the caller's retry writes it again.
		return false, qunyun.Errorf(qunyun.EUNAVAILABLE, "record vanished while read back")
	}
	return false, Unmarshal(stored, old)
}

// FinishFollowup marks a record's work done and keeps the reply its
// callback answered. A record that no longer exists has nothing to finish.
func (f Followups) FinishFollowup(ctx context.Context, r qunyun.Record, reply string) error {
	k := recordKeys(r)
	in := &dynamodb.UpdateItemInput{
		TableName:                aws.String(f.Table.Name),
		Key:                      Key(k.PK, k.SK),
		UpdateExpression:         aws.String("REMOVE #f"),
		ConditionExpression:      aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames: map[string]string{"#f": "followup"},
	}
	if reply != "" {
		in.UpdateExpression = aws.String("SET #r = :r REMOVE #f")
		in.ExpressionAttributeNames["#r"] = "reply"
		in.ExpressionAttributeValues = Item{":r": &types.AttributeValueMemberS{Value: reply}}
	}
	if _, err := f.Table.DB.UpdateItem(ctx, in); err != nil && !IsConditionFailed(err) {
		return Unavailable("finish work after "+k.SK, err)
	}
	return nil
}

// Work left undone after WeChat's last retry: WeChat re-sends a callback
// about three times, so work that fails on every delivery would stay listed
// on its record with nobody to do it. When the work fails, the callback
// also notes the record under the day it failed (best effort, only on that
// path, so it costs nothing otherwise):
//
//	FOLLOWUP#<UTC date>  <record PK> <record SK>   type StuckFollowup, TTL 14 days
//
// and Resume (FollowupNotes, FollowupRecord) finishes the noted records whose
// work is still to do.

type stuckNote struct {
	Keys
	RecordPK string `dynamodbav:"recordPK"`
	RecordSK string `dynamodbav:"recordSK"`
}

// NoteStuckFollowup notes that the work after record r failed at now.
func (f Followups) NoteStuckFollowup(ctx context.Context, r qunyun.Record, now time.Time) error {
	k := recordKeys(r)
	note := stuckNote{Keys{PK: "FOLLOWUP#" + LogDate(now), SK: k.PK + " " + k.SK, Type: "StuckFollowup",
		ExpiresAt: TTL(now, followupNoteTTL)}, k.PK, k.SK}
	if err := f.Table.Put(ctx, note); err != nil {
		return fmt.Errorf("note unfinished work of %s: %w", k.SK, err)
	}
	return nil
}

// recordKeys are the keys of a record whose work can be pending.
func recordKeys(r qunyun.Record) Keys {
	if r.Message != nil {
		return MessageKeys(*r.Message)
	}
	return GroupEventKeys(*r.Event)
}
