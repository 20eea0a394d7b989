package dynalite_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/dynalite"
	"github.com/qunyun/qunyun/internal/local/host"
	"github.com/qunyun/qunyun/internal/syncbuf"
)

// TestEngineSurvivesAbortedRequests aborts 100 requests in the ways a
// client goes away — mid-body with a FIN, mid-body with a RST, and right
// after a whole PutItem (a Lambda timing out while the engine writes) —
// interleaved with PutItem calls through the SDK. dynalite alone dies on
// the first one; through the launcher the engine still answers afterwards
// and holds every write it acknowledged.
func TestEngineSurvivesAbortedRequests(t *testing.T) {
	t.Parallel()
	root, err := host.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	var log syncbuf.Buffer
	ctx := context.Background()
	e, err := dynalite.Start(ctx, dynalite.Options{Root: root, Addr: "127.0.0.1:0", Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	u, err := url.Parse(e.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamotest.NewClient(e.Endpoint)
	const table = "aborts"
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("create table: %v", err)
	}

	const n = 100
	accepted := make([]bool, n)
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8) // a few of each at a time, so they overlap
	for i := range n {
		slots <- struct{}{}
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := abortRequest(u.Host, table, abortKind(i%3), i); err != nil {
				t.Errorf("abort %d: %v", i, err)
			}
		}()
		go func() {
			defer func() { <-slots; wg.Done() }()
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String(table),
				Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(i)}},
			})
			if err != nil {
				t.Errorf("put %d while requests abort: %v", i, err)
				return
			}
			accepted[i] = true
		}()
	}
	wg.Wait()

	for i, ok := range accepted {
		if !ok {
			continue
		}
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(i)}},
		})
		if err != nil {
			t.Fatalf("engine no longer answers after the aborts: %v\n%s", err, log.String())
		}
		if out.Item == nil {
			t.Errorf("%s was acknowledged but is not stored", key(i))
		}
	}
	if !strings.Contains(log.String(), "dropped by their clients") {
		t.Errorf("the engine never saw an aborted request, so the test proves nothing; its log:\n%s", log.String())
	}
}

func key(i int) string { return fmt.Sprintf("put-%03d", i) }

type abortKind int

const (
	closeMidBody abortKind = iota // FIN before the body is complete
	resetMidBody                  // RST before the body is complete
	resetAtOnce                   // RST right after a complete PutItem, before its answer
)

// abortRequest starts a PutItem on a raw connection and drops it. It waits
// for the engine's "100 Continue" before the body, so the engine is known
// to hold the request when the connection goes.
func abortRequest(host, table string, kind abortKind, i int) error {
	conn, err := net.Dial("tcp", host)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second)) // wallclock: a stuck engine fails the test instead of hanging it
	body := fmt.Sprintf(`{"TableName":%q,"Item":{"pk":{"S":"abort-%03d"}}}`, table, i)
	length := len(body)
	if kind != resetAtOnce {
		length += 100 // promise more than will come
	}
	// dynalite checks only that a signature is present, not its value.
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.0\r\n"+
		"X-Amz-Target: DynamoDB_20120810.PutItem\r\nX-Amz-Date: 20260101T000000Z\r\n"+
		"Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\n"+
		"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n", host, length)
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("wait for 100 Continue: %w", err)
	}
	if !strings.Contains(status, " 100 ") {
		return fmt.Errorf("want 100 Continue, got %q", status)
	}
	if _, err := conn.Write([]byte(body)); err != nil {
		return fmt.Errorf("send body: %w", err)
	}
	if kind != closeMidBody {
		conn.(*net.TCPConn).SetLinger(0) // Close sends RST
	}
	return nil
}
