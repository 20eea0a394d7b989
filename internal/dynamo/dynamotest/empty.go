package dynamotest

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
)

// Empty is the DynamoDB API of an empty table that takes no write: every
// read finds nothing and every write fails as if DynamoDB were down, and is
// counted. Fuzz targets run a function's input decoding on it, thousands of
// times a second without the engine, and check with Writes that input
// refused as invalid tried to write nothing.
type Empty struct{ writes atomic.Int64 }

var _ dynamo.API = (*Empty)(nil)

// NewEmptyTable returns a table on a fresh Empty that tells time by clk.
func NewEmptyTable(clk clock.Clock) (*dynamo.Table, *Empty) {
	db := &Empty{}
	return &dynamo.Table{DB: db, Name: "empty", Now: clk.Now}, db
}

// Writes is how many writes were tried.
func (e *Empty) Writes() int64 { return e.writes.Load() }

func (e *Empty) refuse() error {
	e.writes.Add(1)
	return &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "dynamotest.Empty takes no writes"}
}

func (e *Empty) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

func (e *Empty) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (e *Empty) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return &dynamodb.BatchGetItemOutput{}, nil
}

func (e *Empty) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, e.refuse()
}

func (e *Empty) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, e.refuse()
}

func (e *Empty) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, e.refuse()
}

func (e *Empty) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, e.refuse()
}
