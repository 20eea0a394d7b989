// Package callbacktest gives tests the part of the local stack that
// receives callbacks: the callback function's real handler on a real
// dynalite table (dynamotest), optionally with the fault proxy in the
// DynamoDB path, behind a small HTTP server that turns requests into API
// Gateway v2 events as the stack's gateway does.
//
// It is for tests only and must never be imported by a function or a
// command; the full stack (internal/local) is what commands run against.
package callbacktest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/faultproxy"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Stack is a running callback.
type Stack struct {
	URL   string        // the gateway: POST /wechat/{account}, GET /r/{code}
	Table *dynamo.Table // the table, read directly (no faults)
	Proxy *faultproxy.Server
}

// Options configure a Stack.
type Options struct {
	Accounts []qunyun.Account
	Clock    clock.Clock // the callback's and the table's clock (required)
	Faults   float64     // share of DynamoDB requests that fail
	Seed     uint64      // of the fault pattern
}

// Start runs a Stack until the test ends.
func Start(tb testing.TB, o Options) *Stack {
	tb.Helper()
	if o.Clock == nil {
		tb.Fatal("callbacktest.Start: Options.Clock is required")
	}
	table := dynamotest.NewTable(tb, o.Clock)
	p, err := faultproxy.New(dynamotest.Endpoint(tb), faultproxy.Options{Rate: o.Faults, Hold: 100 * time.Millisecond, Seed: o.Seed})
	if err != nil {
		tb.Fatal(err)
	}
	proxy, err := faultproxy.Start("127.0.0.1:0", p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { proxy.Close(context.Background()) })
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(proxy.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:  &http.Client{Timeout: 2 * time.Second},
	})
	store := &dynamo.Table{DB: db, Name: table.Name, Now: o.Clock.Now}
	dir, err := accounts.NewStatic(o.Accounts)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := callback.NewService(callbackStores(store), nil, o.Clock.Now, nil, log)
	if err != nil {
		tb.Fatal(err)
	}
	svc.Moderation, svc.Contributions, svc.Staff = dynamo.Moderation{Table: store}, dynamo.Contributions{Table: store}, dynamo.People{Table: store}.Staff
	h := callback.NewHandler(dir, svc, log)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		body, _ := io.ReadAll(r.Body)
		req := events.APIGatewayV2HTTPRequest{
			RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery, Headers: map[string]string{},
			QueryStringParameters: map[string]string{}, Body: string(body),
		}
		for k := range r.Header {
			req.Headers[strings.ToLower(k)] = r.Header.Get(k)
		}
		for k, v := range r.URL.Query() {
			req.QueryStringParameters[k] = strings.Join(v, ",")
		}
		req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = r.Method, r.URL.Path
		resp, _ := h.Handle(r.Context(), req)
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.StatusCode)
		io.WriteString(w, resp.Body)
	}))
	tb.Cleanup(srv.Close)
	return &Stack{URL: srv.URL, Table: table, Proxy: proxy}
}
