package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// The log store and what the callback writes next to it (docs/data-model.md,
// rows written by "callback"):
//
//	GROUP#<gid>#D#<date>     MSG#<ms>#<key>     a group message (qunyun.Message, type Message)
//	GROUP#<gid>#D#<date>     EVT#<ms>#<key>     a membership/group event (qunyun.GroupEvent)
//	GROUP#<gid>#D#<date>     OPEN#<ms>#<req>    a tracked-link open (qunyun.LinkOpen + ua)
//	GROUP#<gid>#D#<date>     CHECKIN#<mid>#<local date>  a counted check-in
//	ACCOUNT#<acct>#D#<date>  MSG#… / EVT#…      OA 1:1 messages and events, GSI1PK PERSONLOG#<acct>#<openid>
//	GROUP#<gid>              STREAK#<mid>       qunyun.CheckinStreak + msg (the message that counted last), days, since, v
//	SESSION#<sid>            Q#<ms>#<key>       qunyun.Question (captured here, answered by session)
//	PERSON#<openid>          #PROFILE           account, subscribedAt (only forward)
//	GROUP#<gid>              #META              memberCount, added to by joins and leaves (membership.go)
//	BOTMSG#<acct>            ID#<msgid>         the time a smart-bot message was first seen (TTL 2 days)
//	RELAYID#<acct>#<id>      #ID                a relay id's first delivery: group, event, at (no TTL)
//	FOLLOWUP#<date>          <PK> <SK>          a record whose work after it failed (TTL 14 days)
//
// <date> is the UTC date of the event's own time and <ms> its 13-digit Unix
// milliseconds, so a retry computes the same key and the conditional put
// turns it into a no-op: the log item is the idempotency record. The work a
// record implies, and its done marker, are the Followups store (followups.go).

// LogDate is the UTC date used in log partition keys.
func LogDate(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Millis is a time as 13-digit zero-padded Unix milliseconds (sorts as a string).
func Millis(t time.Time) string { return fmt.Sprintf("%013d", t.UnixMilli()) }

// GroupLogPK is the partition of a group's log for the UTC date of t.
func GroupLogPK(groupID string, t time.Time) string {
	return "GROUP#" + groupID + "#D#" + LogDate(t)
}

// AccountLogPK is the partition of an account's 1:1 log for the UTC date of t.
func AccountLogPK(accountID string, t time.Time) string {
	return "ACCOUNT#" + accountID + "#D#" + LogDate(t)
}

// personLogPK indexes a person's 1:1 items (GSI1) so unsubscribe finds them.
func personLogPK(accountID, memberID string) string {
	return "PERSONLOG#" + accountID + "#" + memberID
}

type loggedMessage struct {
	Keys
	qunyun.Message
}

// MessageKeys returns where a message lives: the group-day log for group
// messages, the account-day log (indexed by person) for 1:1 messages.
func MessageKeys(m qunyun.Message) Keys {
	sk := "MSG#" + Millis(m.At) + "#" + m.ID
	if m.GroupID != "" {
		return Keys{PK: GroupLogPK(m.GroupID, m.At), SK: sk, Type: "Message"}
	}
	return Keys{PK: AccountLogPK(m.AccountID, m.At), SK: sk, Type: "Message",
		GSI1PK: personLogPK(m.AccountID, m.MemberID), GSI1SK: Millis(m.At)}
}

type loggedGroupEvent struct {
	Keys
	qunyun.GroupEvent
}

type loggedAccountEvent struct {
	Keys
	qunyun.AccountEvent
}

type streakItem struct {
	Keys
	qunyun.CheckinStreak
	// Message is the id of the message that counted the last check-in, so
	// a retry of that message knows it was the one counted.
	Message string `dynamodbav:"msg,omitempty"`
	// Days maps each counted local date of the last lateDays days (before
	// the latest) to the message that counted it, complete from Since on: a late
	// check-in counts only when its day is not there, and a retry of one
	// that counted finds its message.
	Days    map[string]string `dynamodbav:"days,omitempty"`
	Since   string            `dynamodbav:"since,omitempty"`
	Version int               `dynamodbav:"v"`
}

// lateDays is how many days back a check-in that arrives late (a callback
// finished by Resume after the member's next check-in) still counts.
const lateDays = 14

// CheckIn counts one check-in of memberID in groupID on the local date today
// (yesterday is the local date before it). The streak grows when the last
// check-in was yesterday and restarts otherwise; a check-in for a day before
// the last one counted (it arrived late) adds to the total only, the streak
// going forward only. A day counts once: a retry or a second check-in the
// same day counts nothing. counted reports whether message msgID is the one
// that counted its day: true for it and its retries, false for any other.
//
// It reads the member's streak and writes it back conditional on its
// version, again on a conflict; the message ids it keeps per day make a
// write whose answer was lost safe to redo.
func (l Log) CheckIn(ctx context.Context, groupID, memberID, msgID, today, yesterday string) (s qunyun.CheckinStreak, counted bool, err error) {
	for attempt := 0; attempt < 20; attempt++ {
		var it streakItem
		if _, err := l.Table.Get(ctx, "GROUP#"+groupID, "STREAK#"+memberID, &it); err != nil {
			return s, false, fmt.Errorf("read streak of %s: %w", memberID, err)
		}
		next, counts, decided := it.checkIn(msgID, today, yesterday)
		if !counts {
			return it.CheckinStreak, decided, nil
		}
		next.Keys = Keys{PK: "GROUP#" + groupID, SK: "STREAK#" + memberID, Type: "CheckinStreak"}
		item, err := Marshal(next)
		if err != nil {
			return s, false, err
		}
		// Version 0: no item yet, or one written before versions.
		in := &dynamodb.PutItemInput{
			TableName: aws.String(l.Table.Name), Item: item,
			ConditionExpression:      aws.String("attribute_not_exists(#v)"),
			ExpressionAttributeNames: map[string]string{"#v": "v"},
		}
		if it.Version > 0 {
			in.ConditionExpression = aws.String("#v = :v")
			in.ExpressionAttributeValues = Item{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(it.Version)}}
		}
		_, err = l.Table.DB.PutItem(ctx, in)
		if err == nil {
			return next.CheckinStreak, true, nil
		}
		if !IsConditionFailed(err) {
			return s, false, Unavailable("check in "+memberID, err)
		}
		// Another check-in of this member won the race, or this very write
		// applied and its answer was lost: read again and decide again.
	}
	return s, false, Unavailable("check in "+memberID, fmt.Errorf("streak changed under 20 attempts in a row"))
}

