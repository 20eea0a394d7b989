package capacity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/capacity"
)

var indexes = []capacity.Index{{Name: "GSI1", Keys: []string{"GSI1PK", "GSI1SK"}}, {Name: "GSI2", Keys: []string{"GSI2PK", "GSI2SK"}}}

// meterTable puts a meter in front of the shared dynalite and returns a
// client through it and a fresh table with the template's design.
func meterTable(t *testing.T) (*capacity.Server, *dynamodb.Client, string) {
	t.Helper()
	direct := dynamotest.Client(t)
	name := "capacity-" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-")
	if err := dynamotest.CreateFromTemplate(context.Background(), direct, name); err != nil {
		t.Fatal(err)
	}
	m, err := capacity.New(dynamotest.Endpoint(t), capacity.Options{Indexes: indexes})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := capacity.Start("127.0.0.1:0", m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv, dynamotest.NewClient(srv.URL), name
}

// traced sends a request as an invocation with this trace would: the SDK
// in Lambda puts _X_AMZN_TRACE_ID into X-Amzn-Trace-Id.
func traced(trace string) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.SetHeaderValue("X-Amzn-Trace-Id", trace))
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

const trace = "Root=1-6756a0c0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"

// Each operation the functions use, through the SDK (which checks the
// answer's CRC), costs what on-demand DynamoDB bills, and the caller gets
// the answer it asked for.
func TestMeterCountsWhatDynamoDBBills(t *testing.T) {
	srv, db, table := meterTable(t)
	ctx := context.Background()
	done := srv.Track(trace, "join")
	tr := traced(trace)

	cost := func(t *testing.T, do func() error) capacity.Usage {
		t.Helper()
		before := srv.Snapshot()
		if err := do(); err != nil {
			t.Fatal(err)
		}
		return srv.Snapshot().Sub(before).ByKind["join"]
	}
	member := map[string]types.AttributeValue{"PK": s("GROUP#g1"), "SK": s("MEMBER#m1"), "GSI1PK": s("MEMBER#m1"), "GSI1SK": s("GROUP#g1"), "v": s("1")}

	t.Run("a new indexed item: the table and one index", func(t *testing.T) {
		var out *dynamodb.PutItemOutput
		u := cost(t, func() (err error) {
			out, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: member}, tr)
			return err
		})
		if u.WriteUnits != 2 || u.IndexWriteUnits != 1 || u.Requests != 1 || u.Operations["PutItem"] != 1 {
			t.Errorf("cost %+v, want 2 WRU of which 1 for the index", u)
		}
		if out.ConsumedCapacity != nil || out.Attributes != nil {
			t.Errorf("the caller asked for neither capacity nor old values: %+v", out)
		}
	})
	t.Run("an update of an indexed item", func(t *testing.T) {
		u := cost(t, func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table,
				Key:              map[string]types.AttributeValue{"PK": s("GROUP#g1"), "SK": s("MEMBER#m1")},
				UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("2")},
			}, tr)
			return err
		})
		if u.WriteUnits != 2 || u.IndexWriteUnits != 1 {
			t.Errorf("cost %+v, want 2 WRU", u)
		}
	})
	t.Run("a put that moves the item in its index", func(t *testing.T) {
		moved := map[string]types.AttributeValue{"PK": s("GROUP#g1"), "SK": s("MEMBER#m1"), "GSI1PK": s("MEMBER#m1"), "GSI1SK": s("GROUP#g2")}
		u := cost(t, func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: moved}, tr)
			return err
		})
		if u.WriteUnits != 3 || u.IndexWriteUnits != 2 {
			t.Errorf("cost %+v, want 3 WRU: the table, the old entry's delete and the new one's put", u)
		}
	})
	t.Run("a refused conditional write costs 1 WRU", func(t *testing.T) {
		before := srv.Snapshot()
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: member,
			ConditionExpression: aws.String("attribute_not_exists(PK)")}, tr)
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			t.Fatalf("err = %v, want the condition's failure", err)
		}
		u := srv.Snapshot().Sub(before).ByKind["join"]
		if u.WriteUnits != 1 || u.ConditionalFailures != 1 || u.IndexWriteUnits != 0 {
			t.Errorf("cost %+v, want 1 WRU and one conditional failure", u)
		}
	})
	t.Run("reads: strongly consistent, eventually, and of nothing", func(t *testing.T) {
		key := map[string]types.AttributeValue{"PK": s("GROUP#g1"), "SK": s("MEMBER#m1")}
		if u := cost(t, func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)}, tr)
			return err
		}); u.ReadUnits != 1 || u.WriteUnits != 0 {
			t.Errorf("consistent GetItem %+v, want 1 RRU", u)
		}
		if u := cost(t, func() error {
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key}, tr)
			return err
		}); u.ReadUnits != 0.5 {
			t.Errorf("eventually consistent GetItem %+v, want 0.5 RRU", u)
		}
		if u := cost(t, func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("GROUP#none")}, ConsistentRead: aws.Bool(true)}, tr)
			return err
		}); u.ReadUnits != 1 {
			t.Errorf("a strongly consistent Query of nothing %+v, want the minimum, 1 RRU", u)
		}
	})
	t.Run("a caller that asks for capacity gets it", func(t *testing.T) {
		big := map[string]types.AttributeValue{"PK": s("GROUP#g1"), "SK": s("BIG"), "text": s(strings.Repeat("x", 1500))}
		var out *dynamodb.PutItemOutput
		u := cost(t, func() (err error) {
			out, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: big, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}, tr)
			return err
		})
		if out.ConsumedCapacity == nil || aws.ToFloat64(out.ConsumedCapacity.CapacityUnits) != 2 || u.WriteUnits != 2 {
			t.Errorf("a 1.5 KB item: answer %+v, counted %+v; want 2 WRU in both", out.ConsumedCapacity, u)
		}
	})
	t.Run("a delete leaves the index", func(t *testing.T) {
		u := cost(t, func() error {
			_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table,
				Key: map[string]types.AttributeValue{"PK": s("GROUP#g1"), "SK": s("MEMBER#m1")}}, tr)
			return err
		})
		if u.WriteUnits != 2 || u.IndexWriteUnits != 1 {
			t.Errorf("cost %+v, want 2 WRU", u)
		}
	})

	done()
	// After its invocation, and without one, a request is not the event's.
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{"PK": s("x"), "SK": s("y")}}, tr); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{"PK": s("x"), "SK": s("y")}}); err != nil {
		t.Fatal(err)
	}
	snap := srv.Snapshot()
	if got := snap.ByKind["join"].Invocations; got != 1 {
		t.Errorf("invocations of join = %d, want 1", got)
	}
	if snap.ByKind[capacity.Unknown].Requests != 1 || snap.ByKind[capacity.Untraced].Requests != 1 {
		t.Errorf("after the invocation: %+v, want one unknown and one untraced request", snap.ByKind)
	}
}

