// Package dynamo adapts Qunyun's single DynamoDB table to the domain: key
// patterns (docs/data-model.md), single-item conditional writes for
// idempotency, paginated queries, and TTL filtering. Every write is one item;
// there are no transactions (they cost double and the local engine lacks
// them) and no Scan on a hot path.
//
// Table holds the primitives: get, put-new (with read-back of a lost
// answer), put, update closures (entity[T].update), paginated queries,
// delete and TTL filtering. Each area has a small store type over it, in
// files named after the store: Catalog (catalog*.go: groups, members,
// hosts, contents, plans, rules, contests, session targets), Log (log.go:
// messages, events, check-ins, people), Followups (followups*.go), Sessions
// (sessions*.go), Deliveries (deliveries*.go: the state machine, caps,
// cursors, requests), Links (links.go), Tokens (tokens.go), Scores
// (scores*.go, report.go), People, Contributions, Moderation and
// Membership (membership.go: joins, leaves and member counts). A store
// is a value made where it is used, dynamo.Catalog{Table: t}; the use
// cases never see this package: they declare the interfaces they need and
// the functions' mains hand them these stores. Table creation from template.yaml
// is local tooling's (localtable), never a function's.
package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// API is the part of the DynamoDB client the stores use (no transactions).
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Index names (template.yaml).
const (
	GSI1 = "GSI1"
	GSI2 = "GSI2"
)

// Keys are the key attributes every item carries, plus its type and TTL.
// Embed it in an item struct next to the domain value.
type Keys struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	GSI1PK    string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK    string `dynamodbav:"GSI1SK,omitempty"`
	GSI2PK    string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK    string `dynamodbav:"GSI2SK,omitempty"`
	Type      string `dynamodbav:"type,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"` // epoch seconds; 0 = never
}

// Item is a raw item.
type Item = map[string]types.AttributeValue

// Table is the one table, with the clock used to filter expired items and
// stamp lifetimes. Now is required: there is no wall-clock default, so a
// table built without the caller's clock fails loudly at its first use
// instead of quietly reading today's date (tests run on their own clocks).
type Table struct {
	DB   API
	Name string
	Now  func() time.Time
}

// Key builds a primary key.
func Key(pk, sk string) Item {
	return Item{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
}

func (t *Table) now() time.Time {
	if t.Now == nil {
		panic("dynamo: Table " + t.Name + " has no clock (set Table.Now)")
	}
	return t.Now()
}

// Marshal turns a struct (usually embedding Keys) into an item.
func Marshal(v any) (Item, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("marshal item: %w", err)
	}
	return item, nil
}

// Unmarshal reads an item into v.
func Unmarshal(item Item, v any) error {
	if err := attributevalue.UnmarshalMap(item, v); err != nil {
		return fmt.Errorf("unmarshal item: %w", err)
	}
	return nil
}

// PutNew writes v only if no item has its key: the idempotent write. It
// returns created=false, err=nil when the item already existed.
//
// Each call stamps the item with a random put id. When DynamoDB applied the
// put but its answer was lost, the SDK's own retry fails the condition; the
// put id, read back, tells that apart from a true duplicate, so the first
// delivery is not mistaken for a retry (and its side effects not skipped).
// The extra read happens only when the condition fails.
func (t *Table) PutNew(ctx context.Context, v any) (created bool, err error) {
	created, _, err = t.putNew(ctx, v, false)
	return created, err
}

// putIDAttr names the attribute PutNew stamps on the items it creates.
const putIDAttr = "putId"

// putNew is PutNew; when the item existed and was not our own put, it
// also returns the stored item: all of it when whole is set, else only its
// put id (a cheaper read).
func (t *Table) putNew(ctx context.Context, v any, whole bool) (created bool, stored Item, err error) {
	item, err := Marshal(v)
	if err != nil {
		return false, nil, err
	}
	putID := stampPutID(item)
	_, err = t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(t.Name),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if err == nil {
		return true, nil, nil
	}
	if !IsConditionFailed(err) {
		return false, nil, Unavailable("put new item", err)
	}
	stored, err = t.readBack(ctx, item, whole)
	if err != nil {
		return false, nil, err
	}
	if ownPut(stored, putID) {
		return true, nil, nil // our own put, whose answer was lost
	}
	return false, stored, nil
}

// stampPutID gives item a new random put id and returns it.
func stampPutID(item Item) string {
	b := make([]byte, 8)
	rand.Read(b)
	id := hex.EncodeToString(b)
	item[putIDAttr] = &types.AttributeValueMemberS{Value: id}
	return id
}

// readBack reads the stored version of item consistently, after a write
// whose outcome is in doubt: all of it when whole is set, else only its put
// id. It returns nil when there is none.
func (t *Table) readBack(ctx context.Context, item Item, whole bool) (Item, error) {
	in := &dynamodb.GetItemInput{
		TableName:      aws.String(t.Name),
		Key:            Item{"PK": item["PK"], "SK": item["SK"]},
		ConsistentRead: aws.Bool(true),
	}
	if !whole {
		in.ProjectionExpression = aws.String(putIDAttr)
	}
	res, err := t.DB.GetItem(ctx, in)
	if err != nil {
		return nil, Unavailable("read back item", err)
	}
	return res.Item, nil
}

// ownPut reports whether the stored item is the put stamped with putID.
func ownPut(stored Item, putID string) bool {
	own, ok := stored[putIDAttr].(*types.AttributeValueMemberS)
	return ok && own.Value == putID
}

