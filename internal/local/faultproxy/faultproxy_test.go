package faultproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/faultproxy"
)

// backend counts what reaches it and answers "ok".
func backend(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Header.Get("X-Amz-Target"))
		w.Write(append([]byte("ok:"), body...))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func start(t *testing.T, target string, opts faultproxy.Options) *faultproxy.Server {
	t.Helper()
	p, err := faultproxy.New(target, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := faultproxy.Start("127.0.0.1:0", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func TestPassesThroughAtRateZero(t *testing.T) {
	be, hits := backend(t)
	s := start(t, be.URL, faultproxy.Options{Rate: 0})
	for i := range 50 {
		req, _ := http.NewRequest("POST", s.URL+"/", strings.NewReader("body"))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok:body" || resp.Header.Get("X-Echo") != "DynamoDB_20120810.PutItem" {
			t.Fatalf("request %d: %d %q %q, want the backend's answer unchanged", i, resp.StatusCode, b, resp.Header.Get("X-Echo"))
		}
	}
	if hits.Load() != 50 {
		t.Errorf("backend saw %d requests, want 50", hits.Load())
	}
	if st := s.Stats(); st.Passed != 50 || len(st.Injected) != 0 {
		t.Errorf("stats %+v, want 50 passed and nothing injected", st)
	}
}

func TestInjectsAtConfiguredRate(t *testing.T) {
	be, hits := backend(t)
	const n, rate = 2000, 0.2
	s := start(t, be.URL, faultproxy.Options{Rate: rate, Faults: []faultproxy.Fault{faultproxy.Throttle, faultproxy.ServerError}, Seed: 7})
	statuses := map[int]int{}
	for range n {
		resp, err := http.Post(s.URL+"/", "application/x-amz-json-1.0", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode]++
	}
	failed := n - statuses[200]
	// Binomial(2000, 0.2): sd ≈ 18; 5 sd either side.
	if math.Abs(float64(failed)-n*rate) > 90 {
		t.Errorf("%d of %d requests failed, want about %v (statuses %v)", failed, n, n*rate, statuses)
	}
	if int(hits.Load()) != statuses[200] {
		t.Errorf("backend saw %d requests, want only the %d that passed", hits.Load(), statuses[200])
	}
	for _, code := range []int{400, 500, 503} {
		if statuses[code] == 0 {
			t.Errorf("no %d among %v: both throttling bodies and both 5xx should appear", code, statuses)
		}
	}
	st := s.Stats()
	if st.Total() != n || int(st.Passed) != statuses[200] {
		t.Errorf("stats %+v disagree with what the client saw %v", st, statuses)
	}
}

func TestSameSeedSameFaults(t *testing.T) {
	be, _ := backend(t)
	pattern := func() string {
		s := start(t, be.URL, faultproxy.Options{Rate: 0.3, Faults: []faultproxy.Fault{faultproxy.Throttle}, Seed: 42})
		var b strings.Builder
		for range 100 {
			resp, err := http.Get(s.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				b.WriteByte('.')
			} else {
				b.WriteByte('x')
			}
		}
		return b.String()
	}
	if a, b := pattern(), pattern(); a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
}

func TestThrottleBodyIsDynamoDBs(t *testing.T) {
	be, _ := backend(t)
	s := start(t, be.URL, faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Throttle}})
	resp, err := http.Post(s.URL+"/", "application/x-amz-json-1.0", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || !strings.HasPrefix(body.Type, "com.amazonaws.dynamodb.v20120810#") || body.Message == "" {
		t.Errorf("got %d %+v, want 400 and a DynamoDB error body", resp.StatusCode, body)
	}
}

func TestTimeoutDropsWithoutForwarding(t *testing.T) {
	be, hits := backend(t)
	s := start(t, be.URL, faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Timeout}, Hold: 50 * time.Millisecond})
	began := time.Now() // wallclock: a lower bound: load only lengthens it
	_, err := http.Post(s.URL+"/", "text/plain", strings.NewReader("x"))
	if err == nil {
		t.Fatal("want a transport error for a dropped connection")
	}
	if time.Since(began) < 50*time.Millisecond {
		t.Errorf("dropped after %v, want the hold first", time.Since(began))
	}
	if hits.Load() != 0 {
		t.Errorf("backend saw %d requests; a timeout must not forward", hits.Load())
	}
}

