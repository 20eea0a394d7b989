package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Push store: deliveries, cap counters and the tick cursor.
//
// A delivery to a group lives in the group-day log (PK GROUP#<gid>#D#<UTC
// date of its slot>, SK DLV#<id>); a delivery to a person (1:1 or staff)
// lives in the same shape under TARGET#<kind>#<target>#D#<date>. Both carry
// GSI1 PLAN#<source>#D#<date> / <gid or kind:target> and GSI2
// DLV#D#<date> / <state>#<gid or kind:target>, so per plan, per group, per
// day and per state are Queries. Attributes: the qunyun.Delivery fields,
// "version" (optimistic concurrency: every transition is a conditional put
// on it) and "inline" (the content of a request that carried it).

// deliveryItem is a delivery record with its keys.
type deliveryItem struct {
	Keys
	qunyun.DeliveryRecord
}

// records drops the keys.
func records(items []deliveryItem, err error) ([]qunyun.DeliveryRecord, error) {
	out := make([]qunyun.DeliveryRecord, len(items))
	for i, it := range items {
		out[i] = it.DeliveryRecord
	}
	return out, err
}

// DeliveryDate is the UTC date that keys a delivery: the date of its slot.
func DeliveryDate(d qunyun.Delivery) string { return qunyun.DeliveryDate(d) }

// deliveryTarget is the GSI sort-key part naming the target.
func deliveryTarget(d qunyun.Delivery) string {
	if d.TargetKind == qunyun.TargetGroup {
		return d.GroupID
	}
	return string(d.TargetKind) + ":" + d.TargetID
}

// DeliveryPK is the partition a delivery lives in.
func DeliveryPK(d qunyun.Delivery) string {
	if d.TargetKind == qunyun.TargetGroup {
		return "GROUP#" + d.GroupID + "#D#" + DeliveryDate(d)
	}
	return "TARGET#" + string(d.TargetKind) + "#" + d.TargetID + "#D#" + DeliveryDate(d)
}

func deliveryKeys(d qunyun.Delivery) Keys {
	date := DeliveryDate(d)
	return Keys{
		PK:     DeliveryPK(d),
		SK:     "DLV#" + d.ID,
		GSI1PK: "PLAN#" + d.Source + "#D#" + date,
		GSI1SK: deliveryTarget(d),
		GSI2PK: "DLV#D#" + date,
		GSI2SK: deliveryStateKey(d) + deliveryTarget(d),
		Type:   "Delivery",
	}
}

// ClaimDelivery writes a new delivery in state claimed if no delivery has its
// id yet. When one exists it returns claimed=false and the stored item: the
// caller that lost the race does nothing more.
func (d Deliveries) ClaimDelivery(ctx context.Context, it qunyun.DeliveryRecord) (claimed bool, stored qunyun.DeliveryRecord, err error) {
	it.State = qunyun.DeliveryClaimed
	it.UpdatedAt = d.Table.now().UTC()
	it.Version = 1
	created, err := d.Table.PutNew(ctx, deliveryItem{deliveryKeys(it.Delivery), it})
	if err != nil {
		return false, qunyun.DeliveryRecord{}, fmt.Errorf("claim delivery %s: %w", it.ID, err)
	}
	if created {
		return true, it, nil
	}
	stored, found, err := d.GetDelivery(ctx, it.Delivery)
	if err != nil {
		return false, qunyun.DeliveryRecord{}, err
	}
	if !found { // deleted in between: treat as lost race, never send twice
		return false, it, nil
	}
	return false, stored, nil
}

// GetDelivery reads the delivery with d's id, target and slot date.
func (ds Deliveries) GetDelivery(ctx context.Context, d qunyun.Delivery) (qunyun.DeliveryRecord, bool, error) {
	var it deliveryItem
	found, err := ds.Table.Get(ctx, DeliveryPK(d), "DLV#"+d.ID, &it)
	if err != nil {
		return it.DeliveryRecord, false, fmt.Errorf("get delivery %s: %w", d.ID, err)
	}
	return it.DeliveryRecord, found, nil
}

