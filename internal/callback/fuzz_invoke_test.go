package callback_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/fuzzseed"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// FuzzInvoke feeds the callback function's Lambda input, the resume
// schedule's {"kind":"resume",...} or an API Gateway request, seeded with
// events/callback-*.json, to Invoke at the samples' time on an empty table
// that takes no write. Input refused as invalid (an EINVALID error or a
// 4xx) tried no write; a 503 comes only from a write that failed (reads
// never fail here); there is no 500 and no other error.
func FuzzInvoke(f *testing.F) {
	fuzzseed.Events(f, "../../events/callback-*.json")
	f.Add([]byte(`{"kind":"resume"}`))
	f.Add([]byte(`{"kind":null,"routeKey":""}`))

	dir, err := accounts.LoadFile("../../infra/local/accounts.json")
	if err != nil {
		f.Fatal(err)
	}
	clk := clock.NewManual(sampleTime)
	table, db := dynamotest.NewEmptyTable(clk)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := callback.NewService(callbackStores(table), &recordingBus{}, clk.Now, nil, log)
	if err != nil {
		f.Fatal(err)
	}
	svc.Moderation, svc.Contributions = dynamo.Moderation{Table: table}, dynamo.Contributions{Table: table}
	h := callback.NewHandler(dir, svc, log)
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := db.Writes()
		out, err := h.Invoke(context.Background(), raw)
		wrote := db.Writes() != before
		switch qunyun.ErrorCode(err) {
		case "":
		case qunyun.EINVALID:
			if wrote {
				t.Fatalf("refused as invalid after trying %d writes: %v", db.Writes()-before, err)
			}
		default:
			t.Fatalf("neither invalid input nor a table failure: %v", err)
		}
		resp, ok := out.(events.APIGatewayV2HTTPResponse)
		if !ok {
			return
		}
		switch code := resp.StatusCode; {
		case code >= 400 && code < 500 && wrote:
			t.Fatalf("%d %q after trying %d writes", code, resp.Body, db.Writes()-before)
		case code == 503 && !wrote:
			t.Fatalf("503 %q without a failed write", resp.Body)
		case code == 500:
			t.Fatalf("500 %q", resp.Body)
		}
	})
}

// links serves two tracked links on an empty table and counts the opens
// recorded.
type links struct {
	*dynamo.Table
	mu    sync.Mutex
	opens []string // the codes opened
	uas   []string
}

var fuzzLinks = map[string]qunyun.Link{
	"demo-link-1": {Code: "demo-link-1", URL: "https://example.com/menu", GroupID: "group-demo-1", ContentID: "c1"},
	"js-link":     {Code: "js-link", URL: "javascript:alert(1)", GroupID: "group-demo-1"},
}

func (l *links) Link(_ context.Context, code string) (qunyun.Link, bool, error) {
	link, ok := fuzzLinks[code]
	return link, ok, nil
}

func (l *links) RecordLinkOpen(_ context.Context, link qunyun.Link, _ qunyun.LinkOpen, _, ua string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opens = append(l.opens, link.Code)
	l.uas = append(l.uas, ua)
	return nil
}

// FuzzLinkPath requests GET|HEAD /r/{code} with fuzzed paths, queries and
// user agents (seeded with events/callback-link-open.json). Only a known
// code with a web URL redirects, to exactly that URL; everything else is a
// 404 (or 405 for another method), never a 5xx; only a GET that redirects
// records an open, once, with its user agent cut to 256 bytes, never
// inside a character.
func FuzzLinkPath(f *testing.F) {
	f.Add("/r/demo-link-1", "from=groupmessage", "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50", "GET")
	f.Add("/r/demo-link-1/extra", "", "", "HEAD")
	f.Add("/r/demo%2Dlink%2D1", "", "", "GET")
	f.Add("/r/js-link", "", "", "GET")
	f.Add("/r/", "", "", "POST")
	f.Add("/r/"+strings.Repeat("a", 65), "", "", "GET")

	clk := clock.NewManual(sampleTime)
	table, _ := dynamotest.NewEmptyTable(clk)
	store := &links{Table: table}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stores := callbackStores(table)
	stores.Links = store
	svc, err := callback.NewService(stores, nil, clk.Now, nil, log)
	if err != nil {
		f.Fatal(err)
	}
	dir, _ := accounts.NewStatic(nil)
	h := callback.NewHandler(dir, svc, log)
	f.Fuzz(func(t *testing.T, path, rawQuery, ua, method string) {
		if !strings.HasPrefix(path, "/r/") {
			path = "/r/" + path
		}
		req := events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: rawQuery, Headers: map[string]string{"user-agent": ua}}
		req.RequestContext.HTTP.Method = method
		store.mu.Lock()
		opens := len(store.opens)
		store.mu.Unlock()
		resp, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		store.mu.Lock()
		newOpens, newUAs := store.opens[opens:], store.uas[opens:]
		store.mu.Unlock()
		isGet := method == "GET" || method == ""
		switch resp.StatusCode {
		case 302:
			if loc := resp.Headers["Location"]; loc != fuzzLinks["demo-link-1"].URL {
				t.Fatalf("%s redirects to %q", path, loc)
			}
			if isGet && (len(newOpens) != 1 || newOpens[0] != "demo-link-1") || !isGet && len(newOpens) != 0 {
				t.Fatalf("%s %s recorded opens %v", method, path, newOpens)
			}
			for _, u := range newUAs {
				if len(u) > 256 || utf8.ValidString(ua) && !utf8.ValidString(u) {
					t.Fatalf("user agent %q recorded as %q", ua, u)
				}
			}
		case 404, 405:
			if len(newOpens) != 0 {
				t.Fatalf("%d for %s %s, but recorded opens %v", resp.StatusCode, method, path, newOpens)
			}
		default:
			t.Fatalf("%d for %s %s", resp.StatusCode, method, path)
		}
	})
}
