package local

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/dynamo/localtable"
)

// warmRounds is how many rounds of writes, reads and queries warmEngine
// sends: about 4,000 requests, a second or two of a fresh dynalite.
const warmRounds = 1000

// warmEngine exercises a freshly started dynalite until node has compiled
// its hot paths. A cold dynalite serves its first few thousand requests
// several times slower than later ones: 200 callbacks a second into a
// fresh stack answered in 100-500 ms for their first one or two seconds,
// and in 2-20 ms once warm (docs/performance.md). DynamoDB itself has no
// such start, so the stack takes it before it says it is up. It works in
// a table of its own, the template's shape, which it deletes after.
func (s *Stack) warmEngine(ctx context.Context) error {
	began := time.Now() // wallclock: how long the warm-up took, for the log
	db := localtable.Client(s.endpoints.DynamoDB)
	name := s.endpoints.TableName + "-warmup"
	if err := localtable.CreateTable(ctx, db, s.tpl.Tables[0], name); err != nil {
		return err
	}
	const workers = 4
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < warmRounds; i += workers {
				if err := warmRound(ctx, db, name, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	err := <-errs
	if derr := localtable.DeleteTable(ctx, db, name); err == nil {
		err = derr
	}
	if err == nil {
		s.log.Info("dynalite warmed up", "requests", warmRounds*4, "took", time.Since(began).Round(time.Millisecond)) // wallclock: see began
	}
	return err
}

// warmRound is one item's conditional put, update, read and query (by its
// table key and by GSI1), the kinds of request the functions send.
func warmRound(ctx context.Context, db *dynamodb.Client, table string, i int) error {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	pk, sk := s("WARMUP#"+strconv.Itoa(i%50)), s("ITEM#"+strconv.Itoa(i))
	key := map[string]types.AttributeValue{"PK": pk, "SK": sk}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table), ConditionExpression: aws.String("attribute_not_exists(PK)"),
		Item: map[string]types.AttributeValue{"PK": pk, "SK": sk, "GSI1PK": s("WARMUP"), "GSI1SK": sk,
			"text": s("群里今天的分享很有收获，谢谢老师 🙏")},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes,
	}); err != nil {
		return fmt.Errorf("warm up dynalite: %w", err)
	}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: key, UpdateExpression: aws.String("SET #t = :t ADD #n :one"),
		ExpressionAttributeNames:  map[string]string{"#t": "at", "#n": "count"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": s("2026-01-01T00:00:00Z"), ":one": &types.AttributeValueMemberN{Value: "1"}},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityIndexes,
	}); err != nil {
		return fmt.Errorf("warm up dynalite: %w", err)
	}
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)}); err != nil {
		return fmt.Errorf("warm up dynalite: %w", err)
	}
	_, err := db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String("GSI1"), Limit: aws.Int32(10),
		KeyConditionExpression:    aws.String("GSI1PK = :p AND begins_with(GSI1SK, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("WARMUP"), ":s": s("ITEM#")},
	})
	if err != nil {
		return fmt.Errorf("warm up dynalite: %w", err)
	}
	return nil
}
