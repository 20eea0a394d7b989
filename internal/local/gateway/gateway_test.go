package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/local/gateway"
)

var routes = []gateway.Route{
	{Method: "GET", Path: "/wechat/{account}", Function: "CallbackFunction"},
	{Method: "POST", Path: "/wechat/{account}", Function: "CallbackFunction"},
	{Method: "GET", Path: "/r/{code}", Function: "CallbackFunction"},
	{Method: "ANY", Path: "/files/{path+}", Function: "Files"},
	{Method: "GET", Path: "/files/readme", Function: "Readme"},
}

func TestMatch(t *testing.T) {
	tests := []struct {
		method, path string
		function     string
		params       map[string]string
	}{
		{"GET", "/wechat/demo-oa", "CallbackFunction", map[string]string{"account": "demo-oa"}},
		{"POST", "/wechat/a%20b", "CallbackFunction", map[string]string{"account": "a b"}},
		{"PUT", "/wechat/demo-oa", "", nil},
		{"GET", "/wechat", "", nil},
		{"GET", "/wechat/", "", nil},
		{"GET", "/wechat/a/b", "", nil},
		{"DELETE", "/files/a/b/c", "Files", map[string]string{"path": "a/b/c"}},
		{"GET", "/files/readme", "Readme", nil},
		{"POST", "/files/readme", "Files", map[string]string{"path": "readme"}},
		{"GET", "/files", "", nil},
		{"GET", "/", "", nil},
	}
	for _, tt := range tests {
		rt, params, ok := gateway.Match(routes, tt.method, tt.path)
		if ok != (tt.function != "") || rt.Function != tt.function || !reflect.DeepEqual(params, tt.params) {
			t.Errorf("%s %s: got %q %v %v, want %q %v", tt.method, tt.path, rt.Function, params, ok, tt.function, tt.params)
		}
	}
}

// A one-segment parameter at the root (CallbackFunction's GET /{file}, for
// WeCom's WW_verify_<code>.txt) takes single segments only, never a longer
// route's path, the root itself or another method.
func TestMatchRootParameter(t *testing.T) {
	withFile := append(routes[:len(routes):len(routes)], gateway.Route{Method: "GET", Path: "/{file}", Function: "CallbackFunction"})
	tests := []struct {
		method, path string
		route        string
		params       map[string]string
	}{
		{"GET", "/WW_verify_Ab12.txt", "GET /{file}", map[string]string{"file": "WW_verify_Ab12.txt"}},
		{"GET", "/wechat", "GET /{file}", map[string]string{"file": "wechat"}},
		{"GET", "/wechat/demo-oa", "GET /wechat/{account}", map[string]string{"account": "demo-oa"}},
		{"GET", "/r/x", "GET /r/{code}", map[string]string{"code": "x"}},
		{"POST", "/WW_verify_Ab12.txt", "", nil},
		{"GET", "/", "", nil},
	}
	for _, tt := range tests {
		rt, params, ok := gateway.Match(withFile, tt.method, tt.path)
		if got := rt.Key(); ok != (tt.route != "") || (ok && got != tt.route) || !reflect.DeepEqual(params, tt.params) {
			t.Errorf("%s %s: got %q %v %v, want %q %v", tt.method, tt.path, got, params, ok, tt.route, tt.params)
		}
	}
}

var at = time.Date(2026, 11, 22, 3, 4, 5, 678_000_000, time.UTC)

