package dynamo_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/dynamo"
)

type note struct {
	dynamo.Keys
	Text string `dynamodbav:"text"`
}

func TestPutNewIsIdempotentUnderConcurrency(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	var created atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := tb.PutNew(ctx, note{Keys: dynamo.Keys{PK: "A", SK: "1"}, Text: "hi"})
			if err != nil {
				t.Error(err)
			}
			if ok {
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	if created.Load() != 1 {
		t.Fatalf("created %d times, want 1", created.Load())
	}
	var got note
	found, err := tb.Get(ctx, "A", "1", &got)
	if err != nil || !found || got.Text != "hi" {
		t.Fatalf("get: %v %v %+v", found, err, got)
	}
}

func TestQueryPagesPrefixAndTTL(t *testing.T) {
	tb := newTable(t)
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	tb.Now = func() time.Time { return now }
	ctx := context.Background()
	big := string(make([]byte, 30000)) // force several 1 MB pages
	for i := 0; i < 60; i++ {
		n := note{Keys: dynamo.Keys{PK: "P", SK: "MSG#" + string(rune('A'+i%26)) + string(rune('a'+i/26)), GSI1PK: "G", GSI1SK: "x"}, Text: big}
		if i == 5 {
			n.ExpiresAt = now.Add(-time.Minute).Unix() // expired: must not be read
		}
		if err := tb.Put(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	tb.Put(ctx, note{Keys: dynamo.Keys{PK: "P", SK: "OTHER"}})
	got, err := dynamo.QueryInto[note](ctx, tb, dynamo.Query{PK: "P", SKPrefix: "MSG#"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 59 {
		t.Fatalf("query = %d items, want 59", len(got))
	}
	onIndex, err := tb.QueryItems(ctx, dynamo.Query{Index: dynamo.GSI1, PK: "G", Limit: 10})
	if err != nil || len(onIndex) != 10 {
		t.Fatalf("index query = %d, %v", len(onIndex), err)
	}
	var n note
	if found, _ := tb.Get(ctx, "P", "MSG#Fa", &n); found {
		t.Fatal("expired item was returned by Get")
	}
}

// lostAnswer applies the first PutItem and loses its answer: like the SDK,
// it retries, and the retry's condition fails.
type lostAnswer struct {
	dynamo.API
	lost bool
}

func (l *lostAnswer) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if !l.lost {
		l.lost = true
		if _, err := l.API.PutItem(ctx, in, opts...); err != nil {
			return nil, err
		}
	}
	return l.API.PutItem(ctx, in, opts...)
}

// UpdateItem of lostAnswer does the same for the first update.
func (l *lostAnswer) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if !l.lost {
		l.lost = true
		if _, err := l.API.UpdateItem(ctx, in, opts...); err != nil {
			return nil, err
		}
	}
	return l.API.UpdateItem(ctx, in, opts...)
}

func TestPutNewSurvivesALostAnswer(t *testing.T) {
	real := newTable(t)
	ctx := context.Background()
	lossy := &dynamo.Table{DB: &lostAnswer{API: real.DB}, Name: real.Name, Now: real.Now}

	created, err := lossy.PutNew(ctx, note{Keys: dynamo.Keys{PK: "A", SK: "1"}, Text: "first"})
	if err != nil || !created {
		t.Fatalf("first delivery with a lost answer: created=%v err=%v, want created", created, err)
	}
	// A true duplicate (a WeChat retry: a new call) is still a duplicate.
	created, err = lossy.PutNew(ctx, note{Keys: dynamo.Keys{PK: "A", SK: "1"}, Text: "retry"})
	if err != nil || created {
		t.Fatalf("duplicate: created=%v err=%v, want not created", created, err)
	}
	var got note
	real.Get(ctx, "A", "1", &got)
	if got.Text != "first" {
		t.Fatalf("stored %q, want the first write", got.Text)
	}
}
