package dynamotest

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/dynamo"
)

// Meter is a dynamo.API in front of another that adds up what on-demand
// DynamoDB would bill for each request: read request units (RRU) and write
// request units (WRU), for capacity benchmarks (`make bench`).
//
// The table's units are the engine's: every request asks for
// ReturnConsumedCapacity TOTAL (the caller's answer keeps what it asked
// for). dynalite computes them from item sizes as DynamoDB does, and the
// meter makes up for where it does not:
//
//   - a write refused by its condition costs DynamoDB 1 WRU, dynalite
//     reports nothing: 1 WRU, and counted in ConditionalFailures;
//   - a Query that reads nothing costs the minimum (0.5 RRU, 1 strongly
//     consistent), dynalite reports 0: the minimum.
//
// dynalite does not count the writes to global secondary indexes, which
// DynamoDB bills like table writes (both of Qunyun's project ALL, so an
// entry is the size of its item and any change of the item rewrites it).
// The meter counts them from the item before and after the write
// (IndexWriteUnits, included in WriteUnits): a new entry, a rewritten one
// or a deleted one is one write of the item's size, an entry whose key
// changed two. It learns the items by asking for them in the write's
// answer (ReturnValues, taken out again when the caller did not ask) or,
// when the caller asked for something else, by reading the item after the
// write (not counted). A BatchWriteItem put is counted as a new entry.
type Meter struct {
	API     dynamo.API
	Indexes []Index

	mu sync.Mutex
	u  Usage
}

// Index names the key attributes of a global secondary index.
type Index struct{ PK, SK string }

// QunyunIndexes are template.yaml's GSI1 and GSI2.
var QunyunIndexes = []Index{{"GSI1PK", "GSI1SK"}, {"GSI2PK", "GSI2SK"}}

// Usage is what the requests so far cost.
type Usage struct {
	Requests            int64
	ReadUnits           float64
	WriteUnits          float64 // IndexWriteUnits included
	IndexWriteUnits     float64
	ConditionalFailures int64
}

// Sub is what u cost beyond before.
func (u Usage) Sub(before Usage) Usage {
	return Usage{
		Requests: u.Requests - before.Requests, ReadUnits: u.ReadUnits - before.ReadUnits,
		WriteUnits: u.WriteUnits - before.WriteUnits, IndexWriteUnits: u.IndexWriteUnits - before.IndexWriteUnits,
		ConditionalFailures: u.ConditionalFailures - before.ConditionalFailures,
	}
}

func (u Usage) String() string {
	return fmt.Sprintf("%d requests, %.1f RRU, %.1f WRU (%.1f to indexes), %d refused conditions",
		u.Requests, u.ReadUnits, u.WriteUnits, u.IndexWriteUnits, u.ConditionalFailures)
}

// NewMeter meters api with Qunyun's indexes.
func NewMeter(api dynamo.API) *Meter { return &Meter{API: api, Indexes: QunyunIndexes} }

// MeterTable puts a meter in front of t's client and returns it.
func MeterTable(t *dynamo.Table) *Meter {
	m := NewMeter(t.DB)
	t.DB = m
	return m
}

// Usage returns the counts so far.
func (m *Meter) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.u
}

// Reset sets the counts to zero.
func (m *Meter) Reset() {
	m.mu.Lock()
	m.u = Usage{}
	m.mu.Unlock()
}

func (m *Meter) add(read, write, index float64, refused bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.u.Requests++
	m.u.ReadUnits += read
	m.u.WriteUnits += write + index
	m.u.IndexWriteUnits += index
	if refused {
		m.u.ConditionalFailures++
	}
}

func units(cc *types.ConsumedCapacity) float64 {
	if cc == nil || cc.CapacityUnits == nil {
		return 0
	}
	return *cc.CapacityUnits
}

// written counts a write's answer: the engine's units, or 1 WRU for a
// refused condition (and none for any other error, which is not billed).
func (m *Meter) written(cc *types.ConsumedCapacity, err error, index float64) {
	switch {
	case err == nil:
		m.add(0, max(units(cc), 1), index, false)
	case dynamo.IsConditionFailed(err):
		m.add(0, 1, 0, true)
	default:
		m.add(0, 0, 0, false)
	}
}

func (m *Meter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	asked := in.ReturnConsumedCapacity
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.API.GetItem(ctx, in, opts...)
	in.ReturnConsumedCapacity = asked
	if err != nil {
		m.add(0, 0, 0, false)
		return out, err
	}
	m.add(units(out.ConsumedCapacity), 0, 0, false)
	if asked == "" || asked == types.ReturnConsumedCapacityNone {
		out.ConsumedCapacity = nil
	}
	return out, err
}

func (m *Meter) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	asked := in.ReturnConsumedCapacity
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.API.Query(ctx, in, opts...)
	in.ReturnConsumedCapacity = asked
	if err != nil {
		m.add(0, 0, 0, false)
		return out, err
	}
	least := 0.5
	if aws.ToBool(in.ConsistentRead) {
		least = 1
	}
	m.add(max(units(out.ConsumedCapacity), least), 0, 0, false)
	if asked == "" || asked == types.ReturnConsumedCapacityNone {
		out.ConsumedCapacity = nil
	}
	return out, err
}