func TestNewEvent(t *testing.T) {
	post := gateway.Route{Method: "POST", Path: "/wechat/{account}", Function: "CallbackFunction"}
	get := gateway.Route{Method: "GET", Path: "/wechat/{account}", Function: "CallbackFunction"}
	ctx := gateway.Context{RequestID: "req-1", Time: at, AccountID: "111122223333", APIID: "abc123"}
	rc := func(route gateway.Route, method, path, ua string) events.APIGatewayV2HTTPRequestContext {
		return events.APIGatewayV2HTTPRequestContext{
			RouteKey: route.Key(), AccountID: "111122223333", Stage: "$default", RequestID: "req-1",
			APIID: "abc123", DomainName: "127.0.0.1", DomainPrefix: "127",
			Time: "22/Nov/2026:03:04:05 +0000", TimeEpoch: at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "192.0.2.7", UserAgent: ua},
		}
	}
	tests := []struct {
		name    string
		route   gateway.Route
		params  map[string]string
		request func() *http.Request
		want    events.APIGatewayV2HTTPRequest
	}{
		{
			name: "WeChat POST with XML body and query", route: post, params: map[string]string{"account": "demo-oa"},
			request: func() *http.Request {
				r := httptest.NewRequest("POST", "http://127.0.0.1:3000/wechat/demo-oa?signature=ab%2Bc&timestamp=1&nonce=2&x=1&x=2",
					strings.NewReader("<xml><Content><![CDATA[你好]]></Content></xml>"))
				r.Header.Set("Content-Type", "text/xml; charset=utf-8")
				r.Header.Set("User-Agent", "Mozilla/4.0")
				r.Header.Add("X-Multi", "a")
				r.Header.Add("X-Multi", "b")
				r.RemoteAddr = "192.0.2.7:5555"
				return r
			},
			want: events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "POST /wechat/{account}", RawPath: "/wechat/demo-oa",
				RawQueryString: "signature=ab%2Bc&timestamp=1&nonce=2&x=1&x=2",
				Headers: map[string]string{"content-type": "text/xml; charset=utf-8", "user-agent": "Mozilla/4.0", "x-multi": "a,b",
					"host": "127.0.0.1:3000", "x-forwarded-for": "192.0.2.7", "x-forwarded-port": "3000", "x-forwarded-proto": "http",
					"content-length": "48"},
				QueryStringParameters: map[string]string{"signature": "ab+c", "timestamp": "1", "nonce": "2", "x": "1,2"},
				PathParameters:        map[string]string{"account": "demo-oa"},
				RequestContext:        rc(post, "POST", "/wechat/demo-oa", "Mozilla/4.0"),
				Body:                  "<xml><Content><![CDATA[你好]]></Content></xml>",
			},
		},
		{
			name: "binary body is base64 with cookies split out", route: post, params: map[string]string{"account": "x"},
			request: func() *http.Request {
				r := httptest.NewRequest("POST", "http://127.0.0.1:3000/wechat/x", strings.NewReader("\x00\x01\xff"))
				r.Header.Set("Content-Type", "application/octet-stream")
				r.Header.Set("Cookie", "a=1; b=2")
				r.Header.Set("X-Forwarded-For", "198.51.100.1")
				r.RemoteAddr = "192.0.2.7:5555"
				return r
			},
			want: events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "POST /wechat/{account}", RawPath: "/wechat/x",
				Cookies: []string{"a=1", "b=2"},
				Headers: map[string]string{"content-type": "application/octet-stream", "host": "127.0.0.1:3000",
					"x-forwarded-for": "198.51.100.1, 192.0.2.7", "x-forwarded-port": "3000", "x-forwarded-proto": "http", "content-length": "3"},
				PathParameters:  map[string]string{"account": "x"},
				RequestContext:  rc(post, "POST", "/wechat/x", ""),
				Body:            "AAH/",
				IsBase64Encoded: true,
			},
		},
		{
			name: "GET URL verification without body", route: get, params: map[string]string{"account": "demo-wecom"},
			request: func() *http.Request {
				r := httptest.NewRequest("GET", "http://127.0.0.1:3000/wechat/demo-wecom?echostr=a%2Fb%3D%3D", nil)
				r.RemoteAddr = "192.0.2.7:1"
				return r
			},
			want: events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "GET /wechat/{account}", RawPath: "/wechat/demo-wecom", RawQueryString: "echostr=a%2Fb%3D%3D",
				Headers:               map[string]string{"host": "127.0.0.1:3000", "x-forwarded-for": "192.0.2.7", "x-forwarded-port": "3000", "x-forwarded-proto": "http"},
				QueryStringParameters: map[string]string{"echostr": "a/b=="},
				PathParameters:        map[string]string{"account": "demo-wecom"},
				RequestContext:        rc(get, "GET", "/wechat/demo-wecom", ""),
			},
		},
		{
			name: "form and unknown types are binary; JSON is text", route: post, params: map[string]string{"account": "r"},
			request: func() *http.Request {
				r := httptest.NewRequest("POST", "http://127.0.0.1:3000/wechat/r", strings.NewReader(`{"a":1}`))
				r.Header.Set("Content-Type", "application/vnd.api+json")
				r.RemoteAddr = "192.0.2.7:1"
				return r
			},
			want: events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "POST /wechat/{account}", RawPath: "/wechat/r",
				Headers: map[string]string{"content-type": "application/vnd.api+json", "host": "127.0.0.1:3000", "x-forwarded-for": "192.0.2.7",
					"x-forwarded-port": "3000", "x-forwarded-proto": "http", "content-length": "7"},
				PathParameters: map[string]string{"account": "r"},
				RequestContext: rc(post, "POST", "/wechat/r", ""),
				Body:           `{"a":1}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.request()
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			got := gateway.NewEvent(r, body, tt.route, tt.params, ctx)
			trace := got.Headers["x-amzn-trace-id"]
			if !strings.HasPrefix(trace, "Root=1-") {
				t.Errorf("x-amzn-trace-id = %q", trace)
			}
			delete(got.Headers, "x-amzn-trace-id")
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("event\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestWriteResponse(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		status  int
		headers http.Header
		body    string
		wantErr bool
	}{
		{"raw text stays raw", `{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"success"}`,
			200, http.Header{"Content-Type": {"text/plain"}}, "success", false},
		{"no content type is text/plain, not sniffed", `{"statusCode":200,"body":"<xml>x</xml>"}`, 200, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, "<xml>x</xml>", false},
		{"base64 body is decoded", `{"statusCode":201,"headers":{"content-type":"application/octet-stream"},"body":"AAH/","isBase64Encoded":true}`,
			201, http.Header{"Content-Type": {"application/octet-stream"}}, "\x00\x01\xff", false},
		{"cookies and multi-value headers", `{"statusCode":302,"headers":{"Location":"https://x"},"multiValueHeaders":{"X-A":["1","2"]},"cookies":["s=1; Path=/","t=2"],"body":""}`,
			302, http.Header{"Location": {"https://x"}, "X-A": {"1", "2"}, "Set-Cookie": {"s=1; Path=/", "t=2"}, "Content-Type": {"text/plain; charset=utf-8"}}, "", false},
		{"bare string is a JSON body", `"success"`, 200, http.Header{"Content-Type": {"application/json"}}, `"success"`, false},
		{"object without statusCode is a JSON body", `{"ok":true}`, 200, http.Header{"Content-Type": {"application/json"}}, `{"ok":true}`, false},
		{"null is a JSON body", `null`, 200, http.Header{"Content-Type": {"application/json"}}, `null`, false},
		{"not JSON", `success`, 500, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`, true},
		{"statusCode of the wrong type", `{"statusCode":"200","body":"x"}`, 500, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`, true},
		{"bad base64", `{"statusCode":200,"body":"!!","isBase64Encoded":true}`, 500, http.Header{"Content-Type": {"application/json"}}, `{"message":"Internal Server Error"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := gateway.WriteResponse(w, []byte(tt.answer)); (err != nil) != tt.wantErr {
					t.Errorf("err = %v, wantErr %v", err, tt.wantErr)
				}
			}))
			defer srv.Close()
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []string{"Date", "Content-Length"} {
				resp.Header.Del(h)
			}
			if resp.StatusCode != tt.status || string(b) != tt.body || !reflect.DeepEqual(resp.Header, tt.headers) {
				t.Errorf("got %d %v %q, want %d %v %q", resp.StatusCode, resp.Header, string(b), tt.status, tt.headers, tt.body)
			}
		})
	}
}