// UpdateDelivery moves a stored delivery on: fn changes a copy, and the write
// succeeds only if nobody else wrote since it was read (version). It returns
// changed=false when someone did; the caller must re-read before deciding.
//
// A write whose answer was lost still counts as changed: like PutNew, each
// write carries a new put id, and when the write fails (with an error, or
// with the condition its own lost first attempt makes the SDK's retry fail)
// the id read back tells our write from someone else's or none. So an error
// means the write is not stored, unless the read-back failed too.
func (ds Deliveries) UpdateDelivery(ctx context.Context, it *qunyun.DeliveryRecord, fn func(d *qunyun.Delivery)) (changed bool, err error) {
	next := *it
	fn(&next.Delivery)
	next.UpdatedAt = ds.Table.now().UTC()
	keys, was := deliveryKeys(next.Delivery), deliveryKeys(it.Delivery)
	if keys.PK != was.PK || keys.SK != was.SK {
		return false, qunyun.Errorf(qunyun.EINVALID, "delivery %s: an update must not move it", it.ID)
	}
	next.Version = it.Version + 1
	item, err := Marshal(deliveryItem{keys, next})
	if err != nil {
		return false, err
	}
	putID := stampPutID(item)
	_, err = ds.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(ds.Table.Name),
		Item:                      item,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: Item{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Version, 10)}},
	})
	if err != nil {
		stored, rerr := ds.Table.readBack(ctx, item, false)
		if rerr != nil {
			return false, Unavailable("update delivery "+it.ID, errors.Join(err, rerr))
		}
		if !ownPut(stored, putID) {
			if IsConditionFailed(err) {
				return false, nil
			}
			return false, Unavailable("update delivery "+it.ID, err)
		}
		// Our own write, whose answer was lost.
	}
	*it = next
	return true, nil
}

// GroupDayDeliveries lists a group's deliveries whose slot falls on the UTC date.
func (d Deliveries) GroupDayDeliveries(ctx context.Context, groupID, date string) ([]qunyun.DeliveryRecord, error) {
	return records(QueryInto[deliveryItem](ctx, d.Table, Query{PK: "GROUP#" + groupID + "#D#" + date, SKPrefix: "DLV#"}))
}

// TargetDeliveries lists the 1:1 or staff deliveries to one person on a date.
func (d Deliveries) TargetDeliveries(ctx context.Context, kind qunyun.TargetKind, id, date string) ([]qunyun.DeliveryRecord, error) {
	return records(QueryInto[deliveryItem](ctx, d.Table, Query{PK: "TARGET#" + string(kind) + "#" + id + "#D#" + date, SKPrefix: "DLV#"}))
}

// PlanDeliveries lists the deliveries of one source (a plan id, "session",
// "moderation", ...) on a date.
func (d Deliveries) PlanDeliveries(ctx context.Context, source, date string) ([]qunyun.DeliveryRecord, error) {
	return records(QueryInto[deliveryItem](ctx, d.Table, Query{Index: GSI1, PK: "PLAN#" + source + "#D#" + date}))
}

// DayDeliveries lists a date's deliveries, only those in state when it is
// not empty. A final state is read under both of its GSI2 prefixes (see
// deliveries_announce.go); claimed and task_created have one.
func (d Deliveries) DayDeliveries(ctx context.Context, date string, state qunyun.DeliveryState) ([]qunyun.DeliveryRecord, error) {
	q := Query{Index: GSI2, PK: "DLV#D#" + date}
	if state != "" {
		q.SKPrefix = string(state) + "#"
	}
	items, err := records(QueryInto[deliveryItem](ctx, d.Table, q))
	if err != nil || !state.Final() {
		return items, err
	}
	q.SKPrefix = unannounced + string(state) + "#"
	more, err := records(QueryInto[deliveryItem](ctx, d.Table, q))
	return append(items, more...), err
}

