package wechatapi_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// lostLease loses the answer of the first lease write DynamoDB applies.
// With retry set the caller then sees what the SDK's own retry gets (the
// write sent again); else it sees an error, as when every retry failed.
type lostLease struct {
	dynamo.API
	retry bool
	lost  atomic.Bool
}

func (l *lostLease) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := l.API.UpdateItem(ctx, in, opts...)
	isLease := strings.Contains(*in.UpdateExpression, "leaseUntilMs =")
	if err != nil || !isLease || l.lost.Swap(true) {
		return out, err
	}
	if l.retry {
		return l.API.UpdateItem(ctx, in, opts...)
	}
	return nil, errors.New("injected: connection reset after the write")
}

// The lease write is applied but its answer is lost: its holder still takes
// it (the lease accepts the owner it names), fetches once, and all 50
// senders send, instead of everyone waiting for a lease nobody knows it holds.
func TestTokenLeaseSurvivesALostAnswer(t *testing.T) {
	for _, retry := range []bool{true, false} {
		name := map[bool]string{true: "sdk retry", false: "error"}[retry]
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			tb := dynamotest.NewTable(t, r.clk)
			lossy := &dynamo.Table{DB: &lostLease{API: tb.DB, retry: retry}, Name: tb.Name, Now: tb.Now}
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- r.client(dynamo.Tokens{Table: lossy}).CustomSend(context.Background(), oaAccount, "openid", wechatapi.Message{Text: "你好"})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if n := len(r.sbx.Calls("/cgi-bin/stable_token")); n != 1 {
				t.Fatalf("token fetched %d times, want 1", n)
			}
			if n := len(r.sbx.Calls("/cgi-bin/message/custom/send")); n != 50 {
				t.Fatalf("%d sends, want 50", n)
			}
		})
	}
}