func (m *Meter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	asked := in.ReturnConsumedCapacity
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.API.BatchGetItem(ctx, in, opts...)
	in.ReturnConsumedCapacity = asked
	if err != nil {
		m.add(0, 0, 0, false)
		return out, err
	}
	var read float64
	for i := range out.ConsumedCapacity {
		read += units(&out.ConsumedCapacity[i])
	}
	m.add(read, 0, 0, false)
	if asked == "" || asked == types.ReturnConsumedCapacityNone {
		out.ConsumedCapacity = nil
	}
	return out, err
}

func (m *Meter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	asked, rv := in.ReturnConsumedCapacity, in.ReturnValues
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	if rv == "" || rv == types.ReturnValueNone {
		in.ReturnValues = types.ReturnValueAllOld
	}
	out, err := m.API.PutItem(ctx, in, opts...)
	in.ReturnConsumedCapacity, in.ReturnValues = asked, rv
	if err != nil {
		m.written(nil, err, 0)
		return out, err
	}
	// PutItem answers NONE or ALL_OLD: either way the item before, here.
	m.written(out.ConsumedCapacity, nil, m.indexWrites(out.Attributes, in.Item))
	if rv == "" || rv == types.ReturnValueNone {
		out.Attributes = nil
	}
	if asked == "" || asked == types.ReturnConsumedCapacityNone {
		out.ConsumedCapacity = nil
	}
	return out, err
}

func (m *Meter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	asked, rv := in.ReturnConsumedCapacity, in.ReturnValues
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	own := rv == "" || rv == types.ReturnValueNone
	if own {
		in.ReturnValues = types.ReturnValueAllNew
	}
	out, err := m.API.UpdateItem(ctx, in, opts...)
	in.ReturnConsumedCapacity, in.ReturnValues = asked, rv
	if err != nil {
		m.written(nil, err, 0)
		return out, err
	}
	var now dynamo.Item
	switch {
	case own || rv == types.ReturnValueAllNew:
		now = out.Attributes
	default:
		if got, gerr := m.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: in.Key, ConsistentRead: aws.Bool(true)}); gerr == nil {
			now = got.Item
		}
	}
	// The item before is not known: an update is taken to rewrite the
	// entries of the indexes its item is in, under the same keys.
	m.written(out.ConsumedCapacity, nil, m.indexWrites(now, now))
	if own {
		out.Attributes = nil
	}
	if asked == "" || asked == types.ReturnConsumedCapacityNone {
		out.ConsumedCapacity = nil
	}
	return out, err
}

func (m *Meter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	asked, rv := in.ReturnConsumedCapacity, in.ReturnValues
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	if rv == "" || rv == types.ReturnValueNone {
		in.ReturnValues = types.ReturnValueAllOld
	}
	out, err := m.API.DeleteItem(ctx, in, opts...)
	in.ReturnConsumedCapacity, in.ReturnValues = asked, rv
	if err != nil {
		m.written(nil, err, 0)
		return out, err
	}
	m.written(out.ConsumedCapacity, nil, m.indexWrites(out.Attributes, nil))
	if rv == "" || rv == types.ReturnValueNone {
		out.Attributes = nil
	}
	if asked == "" || asked == types.ReturnConsumedCapacityNone {
		out.ConsumedCapacity = nil
	}
	return out, err
}

func (m *Meter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	asked := in.ReturnConsumedCapacity
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.API.BatchWriteItem(ctx, in, opts...)
	in.ReturnConsumedCapacity = asked
	if err != nil {
		m.add(0, 0, 0, false)
		return out, err
	}
	var write, index float64
	for i := range out.ConsumedCapacity {
		write += units(&out.ConsumedCapacity[i])
	}
	for _, reqs := range in.RequestItems {
		for _, r := range reqs {
			if r.PutRequest != nil {
				index += m.indexWrites(nil, r.PutRequest.Item)
			}
		}
	}
	m.add(0, write, index, false)
	if asked == "" || asked == types.ReturnConsumedCapacityNone {
		out.ConsumedCapacity = nil
	}
	return out, err
}

// indexWrites is what a write from old to now (either nil when absent)
// costs the indexes, in WRU.
func (m *Meter) indexWrites(old, now dynamo.Item) float64 {
	var wru float64
	for _, ix := range m.Indexes {
		ok, kOld := indexKey(old, ix)
		nk, kNew := indexKey(now, ix)
		switch {
		case ok && nk && kOld == kNew:
			wru += writeUnits(max(ItemSize(old), ItemSize(now)))
		case ok && nk:
			wru += writeUnits(ItemSize(old)) + writeUnits(ItemSize(now))
		case ok:
			wru += writeUnits(ItemSize(old))
		case nk:
			wru += writeUnits(ItemSize(now))
		}
	}
	return wru
}

func indexKey(it dynamo.Item, ix Index) (bool, string) {
	pk, ok := it[ix.PK]
	if !ok {
		return false, ""
	}
	sk, ok := it[ix.SK]
	if !ok {
		return false, ""
	}
	return true, fmt.Sprint(value(pk), "\x00", value(sk))
}

func value(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberB:
		return string(v.Value)
	}
	return av
}

func writeUnits(size int) float64 { return math.Max(1, math.Ceil(float64(size)/1024)) }

// ItemSize is an item's size as DynamoDB counts it: each attribute's name
// and value in UTF-8 bytes (numbers about one byte per two digits, a list
// or map 3 bytes plus one per element).
func ItemSize(it dynamo.Item) int {
	n := 0
	for name, av := range it {
		n += len(name) + valueSize(av)
	}
	return n
}

func valueSize(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

func numberSize(s string) int {
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}