// Cap counters: one item per counter (docs/data-model.md "Push counters"),
// attribute n. A reservation is one conditional ADD, so concurrent pushes
// can never take a counter past its limit.

// ReserveCap adds one to the counter for holder (a delivery's id) if it is
// below max and reports whether it did. ttl bounds how long the counter is
// kept. The counter remembers its holders, so the SDK's retry of a write
// whose answer was lost does not count the holder twice: a failed
// condition is read back, and a reservation the holder already has counts
// as made.
func (d Deliveries) ReserveCap(ctx context.Context, c qunyun.CapCounter, max int, ttl time.Duration, holder string) (bool, error) {
	_, err := d.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(d.Table.Name),
		Key:                      Key(c.PK, c.SK),
		UpdateExpression:         aws.String("ADD n :one, holders :h SET #type = :type, expiresAt = :exp"),
		ConditionExpression:      aws.String("(attribute_not_exists(n) OR n < :max) AND NOT contains(holders, :id)"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: Item{
			":one":  &types.AttributeValueMemberN{Value: "1"},
			":max":  &types.AttributeValueMemberN{Value: strconv.Itoa(max)},
			":h":    &types.AttributeValueMemberSS{Value: []string{holder}},
			":id":   &types.AttributeValueMemberS{Value: holder},
			":type": &types.AttributeValueMemberS{Value: "Cap"},
			":exp":  &types.AttributeValueMemberN{Value: strconv.FormatInt(TTL(d.Table.now(), ttl), 10)},
		},
	})
	if IsConditionFailed(err) {
		held, err := d.Table.capHeld(ctx, c, holder)
		if err != nil {
			return false, Unavailable("reserve cap "+c.String(), err)
		}
		return held, nil
	}
	if err != nil {
		return false, Unavailable("reserve cap "+c.String(), err)
	}
	return true, nil
}

// ReleaseCap gives holder's reservation back (a reserved send that did not
// go out). Only a holder gives one back, once: a retried release, or one of
// a reservation made before counters remembered their holders, changes
// nothing (the counter stays taken, the safe side of a platform quota).
func (d Deliveries) ReleaseCap(ctx context.Context, c qunyun.CapCounter, holder string) error {
	_, err := d.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(d.Table.Name),
		Key:                 Key(c.PK, c.SK),
		UpdateExpression:    aws.String("ADD n :minus DELETE holders :h"),
		ConditionExpression: aws.String("contains(holders, :id)"),
		ExpressionAttributeValues: Item{
			":minus": &types.AttributeValueMemberN{Value: "-1"},
			":h":     &types.AttributeValueMemberSS{Value: []string{holder}},
			":id":    &types.AttributeValueMemberS{Value: holder},
		},
	})
	if err != nil && !IsConditionFailed(err) {
		return Unavailable("release cap "+c.String(), err)
	}
	return nil
}

// capHeld reads (consistently) whether holder holds a reservation on c.
func (t *Table) capHeld(ctx context.Context, c qunyun.CapCounter, holder string) (bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(t.Name), Key: Key(c.PK, c.SK), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("holders"),
	})
	if err != nil {
		return false, err
	}
	ss, _ := out.Item["holders"].(*types.AttributeValueMemberSS)
	return ss != nil && slices.Contains(ss.Value, holder), nil
}

// CapCount reads a counter (0 when absent).
func (d Deliveries) CapCount(ctx context.Context, c qunyun.CapCounter) (int, error) {
	var v struct {
		N int `dynamodbav:"n"`
	}
	if _, err := d.Table.Get(ctx, c.PK, c.SK, &v); err != nil {
		return 0, fmt.Errorf("read cap %s: %w", c, err)
	}
	return v.N, nil
}

// Tick cursor and run markers (docs/data-model.md "Scheduled-run marker").