// checkIn decides one check-in against the stored streak: counts says the
// streak must be written as next; otherwise counted says whether msgID is
// the message that counted today already.
func (it streakItem) checkIn(msgID, today, yesterday string) (next streakItem, counts, counted bool) {
	if msg, ok := it.Days[today]; ok {
		return it, false, msgID != "" && msg == msgID
	}
	if today == it.Last {
		return it, false, msgID != "" && it.Message == msgID
	}
	late := it.Last != "" && today < it.Last
	if late && (it.Since == "" || today < it.Since || today < addDays(it.Last, -lateDays)) {
		return it, false, false // too late to tell whether that day counted
	}
	next = it
	next.Days = map[string]string{}
	newest := max(it.Last, today)
	for d, m := range it.Days {
		if d >= addDays(newest, -lateDays) {
			next.Days[d] = m
		}
	}
	if next.Since == "" {
		// Days is complete from here on: from the start for a member's
		// first check-in, else from the last day (a streak written before
		// Days existed knows only that one).
		next.Since = "0001-01-01"
		if it.Last != "" {
			next.Since = it.Last
		}
	}
	next.Total++
	next.Version++
	if late {
		next.Days[today] = msgID
		return next, true, true
	}
	if it.Last != "" {
		next.Days[it.Last] = it.Message
	}
	if it.Last == yesterday {
		next.Streak++
	} else {
		next.Streak = 1
	}
	next.Last, next.Message = today, msgID
	return next, true, true
}

// addDays moves a YYYY-MM-DD date by n days ("" stays "").
func addDays(date string, n int) string {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ""
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

type checkinItem struct {
	Keys
	Group  string    `dynamodbav:"group"`
	Member string    `dynamodbav:"member"`
	Date   string    `dynamodbav:"date"` // local date
	Streak int       `dynamodbav:"streak"`
	At     time.Time `dynamodbav:"at"`
}

// RecordCheckin logs a counted check-in in the group-day log, for scoring.
// It is an idempotent overwrite: a retry writes the same item.
func (l Log) RecordCheckin(ctx context.Context, groupID, memberID, localDate string, streak int, at time.Time) error {
	k := Keys{PK: GroupLogPK(groupID, at), SK: "CHECKIN#" + memberID + "#" + localDate, Type: "Checkin"}
	if err := l.Table.Put(ctx, checkinItem{k, groupID, memberID, localDate, streak, at}); err != nil {
		return fmt.Errorf("record check-in of %s: %w", memberID, err)
	}
	return nil
}

// NoteSubscribed notes when a person subscribed to an OA (subscribedAt of
// PERSON#<openid> / #PROFILE, with the account). It only moves forward:
// callbacks arrive out of order (a retried older event after a newer one).
// The time is stored in a fixed-width UTC form so it compares as a string.
// (The customer-service window comes from the person's 1:1 log, see
// LastMessageSince: a 1:1 message costs no write but its record.)
func (l Log) NoteSubscribed(ctx context.Context, accountID, memberID string, at time.Time) error {
	_, err := l.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(l.Table.Name),
		Key:                      Key("PERSON#"+memberID, "#PROFILE"),
		UpdateExpression:         aws.String("SET #type = :type, #acct = :acct, #at = :at"),
		ConditionExpression:      aws.String("attribute_not_exists(#at) OR #at < :at"),
		ExpressionAttributeNames: map[string]string{"#type": "type", "#acct": "account", "#at": "subscribedAt"},
		ExpressionAttributeValues: Item{
			":type": &types.AttributeValueMemberS{Value: "Person"},
			":acct": &types.AttributeValueMemberS{Value: accountID},
			":at":   &types.AttributeValueMemberS{Value: SortableTime(at)},
		},
	})
	if IsConditionFailed(err) {
		return nil // a newer time is already there
	}
	if err != nil {
		return Unavailable("note subscription", err)
	}
	return nil
}

