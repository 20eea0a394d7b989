package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// DeliveryItem is a delivery as stored.
type DeliveryItem struct {
	Keys
	qunyun.Delivery
	Version int64           `dynamodbav:"version"`
	Inline  *qunyun.Content `dynamodbav:"inline,omitempty"`
	// Data holds template variables a request carried (e.g. a member name).
	Data map[string]string `dynamodbav:"data,omitempty"`
}

// DeliveryDate is the UTC date that keys a delivery: the date of its slot.
func DeliveryDate(d qunyun.Delivery) string { return d.At.UTC().Format(time.DateOnly) }

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
func (t *Table) ClaimDelivery(ctx context.Context, it DeliveryItem) (claimed bool, stored DeliveryItem, err error) {
	it.State = qunyun.DeliveryClaimed
	it.UpdatedAt = t.now().UTC()
	it.Keys = deliveryKeys(it.Delivery)
	it.Version = 1
	created, err := t.PutNew(ctx, it)
	if err != nil {
		return false, DeliveryItem{}, fmt.Errorf("claim delivery %s: %w", it.ID, err)
	}
	if created {
		return true, it, nil
	}
	stored, found, err := t.GetDelivery(ctx, it.Delivery)
	if err != nil {
		return false, DeliveryItem{}, err
	}
	if !found { // deleted in between: treat as lost race, never send twice
		return false, it, nil
	}
	return false, stored, nil
}

