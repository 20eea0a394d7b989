package dynamo

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Access-token cache with a lease (docs/data-model.md "Access token cache"):
// one item per app, TOKEN#<app> / #META, attributes token, tokenExpiresMs,
// leaseOwner and leaseUntilMs. A process that needs a new token first takes
// the lease with a conditional write, so only one process in the fleet calls
// WeChat's token API at a time (a second fetch would invalidate the first
// token for every other process).

type tokenItem struct {
	Token          string `dynamodbav:"token"`
	TokenExpiresMs int64  `dynamodbav:"tokenExpiresMs"`
}

// AccessToken reads an app's shared token.
func (tk Tokens) AccessToken(ctx context.Context, app string) (qunyun.AccessToken, error) {
	var v tokenItem
	found, err := tk.Table.Get(ctx, "TOKEN#"+app, meta, &v)
	if err != nil || !found || v.Token == "" {
		return qunyun.AccessToken{}, err
	}
	return qunyun.AccessToken{Token: v.Token, ExpiresAt: time.UnixMilli(v.TokenExpiresMs)}, nil
}

// LeaseToken takes the app's refresh lease until "until" if nobody else
// holds an unexpired one, and reports whether it did. Taking a lease owner
// already holds succeeds: when DynamoDB applied the write but its answer was
// lost, the SDK's retry (or the owner's next attempt) must not read the
// owner's own lease as someone else's, or nobody refreshes until it expires.
func (tk Tokens) LeaseToken(ctx context.Context, app, owner string, until time.Time) (bool, error) {
	now := tk.Table.now()
	_, err := tk.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(tk.Table.Name),
		Key:                      Key("TOKEN#"+app, meta),
		UpdateExpression:         aws.String("SET leaseOwner = :o, leaseUntilMs = :u, #type = :type"),
		ConditionExpression:      aws.String("attribute_not_exists(leaseUntilMs) OR leaseUntilMs < :now OR leaseOwner = :o"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: Item{
			":o":    &types.AttributeValueMemberS{Value: owner},
			":u":    &types.AttributeValueMemberN{Value: strconv.FormatInt(until.UnixMilli(), 10)},
			":now":  &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
			":type": &types.AttributeValueMemberS{Value: "AccessToken"},
		},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Unavailable("lease token "+app, err)
	}
	return true, nil
}

// StoreToken writes the new token and releases the lease, only while owner
// still holds it (a holder whose lease ran out must not overwrite a newer
// token). It reports whether the write happened.
func (tk Tokens) StoreToken(ctx context.Context, app, owner string, tok qunyun.AccessToken) (bool, error) {
	_, err := tk.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(tk.Table.Name),
		Key:                      Key("TOKEN#"+app, meta),
		UpdateExpression:         aws.String("SET #token = :t, tokenExpiresMs = :e REMOVE leaseOwner, leaseUntilMs"),
		ConditionExpression:      aws.String("leaseOwner = :o"),
		ExpressionAttributeNames: map[string]string{"#token": "token"},
		ExpressionAttributeValues: Item{
			":t": &types.AttributeValueMemberS{Value: tok.Token},
			":e": &types.AttributeValueMemberN{Value: strconv.FormatInt(tok.ExpiresAt.UnixMilli(), 10)},
			":o": &types.AttributeValueMemberS{Value: owner},
		},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Unavailable("store token "+app, err)
	}
	return true, nil
}

// ReleaseTokenLease drops owner's lease without a new token (the fetch failed).
func (tk Tokens) ReleaseTokenLease(ctx context.Context, app, owner string) error {
	_, err := tk.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(tk.Table.Name),
		Key:                       Key("TOKEN#"+app, meta),
		UpdateExpression:          aws.String("REMOVE leaseOwner, leaseUntilMs"),
		ConditionExpression:       aws.String("leaseOwner = :o"),
		ExpressionAttributeValues: Item{":o": &types.AttributeValueMemberS{Value: owner}},
	})
	if err != nil && !IsConditionFailed(err) {
		return Unavailable("release token lease "+app, err)
	}
	return nil
}