// SortableTime formats t in UTC with a fixed-width millisecond fraction, so
// two such strings compare like the times (RFC 3339, readable as time.Time).
func SortableTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// DeletePersonData removes what Qunyun keeps about an OA user who
// unsubscribed: the PERSON#<openid> profile and every 1:1 log item found
// through the person index. It returns how many items it deleted.
func (l Log) DeletePersonData(ctx context.Context, accountID, memberID string) (int, error) {
	items, err := l.Table.QueryItems(ctx, Query{Index: GSI1, PK: personLogPK(accountID, memberID)})
	if err != nil {
		return 0, fmt.Errorf("find personal data: %w", err)
	}
	n := 0
	for _, it := range items {
		pk, _ := it["PK"].(*types.AttributeValueMemberS)
		sk, _ := it["SK"].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			continue
		}
		if err := l.Table.Delete(ctx, pk.Value, sk.Value); err != nil {
			return n, fmt.Errorf("delete personal data: %w", err)
		}
		n++
	}
	if err := l.Table.Delete(ctx, "PERSON#"+memberID, "#PROFILE"); err != nil {
		return n, fmt.Errorf("delete profile: %w", err)
	}
	return n + 1, nil
}

type botAnchor struct {
	Keys
	At int64 `dynamodbav:"at"` // Unix milliseconds
}

// AnchorBotMessage returns the time under which a smart-bot message is
// recorded. The bot's JSON carries no time of its own, so the first delivery
// fixes it (now) and retries read it back: they then compute the same log
// key. It costs a second write, paid only by @bot messages.
func (l Log) AnchorBotMessage(ctx context.Context, accountID, msgID string, now time.Time) (time.Time, error) {
	k := Keys{PK: "BOTMSG#" + accountID, SK: "ID#" + msgID, Type: "BotAnchor", ExpiresAt: TTL(now, 48*time.Hour)}
	created, err := l.Table.PutNew(ctx, botAnchor{k, now.UnixMilli()})
	if err != nil {
		return time.Time{}, fmt.Errorf("anchor bot message %s: %w", msgID, err)
	}
	if created {
		return time.UnixMilli(now.UnixMilli()).UTC(), nil
	}
	var it botAnchor
	found, err := l.Table.Get(ctx, k.PK, k.SK, &it)
	if err != nil {
		return time.Time{}, fmt.Errorf("read bot anchor %s: %w", msgID, err)
	}
	if !found {
		return time.Time{}, qunyun.Errorf(qunyun.EUNAVAILABLE, "bot anchor %s vanished", strconv.Quote(msgID))
	}
	return time.UnixMilli(it.At).UTC(), nil
}

type relayClaimItem struct {
	Keys
	qunyun.RelayClaim
}

// ClaimRelayID returns the claim of relay id under the account: c when
// this is the id's first delivery, else what the first delivery claimed.
//
// The log key of a relay event comes from its group and time, which the
// bridge's body says; two bodies with one id and another time or group
// would be two records. The claim is keyed by account and id alone, so the
// id is recorded once whatever else a later body says. It costs a second
// write per relay event; it has no TTL because the protocol promises once
// per id, not once per day.
func (l Log) ClaimRelayID(ctx context.Context, accountID, id string, c qunyun.RelayClaim) (qunyun.RelayClaim, error) {
	c.At = c.At.UTC()
	k := Keys{PK: "RELAYID#" + accountID + "#" + id, SK: "#ID", Type: "RelayClaim"}
	created, stored, err := l.Table.putNew(ctx, relayClaimItem{k, c}, true)
	if err != nil {
		return qunyun.RelayClaim{}, fmt.Errorf("claim relay id %s: %w", id, err)
	}
	if created {
		return c, nil
	}
	var first relayClaimItem
	if err := Unmarshal(stored, &first); err != nil {
		return qunyun.RelayClaim{}, fmt.Errorf("read relay claim %s: %w", id, err)
	}
	return first.RelayClaim, nil
}