// invokerFunc adapts a function to gateway.Invoker.
type invokerFunc func(ctx context.Context, function string, payload []byte) ([]byte, error)

func (f invokerFunc) InvokeSync(ctx context.Context, function string, payload []byte) ([]byte, error) {
	return f(ctx, function, payload)
}

func TestServeHTTP(t *testing.T) {
	var gotFn string
	var gotEvent events.APIGatewayV2HTTPRequest
	g := &gateway.Gateway{Routes: routes, Now: func() time.Time { return at }, Invoker: invokerFunc(func(_ context.Context, fn string, p []byte) ([]byte, error) {
		gotFn = fn
		if err := json.Unmarshal(p, &gotEvent); err != nil {
			t.Errorf("payload %s: %v", p, err)
		}
		if gotEvent.PathParameters["account"] == "broken" {
			return nil, errors.New("function crashed")
		}
		return []byte(`{"statusCode":200,"body":"success"}`), nil
	})}
	srv := httptest.NewServer(g)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/wechat/demo-oa?nonce=1", "text/xml", strings.NewReader("<xml/>"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "success" || gotFn != "CallbackFunction" || gotEvent.Body != "<xml/>" ||
		gotEvent.RequestContext.RequestID == "" || resp.Header.Get("Apigw-Requestid") != gotEvent.RequestContext.RequestID ||
		gotEvent.RequestContext.TimeEpoch != at.UnixMilli() {
		t.Errorf("got %d %q fn=%s event=%+v", resp.StatusCode, b, gotFn, gotEvent)
	}

	for _, c := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/nowhere", 404, `{"message":"Not Found"}`},
		{"DELETE", "/wechat/demo-oa", 404, `{"message":"Not Found"}`},
		{"POST", "/wechat/broken", 500, `{"message":"Internal Server Error"}`},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || string(b) != c.body {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, resp.StatusCode, b, c.status, c.body)
		}
	}
}

// BenchmarkRequestResponse maps one WeChat-sized POST to its event and a
// raw-text answer back: the gateway's own cost per request.
func BenchmarkRequestResponse(b *testing.B) {
	route := gateway.Route{Method: "POST", Path: "/wechat/{account}", Function: "CallbackFunction"}
	body := []byte(strings.Repeat("<xml><Encrypt><![CDATA[abcdefgh]]></Encrypt></xml>", 10))
	answer := []byte(`{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"success"}`)
	for b.Loop() {
		r := httptest.NewRequest("POST", "http://127.0.0.1:3000/wechat/demo-oa?signature=s&timestamp=1&nonce=n&msg_signature=m", nil)
		r.Header.Set("Content-Type", "text/xml")
		ev := gateway.NewEvent(r, body, route, map[string]string{"account": "demo-oa"}, gateway.Context{RequestID: "r", Time: at})
		if _, err := json.Marshal(ev); err != nil {
			b.Fatal(err)
		}
		if err := gateway.WriteResponse(httptest.NewRecorder(), answer); err != nil {
			b.Fatal(err)
		}
	}
}
