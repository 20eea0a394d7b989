package dynamotest_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/host"
	"github.com/qunyun/qunyun/internal/sam"
)

// The meter bills what DynamoDB would: index entries as writes, a refused
// condition as 1 WRU, an empty query at the minimum.
func TestMeterBillsLikeDynamoDB(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	tb := dynamotest.NewTable(t, clk)
	m := dynamotest.MeterTable(tb)
	ctx := context.Background()
	step := func(what string, fn func() error, want dynamotest.Usage) {
		t.Helper()
		before := m.Usage()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := m.Usage().Sub(before); got != want {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
	type indexed struct {
		dynamo.Keys
		N int `dynamodbav:"n"`
	}
	k := dynamo.Keys{PK: "A", SK: "1", GSI1PK: "X", GSI1SK: "1"}
	step("a new item in one index", func() error { return tb.Put(ctx, indexed{k, 1}) },
		dynamotest.Usage{Requests: 1, WriteUnits: 2, IndexWriteUnits: 1})
	step("a refused condition", func() error {
		created, err := tb.PutNew(ctx, indexed{k, 2})
		if created {
			t.Fatal("created twice")
		}
		return err
	}, dynamotest.Usage{Requests: 2, ReadUnits: 1, WriteUnits: 1, ConditionalFailures: 1}) // PutNew reads back its put id
	k2 := k
	k2.GSI1SK = "2"
	step("an index key moved", func() error { return tb.Put(ctx, indexed{k2, 3}) },
		dynamotest.Usage{Requests: 1, WriteUnits: 3, IndexWriteUnits: 2})
	step("an empty query", func() error {
		_, err := tb.DB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tb.Name),
			KeyConditionExpression: aws.String("PK = :p"), ExpressionAttributeValues: dynamo.Item{":p": dynamo.Key("none", "")["PK"]}})
		return err
	}, dynamotest.Usage{Requests: 1, ReadUnits: 0.5})
	step("a delete", func() error { return tb.Delete(ctx, "A", "1") },
		dynamotest.Usage{Requests: 1, WriteUnits: 2, IndexWriteUnits: 1})
}

// QunyunIndexes are the template's.
func TestMeterKnowsTheTemplatesIndexes(t *testing.T) {
	root, err := host.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var got []dynamotest.Index
	for _, ix := range tpl.Tables[0].GlobalSecondaryIndexes {
		if ix.ProjectionType != "ALL" || len(ix.KeySchema) != 2 {
			t.Fatalf("index %s: the meter sizes entries as whole items with two keys", ix.Name)
		}
		got = append(got, dynamotest.Index{PK: ix.KeySchema[0].Name, SK: ix.KeySchema[1].Name})
	}
	if !slices.Equal(got, dynamotest.QunyunIndexes) {
		t.Fatalf("template indexes %v, meter's %v", got, dynamotest.QunyunIndexes)
	}
}
