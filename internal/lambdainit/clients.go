package lambdainit

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/dynamo"
)

// The functions fill reply and push texts with text/template, whose
// reflection (MethodByName) makes the linker keep every exported method of
// every type that is ever stored in an interface value, and of the types
// reachable from it. Storing *dynamodb.Client in dynamo.Table.DB kept all
// of DynamoDB's operations with their serializers and types, and
// *eventbridge.Client all of EventBridge's: about 2 MB of each binary. The
// adapters below hold the client's method values instead, which keep only
// the operations named here.

// dynamoAPI is dynamo.API made of a client's method values.
type dynamoAPI struct {
	getItem        func(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	putItem        func(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	updateItem     func(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	deleteItem     func(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	query          func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	batchGetItem   func(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	batchWriteItem func(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ dynamo.API = dynamoAPI{}

func newDynamoAPI(c *dynamodb.Client) dynamoAPI {
	return dynamoAPI{c.GetItem, c.PutItem, c.UpdateItem, c.DeleteItem, c.Query, c.BatchGetItem, c.BatchWriteItem}
}

func (d dynamoAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return d.getItem(ctx, in, opts...)
}

func (d dynamoAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return d.putItem(ctx, in, opts...)
}

func (d dynamoAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return d.updateItem(ctx, in, opts...)
}

func (d dynamoAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return d.deleteItem(ctx, in, opts...)
}

func (d dynamoAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return d.query(ctx, in, opts...)
}

func (d dynamoAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return d.batchGetItem(ctx, in, opts...)
}

func (d dynamoAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return d.batchWriteItem(ctx, in, opts...)
}

// eventBridgeAPI is bus.API made of a client's method value.
type eventBridgeAPI struct {
	putEvents func(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ bus.API = eventBridgeAPI{}

func newEventBridgeAPI(c *eventbridge.Client) eventBridgeAPI { return eventBridgeAPI{c.PutEvents} }

func (e eventBridgeAPI) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return e.putEvents(ctx, in, opts...)
}