// Put writes v unconditionally (an upsert of a whole item).
func (t *Table) Put(ctx context.Context, v any) error {
	item, err := Marshal(v)
	if err != nil {
		return err
	}
	if _, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: item}); err != nil {
		return Unavailable("put item", err)
	}
	return nil
}

// Get reads one item into out. Expired items count as absent.
func (t *Table) Get(ctx context.Context, pk, sk string, out any) (found bool, err error) {
	res, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name), Key: Key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, Unavailable("get item", err)
	}
	if res.Item == nil || t.expired(res.Item) {
		return false, nil
	}
	return true, Unmarshal(res.Item, out)
}

// Delete removes one item; a missing item is not an error.
func (t *Table) Delete(ctx context.Context, pk, sk string) error {
	if _, err := t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(t.Name), Key: Key(pk, sk)}); err != nil {
		return Unavailable("delete item", err)
	}
	return nil
}

// Query describes a key-condition query on the table or an index.
type Query struct {
	Index    string // "" for the table, GSI1, GSI2
	PK       string
	SKPrefix string // optional begins_with
	SKFrom   string // optional inclusive range, with SKTo
	SKTo     string
	Limit    int  // 0 = all
	Desc     bool // newest first
}

// QueryItems returns the matching, unexpired items, following pages.
func (t *Table) QueryItems(ctx context.Context, q Query) ([]Item, error) {
	pkName, skName := "PK", "SK"
	if q.Index != "" {
		pkName, skName = q.Index+"PK", q.Index+"SK"
	}
	cond := "#pk = :pk"
	names := map[string]string{"#pk": pkName}
	vals := Item{":pk": &types.AttributeValueMemberS{Value: q.PK}}
	switch {
	case q.SKPrefix != "":
		cond += " AND begins_with(#sk, :skp)"
		names["#sk"] = skName
		vals[":skp"] = &types.AttributeValueMemberS{Value: q.SKPrefix}
	case q.SKFrom != "" || q.SKTo != "":
		cond += " AND #sk BETWEEN :from AND :to"
		names["#sk"] = skName
		to := q.SKTo
		if to == "" {
			to = "\uffff"
		}
		vals[":from"] = &types.AttributeValueMemberS{Value: q.SKFrom}
		vals[":to"] = &types.AttributeValueMemberS{Value: to}
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(t.Name),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
		ScanIndexForward:          aws.Bool(!q.Desc),
	}
	if q.Index != "" {
		in.IndexName = aws.String(q.Index)
	}
	var out []Item
	for {
		if q.Limit > 0 {
			in.Limit = aws.Int32(int32(q.Limit - len(out)))
		}
		res, err := t.DB.Query(ctx, in)
		if err != nil {
			return nil, Unavailable("query "+q.PK, err)
		}
		for _, it := range res.Items {
			if !t.expired(it) {
				out = append(out, it)
			}
		}
		if len(res.LastEvaluatedKey) == 0 || (q.Limit > 0 && len(out) >= q.Limit) {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// QueryInto runs q and unmarshals every item into a new T.
func QueryInto[T any](ctx context.Context, t *Table, q Query) ([]T, error) {
	items, err := t.QueryItems(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		var v T
		if err := Unmarshal(it, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// expired reports whether an item's TTL has passed: DynamoDB deletes expired
// items late (and the local engine never), so reads must filter them.
func (t *Table) expired(it Item) bool {
	v, ok := it["expiresAt"].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	var sec int64
	if _, err := fmt.Sscan(v.Value, &sec); err != nil || sec == 0 {
		return false
	}
	return sec <= t.now().Unix()
}

// IsConditionFailed reports whether err is a failed condition check.
func IsConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Unavailable wraps a DynamoDB failure as EUNAVAILABLE (retrying may help),
// keeping the cause for logs.
func Unavailable(op string, err error) error {
	var api smithy.APIError
	msg := op
	if errors.As(err, &api) {
		msg = op + ": " + api.ErrorCode()
	}
	return &qunyun.Error{Code: qunyun.EUNAVAILABLE, Message: msg, Err: err}
}

// TTL returns the epoch-seconds expiry d after now.
func TTL(now time.Time, d time.Duration) int64 { return now.Add(d).Unix() }

// The stores: one small type per area over the table (docs/data-model.md
// names their keys). Each is a value holding the table, made where it is
// used, e.g. dynamo.Catalog{Table: t}.

// Catalog is the store of what operators configure: groups, members, hosts,
// contents, plans, rules, contests and session targets.
type Catalog struct{ Table *Table }

// Log is the store of what happened: messages, group and account events,
// check-ins, subscriptions, people's 1:1 messages and the relay id claims.
type Log struct{ Table *Table }

// Followups is the store of the work after a callback's record: the
// pending steps on records and the notes that let a sweep resume them.
type Followups struct{ Table *Table }

// Sessions is the store of host sessions: the sessions, which groups have
// one live, questions, recaps and the week's planning marks.
type Sessions struct{ Table *Table }

// Deliveries is the store of outbound messages: the delivery state
// machine, cap counters, push cursors and run marks.
type Deliveries struct{ Table *Table }

// Links is the store of tracked links and their opens (reading heat).
type Links struct{ Table *Table }

// Tokens is the store of the platform access tokens shared by containers.
type Tokens struct{ Table *Table }

// Scores is the store of the night's results: group scores, member levels
// and tiers, reports, scoring runs and contest entries and votes.
type Scores struct{ Table *Table }
