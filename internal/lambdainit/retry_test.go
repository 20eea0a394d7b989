package lambdainit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A throttled or failing DynamoDB request is tried four times, and the
// waits between the tries stay short enough for a callback's 5 s.
func TestDynamoRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int32 // answers that fail before one succeeds
		wantTry  int32
		wantErr  bool
	}{
		{"recovers on the fourth try", 3, 4, false},
		{"gives up after four tries", 100, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tries atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				if tries.Add(1) <= tc.failures {
					w.WriteHeader(http.StatusBadRequest)
					w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`))
					return
				}
				w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			db := dynamodb.New(dynamodb.Options{
				Region: "cn-north-1", BaseEndpoint: aws.String(srv.URL), Retryer: dynamoRetryer(),
				Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
					return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
				}),
			})
			_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"),
				Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "p"}, "SK": &types.AttributeValueMemberS{Value: "s"}}})
			if (err != nil) != tc.wantErr || tries.Load() != tc.wantTry {
				t.Errorf("tries %d err %v, want %d tries and error %v", tries.Load(), err, tc.wantTry, tc.wantErr)
			}
		})
	}
}

func TestDynamoBackoffIsShort(t *testing.T) {
	for attempt, most := range map[int]time.Duration{1: 50 * time.Millisecond, 2: 100 * time.Millisecond, 3: 200 * time.Millisecond, 10: 400 * time.Millisecond} {
		for range 1000 {
			d, err := dynamoBackoff(attempt, nil)
			if err != nil || d < 0 || d > most {
				t.Fatalf("attempt %d: wait %v (%v), want at most %v", attempt, d, err, most)
			}
		}
	}
}
