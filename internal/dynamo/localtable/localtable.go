// Package localtable creates the table template.yaml describes, on the
// local engine and in tests; in AWS, CloudFormation creates it. It lives
// apart from package dynamo so that no Lambda function links
// dynamodb:CreateTable or DescribeTable, which their roles do not grant
// (internal/sam TestRolesGrantWhatTheCodeCalls).
package localtable

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/sam"
)

// Client returns a DynamoDB client for a local engine at endpoint. The
// engine checks no signature, but the SDK must sign with something: static
// local credentials keep it off the AWS credential chain.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// Creator is the part of the client that creates tables.
type Creator interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	describer
}

type describer interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// CreateTable creates the table described in template.yaml under the given
// name, if it does not exist, and waits until it is ACTIVE. It is for the
// local engine and tests: in AWS, CloudFormation creates the table.
func CreateTable(ctx context.Context, c Creator, def sam.Table, name string) error {
	if _, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err == nil {
		return nil
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	for _, a := range def.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.Name), AttributeType: types.ScalarAttributeType(a.Type)})
	}
	in.KeySchema = keySchema(def.KeySchema)
	for _, g := range def.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.Name),
			KeySchema:  keySchema(g.KeySchema),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(g.ProjectionType)},
		})
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", name, err)
		}
	}
	return waitFor(ctx, c, name, "ACTIVE", func(out *dynamodb.DescribeTableOutput, err error) bool {
		return err == nil && out.Table.TableStatus == types.TableStatusActive
	})
}

// Deleter is the part of the client that deletes tables.
type Deleter interface {
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	describer
}

// DeleteTable deletes a table and waits until it is gone: the engine, as
// DynamoDB, deletes it a moment after it says so.
func DeleteTable(ctx context.Context, c Deleter, name string) error {
	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
		return fmt.Errorf("delete table %s: %w", name, err)
	}
	return waitFor(ctx, c, name, "gone", func(_ *dynamodb.DescribeTableOutput, err error) bool {
		var gone *types.ResourceNotFoundException
		return errors.As(err, &gone)
	})
}

// waitFor describes table name every 50 ms until done says so, for at
// most 10 s; state names what it waits for, in the error.
func waitFor(ctx context.Context, c describer, name, state string, done func(*dynamodb.DescribeTableOutput, error) bool) error {
	for range 200 {
		if done(c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("table %s: not %s after 10 s", name, state)
}

func keySchema(ks []sam.KeyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.Name), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}