// RunDone reports whether a scheduled run was already completed.
func (d Deliveries) RunDone(ctx context.Context, function, kind string, scheduled time.Time) (bool, error) {
	var v struct {
		SK string `dynamodbav:"SK"`
	}
	found, err := d.Table.Get(ctx, "RUN#"+function+"#"+kind, scheduled.UTC().Format(time.RFC3339), &v)
	if err != nil {
		return false, fmt.Errorf("read run marker: %w", err)
	}
	return found, nil
}

// MarkRunDone records a completed scheduled run (kept for ttl).
func (d Deliveries) MarkRunDone(ctx context.Context, function, kind string, scheduled time.Time, ttl time.Duration) error {
	k := Keys{PK: "RUN#" + function + "#" + kind, SK: scheduled.UTC().Format(time.RFC3339), Type: "Run", ExpiresAt: TTL(d.Table.now(), ttl)}
	if _, err := d.Table.PutNew(ctx, k); err != nil {
		return fmt.Errorf("mark run done: %w", err)
	}
	return nil
}

// Cursor reads the last minute a tick fully processed (zero if none).
func (d Deliveries) Cursor(ctx context.Context, function, kind string) (time.Time, error) {
	var v struct {
		At time.Time `dynamodbav:"at"`
	}
	if _, err := d.Table.Get(ctx, "RUN#"+function+"#"+kind, "#CURSOR", &v); err != nil {
		return time.Time{}, fmt.Errorf("read cursor: %w", err)
	}
	return v.At, nil
}

// AdvanceCursor moves the cursor to at, never backwards.
func (d Deliveries) AdvanceCursor(ctx context.Context, function, kind string, at time.Time) error {
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	_, err := d.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(d.Table.Name),
		Key:                      Key("RUN#"+function+"#"+kind, "#CURSOR"),
		UpdateExpression:         aws.String("SET #at = :at, ms = :ms, #type = :type"),
		ConditionExpression:      aws.String("attribute_not_exists(ms) OR ms < :ms"),
		ExpressionAttributeNames: map[string]string{"#at": "at", "#type": "type"},
		ExpressionAttributeValues: Item{
			":at":   &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)},
			":ms":   &types.AttributeValueMemberN{Value: ms},
			":type": &types.AttributeValueMemberS{Value: "Cursor"},
		},
	})
	if err != nil && !IsConditionFailed(err) {
		return Unavailable("advance cursor", err)
	}
	return nil
}

// LastMessageSince returns when a person last wrote to an account 1:1, if
// at or after since (zero otherwise): the start of an OA's 48-hour
// customer-service window. It reads the person's 1:1 log newest first
// through GSI1 (PERSONLOG#<acct>#<openid>), which every 1:1 message of the
// callback is in, so keeping the window costs the callback no write. The
// index is eventually consistent: a message of the last second may not be
// seen yet.
func (l Log) LastMessageSince(ctx context.Context, accountID, memberID string, since time.Time) (time.Time, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(l.Table.Name),
		IndexName:                aws.String(GSI1),
		KeyConditionExpression:   aws.String("GSI1PK = :pk AND GSI1SK >= :from"),
		FilterExpression:         aws.String("#type = :msg"),
		ProjectionExpression:     aws.String("#at"),
		ExpressionAttributeNames: map[string]string{"#type": "type", "#at": "at"},
		ExpressionAttributeValues: Item{
			":pk":   &types.AttributeValueMemberS{Value: personLogPK(accountID, memberID)},
			":from": &types.AttributeValueMemberS{Value: Millis(since)},
			":msg":  &types.AttributeValueMemberS{Value: "Message"},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(20),
	}
	for {
		res, err := l.Table.DB.Query(ctx, in)
		if err != nil {
			return time.Time{}, Unavailable("read last message of "+memberID, err)
		}
		for _, it := range res.Items {
			var m struct {
				At time.Time `dynamodbav:"at"`
			}
			if err := Unmarshal(it, &m); err != nil {
				return time.Time{}, err
			}
			return m.At, nil
		}
		if len(res.LastEvaluatedKey) == 0 {
			return time.Time{}, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
