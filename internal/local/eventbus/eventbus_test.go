package eventbus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/qunyun/qunyun/internal/local/eventbus"
)

// fakeClock stands still until set.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

type call struct {
	Function string
	Payload  string
}

// fakeInvoker records invocations and fails for the functions in fail.
type fakeInvoker struct {
	mu    sync.Mutex
	calls []call
	fail  map[string]bool
	seen  chan call // optional: each call is also sent here
}

func (f *fakeInvoker) Invoke(_ context.Context, function string, payload []byte) error {
	c := call{function, string(payload)}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.seen != nil {
		f.seen <- c
	}
	if f.fail[function] {
		return errors.New("function crashed")
	}
	return nil
}

func (f *fakeInvoker) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// sequentialIDs returns id-1, id-2, ...
func sequentialIDs() func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("id-%d", n)
	}
}

var monday = time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)

func newBus(t *testing.T, cfg eventbus.Config) *eventbus.Bus {
	t.Helper()
	if cfg.NewID == nil {
		cfg.NewID = sequentialIDs()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b, err := eventbus.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

var rules = []eventbus.Rule{
	{Function: "PushFunction", Pattern: []byte(`{"source": ["qunyun"], "detail-type": ["SessionOpened", "DeliveryRequested"]}`)},
	{Function: "SessionFunction", Pattern: []byte(`{"source": ["qunyun"], "detail-type": ["MemberJoined"]}`)},
	{Function: "ScoringFunction", EventBusName: "qunyun-dev", Pattern: []byte(`{"detail": {"group": [{"prefix": "vip-"}]}}`)},
}

// sdkClient returns an eventbridge client that reaches url the way a
// function does: through AWS_ENDPOINT_URL_EVENTBRIDGE.
func sdkClient(t *testing.T, url string) *eventbridge.Client {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", url)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("ap-northeast-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", "")),
	)
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return eventbridge.NewFromConfig(cfg)
}

func TestPutEventsWithSDKClient(t *testing.T) {
	inv := &fakeInvoker{}
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: &fakeClock{now: monday}, Rules: rules, Region: "ap-northeast-1"})
	srv := httptest.NewServer(b)
	defer srv.Close()
	client := sdkClient(t, srv.URL)

	eventTime := time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC)
	out, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("qunyun"), DetailType: aws.String("SessionOpened"), Detail: aws.String(`{"id": "s-1", "group": "g-1"}`), Time: aws.Time(eventTime)},
		{Source: aws.String("qunyun"), DetailType: aws.String("ScoresComputed"), Detail: aws.String(`{"id": "sc-1"}`)},
		{Source: aws.String("qunyun"), DetailType: aws.String("MemberJoined")}, // no Detail
		{Source: aws.String("qunyun"), DetailType: aws.String("MemberJoined"), Detail: aws.String(`not json`)},
		{Source: aws.String("qunyun"), DetailType: aws.String("MemberJoined"), Detail: aws.String(`{"id": "m-1"}`), EventBusName: aws.String("nope")},
		{Source: aws.String("qunyun"), DetailType: aws.String("GroupScored"), Detail: aws.String(`{"group": "vip-7"}`),
			EventBusName: aws.String("arn:aws:events:ap-northeast-1:123456789012:event-bus/qunyun-dev"), Resources: []string{"arn:group/vip-7"}},
	}})
	if err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	b.Wait()

	if out.FailedEntryCount != 3 || len(out.Entries) != 6 {
		t.Fatalf("FailedEntryCount = %d, entries = %d; want 3 of 6", out.FailedEntryCount, len(out.Entries))
	}
	wantCodes := []string{"", "", "InvalidArgument", "MalformedDetail", "ResourceNotFoundException", ""}
	for i, e := range out.Entries {
		if got := aws.ToString(e.ErrorCode); got != wantCodes[i] {
			t.Errorf("entry %d: ErrorCode %q (%s), want %q", i, got, aws.ToString(e.ErrorMessage), wantCodes[i])
		}
		if (aws.ToString(e.EventId) == "") != (wantCodes[i] != "") {
			t.Errorf("entry %d: EventId %q with ErrorCode %q", i, aws.ToString(e.EventId), wantCodes[i])
		}
	}

	calls := inv.Calls()
	if len(calls) != 2 {
		t.Fatalf("got %d invocations %v, want 2 (PushFunction, ScoringFunction)", len(calls), calls)
	}
	byFunc := map[string]string{}
	for _, c := range calls {
		byFunc[c.Function] = c.Payload
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(byFunc["PushFunction"]), &env); err != nil {
		t.Fatalf("PushFunction payload %q: %v", byFunc["PushFunction"], err)
	}
	want := map[string]any{
		"version": "0", "id": aws.ToString(out.Entries[0].EventId), "detail-type": "SessionOpened", "source": "qunyun",
		"account": "123456789012", "time": "2026-11-23T01:02:03Z", "region": "ap-northeast-1",
		"resources": []any{}, "detail": map[string]any{"id": "s-1", "group": "g-1"},
	}
	if fmt.Sprint(env) != fmt.Sprint(want) {
		t.Errorf("PushFunction envelope\n got %v\nwant %v", env, want)
	}
	if !strings.Contains(byFunc["ScoringFunction"], `"resources":["arn:group/vip-7"]`) ||
		!strings.Contains(byFunc["ScoringFunction"], `"time":"2026-11-23T01:00:00Z"`) {
		t.Errorf("ScoringFunction envelope %s: want its resources and the clock's time", byFunc["ScoringFunction"])
	}
}