func TestTraceRoot(t *testing.T) {
	for in, want := range map[string]string{
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1": "1-5759e988-bd862e3fe1be46a994272793",
		"Parent=53995c3f42cd8ad8;Root=1-a-b":                                         "1-a-b",
		"Root%3D1-a-b%3BSampled%3D0":                                                 "1-a-b",
		"opaque":                                                                     "opaque",
	} {
		if got := capacity.TraceRoot(in); got != want {
			t.Errorf("TraceRoot(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkMeter is the meter's cost on the way to dynalite: a member's
// put (with its index entry) and a consistent query of its group, through
// the meter and directly, alternating in one run. x-direct is the
// meter's time over the direct time.
func BenchmarkMeter(b *testing.B) {
	direct := dynamotest.Client(b)
	table := "capacity-bench"
	if err := dynamotest.CreateFromTemplate(context.Background(), direct, table); err != nil && !strings.Contains(err.Error(), "ResourceInUse") {
		b.Fatal(err)
	}
	m, err := capacity.New(dynamotest.Endpoint(b), capacity.Options{Indexes: indexes})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := capacity.Start("127.0.0.1:0", m)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(context.Background())
	metered := dynamotest.NewClient(srv.URL)
	defer srv.Track(trace, "bench")()
	ctx := context.Background()
	step := func(db *dynamodb.Client, i int) {
		id := "m" + strings.Repeat("x", i%7)
		item := map[string]types.AttributeValue{"PK": s("GROUP#bench"), "SK": s("MEMBER#" + id), "GSI1PK": s("MEMBER#" + id), "GSI1SK": s("GROUP#bench"), "name": s("成员" + id)}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}, traced(trace)); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("GROUP#bench")}, ConsistentRead: aws.Bool(true)}, traced(trace)); err != nil {
			b.Fatal(err)
		}
	}
	var viaMeter, viaDirect time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now() // wallclock: benchmark timing
		step(metered, i)
		t1 := time.Now() // wallclock: benchmark timing
		step(direct, i)
		viaMeter += t1.Sub(t0)
		viaDirect += time.Since(t1) // wallclock: benchmark timing
		i++
	}
	b.ReportMetric(float64(viaMeter.Microseconds())/float64(i), "meter-us/op")
	b.ReportMetric(float64(viaDirect.Microseconds())/float64(i), "direct-us/op")
	b.ReportMetric(float64(viaMeter)/float64(viaDirect), "x-direct")
}