// GetDelivery reads the delivery with d's id, target and slot date.
func (t *Table) GetDelivery(ctx context.Context, d qunyun.Delivery) (DeliveryItem, bool, error) {
	var it DeliveryItem
	found, err := t.Get(ctx, DeliveryPK(d), "DLV#"+d.ID, &it)
	if err != nil {
		return it, false, fmt.Errorf("get delivery %s: %w", d.ID, err)
	}
	return it, found, nil
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
func (t *Table) UpdateDelivery(ctx context.Context, it *DeliveryItem, fn func(d *qunyun.Delivery)) (changed bool, err error) {
	next := *it
	fn(&next.Delivery)
	next.UpdatedAt = t.now().UTC()
	next.Keys = deliveryKeys(next.Delivery)
	if next.PK != it.PK || next.SK != it.SK {
		return false, qunyun.Errorf(qunyun.EINVALID, "delivery %s: an update must not move it", it.ID)
	}
	next.Version = it.Version + 1
	item, err := Marshal(next)
	if err != nil {
		return false, err
	}
	putID := stampPutID(item)
	_, err = t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(t.Name),
		Item:                      item,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: Item{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Version, 10)}},
	})
	if err != nil {
		stored, rerr := t.readBack(ctx, item, false)
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
func (t *Table) GroupDayDeliveries(ctx context.Context, groupID, date string) ([]DeliveryItem, error) {
	return QueryInto[DeliveryItem](ctx, t, Query{PK: "GROUP#" + groupID + "#D#" + date, SKPrefix: "DLV#"})
}

// TargetDeliveries lists the 1:1 or staff deliveries to one person on a date.
func (t *Table) TargetDeliveries(ctx context.Context, kind qunyun.TargetKind, id, date string) ([]DeliveryItem, error) {
	return QueryInto[DeliveryItem](ctx, t, Query{PK: "TARGET#" + string(kind) + "#" + id + "#D#" + date, SKPrefix: "DLV#"})
}

// PlanDeliveries lists the deliveries of one source (a plan id, "session",
// "moderation", ...) on a date.
func (t *Table) PlanDeliveries(ctx context.Context, source, date string) ([]DeliveryItem, error) {
	return QueryInto[DeliveryItem](ctx, t, Query{Index: GSI1, PK: "PLAN#" + source + "#D#" + date})
}

// DayDeliveries lists a date's deliveries, only those in state when it is
// not empty. A final state is read under both of its GSI2 prefixes (see
// push_announce.go); claimed and task_created have one.
func (t *Table) DayDeliveries(ctx context.Context, date string, state qunyun.DeliveryState) ([]DeliveryItem, error) {
	q := Query{Index: GSI2, PK: "DLV#D#" + date}
	if state != "" {
		q.SKPrefix = string(state) + "#"
	}
	items, err := QueryInto[DeliveryItem](ctx, t, q)
	if err != nil || !state.Final() {
		return items, err
	}
	q.SKPrefix = unannounced + string(state) + "#"
	more, err := QueryInto[DeliveryItem](ctx, t, q)
	return append(items, more...), err
}

// Cap counters: one item per counter (docs/data-model.md "Push counters"),
// attribute n. A reservation is one conditional ADD, so concurrent pushes
// can never take a counter past its limit.

// CapCounter names one counter item.
type CapCounter struct{ PK, SK string }

// String encodes the counter for Delivery.Caps.
func (c CapCounter) String() string { return c.PK + "|" + c.SK }

// ParseCapCounter reverses String.
func ParseCapCounter(s string) (CapCounter, bool) {
	pk, sk, ok := strings.Cut(s, "|")
	return CapCounter{pk, sk}, ok && pk != "" && sk != ""
}

// GroupDayCap counts pushes to a group on its local date.
func GroupDayCap(groupID, localDate string) CapCounter {
	return CapCounter{"GROUP#" + groupID, "CAP#" + localDate}
}

// GroupSessionDayCap counts session messages to a group on its local date:
// their own budget, apart from the SOP content of GroupDayCap.
func GroupSessionDayCap(groupID, localDate string) CapCounter {
	return CapCounter{"GROUP#" + groupID, "CAP#" + localDate + "#session"}
}

// GroupMonthCap counts customer-group tasks in the group's local month.
func GroupMonthCap(groupID, localMonth string) CapCounter {
	return CapCounter{"GROUP#" + groupID, "CAP#" + localMonth}
}

// MemberDayCap counts 1:1 messages to a person on a date (fatigue).
func MemberDayCap(memberID, date string) CapCounter {
	return CapCounter{"PERSON#" + memberID, "CAP#" + date}
}

// CSWindowCap counts customer-service messages in the 48 h window opened by
// the person's last message (keyed by its time, so a new message opens a new
// counter).
func CSWindowCap(memberID string, lastMessage time.Time) CapCounter {
	return CapCounter{"PERSON#" + memberID, fmt.Sprintf("CSWIN#%013d", lastMessage.UnixMilli())}
}

// ReserveCap adds one to the counter for holder (a delivery's id) if it is
// below max and reports whether it did. ttl bounds how long the counter is
// kept. The counter remembers its holders, so the SDK's retry of a write
// whose answer was lost does not count the holder twice: a failed
// condition is read back, and a reservation the holder already has counts
// as made.
func (t *Table) ReserveCap(ctx context.Context, c CapCounter, max int, ttl time.Duration, holder string) (bool, error) {
	_, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(t.Name),
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
			":exp":  &types.AttributeValueMemberN{Value: strconv.FormatInt(TTL(t.now(), ttl), 10)},
		},
	})
	if IsConditionFailed(err) {
		held, err := t.capHeld(ctx, c, holder)
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
func (t *Table) ReleaseCap(ctx context.Context, c CapCounter, holder string) error {
	_, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(t.Name),
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
func (t *Table) capHeld(ctx context.Context, c CapCounter, holder string) (bool, error) {
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
func (t *Table) CapCount(ctx context.Context, c CapCounter) (int, error) {
	var v struct {
		N int `dynamodbav:"n"`
	}
	if _, err := t.Get(ctx, c.PK, c.SK, &v); err != nil {
		return 0, fmt.Errorf("read cap %s: %w", c, err)
	}
	return v.N, nil
}

// Tick cursor and run markers (docs/data-model.md "Scheduled-run marker").

// RunDone reports whether a scheduled run was already completed.
func (t *Table) RunDone(ctx context.Context, function, kind string, scheduled time.Time) (bool, error) {
	var v struct {
		SK string `dynamodbav:"SK"`
	}
	found, err := t.Get(ctx, "RUN#"+function+"#"+kind, scheduled.UTC().Format(time.RFC3339), &v)
	if err != nil {
		return false, fmt.Errorf("read run marker: %w", err)
	}
	return found, nil
}

// MarkRunDone records a completed scheduled run (kept for ttl).
func (t *Table) MarkRunDone(ctx context.Context, function, kind string, scheduled time.Time, ttl time.Duration) error {
	k := Keys{PK: "RUN#" + function + "#" + kind, SK: scheduled.UTC().Format(time.RFC3339), Type: "Run", ExpiresAt: TTL(t.now(), ttl)}
	if _, err := t.PutNew(ctx, k); err != nil {
		return fmt.Errorf("mark run done: %w", err)
	}
	return nil
}

// Cursor reads the last minute a tick fully processed (zero if none).
func (t *Table) Cursor(ctx context.Context, function, kind string) (time.Time, error) {
	var v struct {
		At time.Time `dynamodbav:"at"`
	}
	if _, err := t.Get(ctx, "RUN#"+function+"#"+kind, "#CURSOR", &v); err != nil {
		return time.Time{}, fmt.Errorf("read cursor: %w", err)
	}
	return v.At, nil
}

// AdvanceCursor moves the cursor to at, never backwards.
func (t *Table) AdvanceCursor(ctx context.Context, function, kind string, at time.Time) error {
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	_, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(t.Name),
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

// PersonLastMessage reads when a person last wrote to an OA (attribute
// lastMessageAt of PERSON#<mid> / #PROFILE, which the callback maintains):
// the start of the 48-hour customer-service window. Zero when unknown.
func (t *Table) PersonLastMessage(ctx context.Context, memberID string) (time.Time, error) {
	var v struct {
		LastMessageAt time.Time `dynamodbav:"lastMessageAt"`
	}
	if _, err := t.Get(ctx, "PERSON#"+memberID, "#PROFILE", &v); err != nil {
		return time.Time{}, fmt.Errorf("read last message of %s: %w", memberID, err)
	}
	return v.LastMessageAt, nil
}
