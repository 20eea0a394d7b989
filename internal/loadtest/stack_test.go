package loadtest_test

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
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/loadtest"
	"github.com/qunyun/qunyun/internal/local/faultproxy"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
)

// callbackStack is the callback's real code on real dynalite, with the
// fault proxy in the DynamoDB path, behind a small API Gateway v2 adapter:
// the part of the local stack the load runner exercises.
func callbackStack(t *testing.T, faults float64) (gateway string, table *dynamo.Table, proxy *faultproxy.Server) {
	t.Helper()
	tb := dynamotest.NewTable(t)
	p, err := faultproxy.New(dynamotest.Endpoint(t), faultproxy.Options{Rate: faults, Hold: 100 * time.Millisecond, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	proxy, err = faultproxy.Start("127.0.0.1:0", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close(context.Background()) })
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(proxy.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:  &http.Client{Timeout: 2 * time.Second},
	})
	store := &dynamo.Table{DB: db, Name: tb.Name}
	var list []qunyun.Account
	for _, tg := range targets {
		list = append(list, tg.Account)
	}
	dir, err := accounts.NewStatic(list)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := callback.NewService(store, nil, time.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	h := callback.NewHandler(dir, svc, time.Now, log)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	t.Cleanup(srv.Close)
	return srv.URL, tb, proxy
}

// A short run through the real callback with duplicates and 5 % DynamoDB
// faults: nothing lost, nothing stored twice, and the faults did happen.
func TestRunAgainstCallbackWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	gw, tb, proxy := callbackStack(t, 0.05)
	mix, _ := loadtest.ParseMix("relay=0.6,wecom=0.15,bot=0.15,oa=0.1")
	run, err := loadtest.Start(context.Background(), &callbacks.Sender{Base: gw, Client: &http.Client{Timeout: 5 * time.Second}}, loadtest.Options{
		Rate: 100, Duration: 3 * time.Second, Mix: mix, Dup: 0.2, Seed: 5, Targets: targets, Now: time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadtest.Check(context.Background(), tb, run)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Logf("faults injected %v\n%s", proxy.Stats().Injected, out.String())
	if !rep.OK() || rep.Stored != rep.Distinct {
		t.Errorf("lost %d, duplicated %d, stored %d of %d", len(rep.Lost), len(rep.Duplicated), rep.Stored, rep.Distinct)
	}
	if len(proxy.Stats().Injected) == 0 {
		t.Error("no fault was injected: the test proves nothing about faults")
	}
}