func TestPutEventsErrors(t *testing.T) {
	b := newBus(t, eventbus.Config{Invoker: &fakeInvoker{}, Clock: &fakeClock{now: monday}, Rules: rules})
	srv := httptest.NewServer(b)
	defer srv.Close()

	t.Run("more than ten entries is a ValidationException", func(t *testing.T) {
		client := sdkClient(t, srv.URL)
		entries := make([]types.PutEventsRequestEntry, 11)
		for i := range entries {
			entries[i] = types.PutEventsRequestEntry{Source: aws.String("qunyun"), DetailType: aws.String("X"), Detail: aws.String(`{}`)}
		}
		_, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
			t.Fatalf("err = %v, want a ValidationException", err)
		}
	})

	tests := []struct {
		name, method, target, body string
		status                     int
		code                       string
	}{
		{"another operation", http.MethodPost, "AWSEvents.PutRule", `{}`, http.StatusBadRequest, "UnknownOperationException"},
		{"GET", http.MethodGet, "AWSEvents.PutEvents", ``, http.StatusMethodNotAllowed, "UnknownOperationException"},
		{"bad JSON", http.MethodPost, "AWSEvents.PutEvents", `{"Entries": [`, http.StatusBadRequest, "SerializationException"},
		{"no entries", http.MethodPost, "AWSEvents.PutEvents", `{"Entries": []}`, http.StatusBadRequest, "ValidationException"},
		{"bad time", http.MethodPost, "AWSEvents.PutEvents", `{"Entries": [{"Source": "a", "DetailType": "b", "Detail": "{}", "Time": true}]}`, http.StatusBadRequest, "SerializationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Target", tt.target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("decode error body: %v", err)
			}
			if resp.StatusCode != tt.status || body.Type != tt.code || body.Message == "" {
				t.Errorf("got %d %q %q, want %d %q with a message", resp.StatusCode, body.Type, body.Message, tt.status, tt.code)
			}
		})
	}
}