// The SDK against dynalite through the proxy: throttling surfaces as the
// typed error, and a lost answer still writes the item.
func TestDynamoDBThroughProxy(t *testing.T) {
	tb := dynamotest.NewTable(t, clock.NewManual(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	client := func(url string) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(url),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
			// One attempt, so the test sees the proxy's answer and not the SDK's retry.
			RetryMaxAttempts: 1,
		})
	}
	put := func(c *dynamodb.Client, sk string) error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tb.Name), Item: dynamo.Item{
			"PK": &types.AttributeValueMemberS{Value: "T"}, "SK": &types.AttributeValueMemberS{Value: sk},
		}})
		return err
	}

	throttled := start(t, dynamotest.Endpoint(t), faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Throttle}})
	err := put(client(throttled.URL), "A")
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || (apiErr.ErrorCode() != "ThrottlingException" && apiErr.ErrorCode() != "ProvisionedThroughputExceededException") {
		t.Fatalf("put through throttling proxy: %v, want a throttling API error", err)
	}

	lost := start(t, dynamotest.Endpoint(t), faultproxy.Options{Rate: 1, Faults: []faultproxy.Fault{faultproxy.LostAnswer}})
	if err := put(client(lost.URL), "B"); err == nil {
		t.Fatal("put through lost-answer proxy succeeded, want a transport error")
	}
	var got struct{ SK string }
	found, err := tb.Get(ctx, "T", "B", &got)
	if err != nil || !found {
		t.Fatalf("item B after a lost answer: found=%v err=%v, want it written", found, err)
	}
	if found, _ := tb.Get(ctx, "T", "A", &got); found {
		t.Error("item A was written through a throttling proxy")
	}

	clean := start(t, dynamotest.Endpoint(t), faultproxy.Options{Rate: 0})
	if err := put(client(clean.URL), "C"); err != nil {
		t.Fatalf("put through clean proxy: %v", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		target string
		opts   faultproxy.Options
	}{
		{"127.0.0.1:8000", faultproxy.Options{}},
		{"http://127.0.0.1:8000", faultproxy.Options{Rate: 1.5}},
		{"http://127.0.0.1:8000", faultproxy.Options{Rate: -0.1}},
		{"http://127.0.0.1:8000", faultproxy.Options{Faults: []faultproxy.Fault{"melt"}}},
	} {
		if _, err := faultproxy.New(tc.target, tc.opts); err == nil {
			t.Errorf("New(%q, %+v) succeeded, want an error", tc.target, tc.opts)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]float64{"0.05": 0.05, "5%": 0.05, "0": 0, "1": 1} {
		if got, err := faultproxy.ParseRate(in); err != nil || math.Abs(got-want) > 1e-9 {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "2", "-1%", "150%"} {
		if _, err := faultproxy.ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) succeeded", bad)
		}
	}
	if f, err := faultproxy.ParseFaults("throttle, 5xx"); err != nil || len(f) != 2 {
		t.Errorf("ParseFaults: %v %v", f, err)
	}
	if _, err := faultproxy.ParseFaults("throttle,boom"); err == nil {
		t.Error("ParseFaults accepted boom")
	}
}

func TestParseSpec(t *testing.T) {
	if _, ok, err := faultproxy.ParseSpec(""); ok || err != nil {
		t.Errorf("empty spec: ok=%v err=%v, want no proxy", ok, err)
	}
	o, ok, err := faultproxy.ParseSpec("5%:throttle,lost")
	if !ok || err != nil || math.Abs(o.Rate-0.05) > 1e-9 || len(o.Faults) != 2 || o.Faults[1] != faultproxy.LostAnswer {
		t.Errorf("ParseSpec: %+v %v %v", o, ok, err)
	}
	o, ok, err = faultproxy.ParseSpec("0.1")
	if !ok || err != nil || len(o.Faults) != len(faultproxy.AllFaults) {
		t.Errorf("bare rate: %+v %v %v, want every fault", o, ok, err)
	}
	for _, bad := range []string{"x", "0.1:melt", "2"} {
		if _, _, err := faultproxy.ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) succeeded", bad)
		}
	}
}