func TestPutEventsRawWire(t *testing.T) {
	// The JSON 1.1 body as the SDKs send it: Time in epoch seconds.
	inv := &fakeInvoker{}
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: &fakeClock{now: monday}, Rules: rules})
	srv := httptest.NewServer(b)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(
		`{"Entries":[{"Source":"qunyun","DetailType":"DeliveryRequested","Detail":"{\"id\":\"d-1\"}","Time":1.7951616E9}]}`))
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		FailedEntryCount int
		Entries          []struct{ EventId string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" || out.FailedEntryCount != 0 || len(out.Entries) != 1 || out.Entries[0].EventId != "id-1" {
		t.Fatalf("response %+v (%s), want one EventId id-1", out, resp.Header.Get("Content-Type"))
	}
	b.Wait()
	calls := inv.Calls()
	if len(calls) != 1 || calls[0].Function != "PushFunction" || !strings.Contains(calls[0].Payload, `"time":"2026-11-20T08:00:00Z"`) {
		t.Fatalf("calls %v, want PushFunction with time 2026-11-20T08:00:00Z", calls)
	}
}

func TestDeliveries(t *testing.T) {
	inv := &fakeInvoker{fail: map[string]bool{"SessionFunction": true}}
	b := newBus(t, eventbus.Config{Invoker: inv, Clock: &fakeClock{now: monday}, Rules: rules, MaxDeliveries: 2})
	ctx := context.Background()
	for _, dt := range []string{"SessionOpened", "MemberJoined", "DeliveryRequested"} {
		res := b.PutEvents(ctx, []eventbus.Entry{{Source: "qunyun", DetailType: dt, Detail: `{"id":"x"}`}})
		if res[0].ErrorCode != "" {
			t.Fatalf("put %s: %+v", dt, res[0])
		}
		b.Wait() // one at a time, so the order is known
	}
	got := b.Deliveries()
	if len(got) != 2 {
		t.Fatalf("kept %d deliveries, want the last 2", len(got))
	}
	if got[0].Function != "SessionFunction" || got[0].Error != "function crashed" || got[0].DetailType != "MemberJoined" {
		t.Errorf("first kept delivery %+v, want the failed SessionFunction one", got[0])
	}
	if got[1].Function != "PushFunction" || got[1].Kind != "rule" || got[1].ID != "id-3" || got[1].EventBusName != "default" || !got[1].At.Equal(monday) {
		t.Errorf("last delivery %+v", got[1])
	}

	rec := httptest.NewRecorder()
	b.DeliveriesHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_local/bus", nil))
	var body struct {
		Deliveries []struct {
			Kind     string
			Function string
			Payload  map[string]any
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("/_local/bus body %s: %v", rec.Body, err)
	}
	if len(body.Deliveries) != 2 || body.Deliveries[1].Payload["detail-type"] != "DeliveryRequested" {
		t.Errorf("/_local/bus = %s", rec.Body)
	}
}

func TestNewErrors(t *testing.T) {
	inv, clk := &fakeInvoker{}, &fakeClock{now: monday}
	tests := []struct {
		name string
		cfg  eventbus.Config
		want string
	}{
		{"no invoker", eventbus.Config{Clock: clk}, "Invoker and Clock are required"},
		{"bad pattern", eventbus.Config{Invoker: inv, Clock: clk, Rules: []eventbus.Rule{{Function: "F", Pattern: []byte(`{"source": "qunyun"}`)}}},
			"rule 0 (function F): compile event pattern: source: a pattern value must be an array"},
		{"bad expression", eventbus.Config{Invoker: inv, Clock: clk, Schedules: []eventbus.Schedule{{Function: "F", Expression: "cron(0 8 * * * *)"}}},
			"schedule 0 (function F): expression: cron(0 8 * * * *) fields 3 and 5"},
		{"bad timezone", eventbus.Config{Invoker: inv, Clock: clk, Schedules: []eventbus.Schedule{{Function: "F", Expression: "rate(1 minute)", Timezone: "Mars/Olympus"}}},
			"schedule 0 (function F): timezone"},
		{"no function", eventbus.Config{Invoker: inv, Clock: clk, Schedules: []eventbus.Schedule{{Expression: "rate(1 minute)"}}},
			"schedule 0 (function ): no function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eventbus.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
