// Package gateway is the local stack's API Gateway HTTP API: it serves the
// HttpApi routes of template.yaml, turns each request into exactly the
// payload-format-2.0 event (events.APIGatewayV2HTTPRequest) that API Gateway
// sends to a Lambda integration, and turns the function's answer back into an
// HTTP response the way API Gateway does.
//
// It must not know what the functions do or how they run: an Invoker does
// that. Authorizers, CORS, stage variables and custom domains are not
// emulated.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Route is one HttpApi event: Method (GET, POST, ... or ANY) and Path, with
// {name} parameters and an optional trailing greedy {name+}.
type Route struct {
	Method   string
	Path     string
	Function string
}

// Key is the route key API Gateway puts in the event, "POST /wechat/{account}".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Invoker runs a function synchronously and returns its response payload.
// A function error is returned as an error.
type Invoker interface {
	InvokeSync(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Gateway serves Routes through Invoker. Its zero values are usable except
// Invoker.
type Gateway struct {
	Routes    []Route
	Invoker   Invoker
	Now       func() time.Time // request time; nil means time.Now
	AccountID string           // "" means 123456789012
	APIID     string           // "" means "local"
	Logger    *slog.Logger     // nil means slog.Default()
}

// maxBody is the largest request body that still fits Lambda's 6 MB
// synchronous payload once wrapped in an event.
const maxBody = 5 << 20

var (
	notFound     = []byte(`{"message":"Not Found"}`)
	internalErr  = []byte(`{"message":"Internal Server Error"}`)
	tooLarge     = []byte(`{"message":"Request Entity Too Large"}`)
	errNoRoute   = errors.New("no route")
	errBadAnswer = errors.New("function answer is not a valid response")
)

// ServeHTTP routes, invokes and answers.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	route, params, ok := Match(g.Routes, r.Method, r.URL.EscapedPath())
	if !ok {
		writeMessage(w, http.StatusNotFound, notFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, []byte(`{"message":"Bad Request"}`))
		return
	}
	if len(body) > maxBody {
		writeMessage(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}
	now := time.Now // wallclock: request time when the stack gives no clock
	if g.Now != nil {
		now = g.Now
	}
	ev := NewEvent(r, body, route, params, Context{
		RequestID: requestID, Time: now(), AccountID: g.AccountID, APIID: g.APIID,
	})
	payload, err := json.Marshal(ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, internalErr)
		return
	}
	log := g.Logger
	if log == nil {
		log = slog.Default()
	}
	answer, err := g.Invoker.InvokeSync(r.Context(), route.Function, payload)
	if err != nil {
		log.ErrorContext(r.Context(), "gateway: function failed", "route", route.Key(), "function", route.Function, "requestId", requestID, "err", err)
		writeMessage(w, http.StatusInternalServerError, internalErr)
		return
	}
	if err := WriteResponse(w, answer); err != nil {
		log.ErrorContext(r.Context(), "gateway: bad function answer", "route", route.Key(), "function", route.Function, "requestId", requestID, "err", err)
	}
}

// Match finds the route for a method and escaped path, preferring literal
// segments over parameters and an exact method over ANY, as API Gateway
// does. params holds the unescaped parameter values.
func Match(routes []Route, method, path string) (route Route, params map[string]string, ok bool) {
	best := -1
	for _, rt := range routes {
		if rt.Method != method && rt.Method != "ANY" {
			continue
		}
		p, score, matched := matchPath(rt.Path, path)
		if !matched {
			continue
		}
		if rt.Method == method {
			score++ // exact method beats ANY on equal paths
		}
		if score > best {
			best, route, params = score, rt, p
		}
	}
	return route, params, best >= 0
}

// matchPath matches one route path; score counts literal segments, doubled
// so that the method bonus in Match never outweighs one.
func matchPath(pattern, path string) (map[string]string, int, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	score := 0
	for i, seg := range ps {
		if name, ok := strings.CutPrefix(seg, "{"); ok && strings.HasSuffix(name, "+}") && i == len(ps)-1 {
			if i >= len(xs) || xs[i] == "" {
				return nil, 0, false
			}
			v, err := url.PathUnescape(strings.Join(xs[i:], "/"))
			if err != nil {
				return nil, 0, false
			}
			params[strings.TrimSuffix(name, "+}")] = v
			return params, score, true
		}
		if i >= len(xs) {
			return nil, 0, false
		}
		if name, ok := strings.CutPrefix(seg, "{"); ok && strings.HasSuffix(name, "}") {
			if xs[i] == "" {
				return nil, 0, false
			}
			v, err := url.PathUnescape(xs[i])
			if err != nil {
				return nil, 0, false
			}
			params[strings.TrimSuffix(name, "}")] = v
			continue
		}
		if seg != xs[i] {
			return nil, 0, false
		}
		score += 2
	}
	if len(xs) != len(ps) {
		return nil, 0, false
	}
	if len(params) == 0 {
		params = nil
	}
	return params, score, true
}

// Context is what API Gateway knows about a request beyond the request
// itself.
type Context struct {
	RequestID string
	Time      time.Time
	AccountID string // "" means 123456789012
	APIID     string // "" means "local"
}

// NewEvent builds the payload-2.0 event API Gateway sends for r (whose body
// was read into body) on route with the matched path parameters.
func NewEvent(r *http.Request, body []byte, route Route, params map[string]string, c Context) events.APIGatewayV2HTTPRequest {
	account, apiID := c.AccountID, c.APIID
	if account == "" {
		account = "123456789012"
	}
	if apiID == "" {
		apiID = "local"
	}
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	domain := r.Host
	if host, _, err := net.SplitHostPort(r.Host); err == nil {
		domain = host
	}
	prefix, _, _ := strings.Cut(domain, ".")

	headers, cookies := eventHeaders(r, body, sourceIP, c.Time)

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route.Key(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route.Key(),
			AccountID:    account,
			Stage:        "$default",
			RequestID:    c.RequestID,
			APIID:        apiID,
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         c.Time.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    c.Time.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.Header.Get("User-Agent"),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// eventHeaders gives payload 2.0's headers, lower-cased with repeated
// values joined by commas and the cookies moved out into their own list,
// plus those API Gateway adds (forwarding, trace id, length).
func eventHeaders(r *http.Request, body []byte, sourceIP string, at time.Time) (map[string]string, []string) {
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "cookie" {
			// Payload 2.0 moves cookies out of the headers into their own list.
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lower] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	if _, ok := headers["x-forwarded-for"]; ok {
		headers["x-forwarded-for"] += ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	_, port, _ := net.SplitHostPort(r.Host)
	if port == "" {
		port = "80"
	}
	headers["x-forwarded-port"] = port
	headers["x-forwarded-proto"] = "http"
	headers["x-amzn-trace-id"] = fmt.Sprintf("Root=1-%08x-%s", at.Unix(), randomHex(12))
	if len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	return headers, cookies
}

// queryParameters decodes a raw query string; repeated names are joined
// with commas, as in payload 2.0. No query gives nil (the field is omitted).
func queryParameters(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if old, ok := out[k]; ok {
			out[k] = old + "," + v
		} else {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// isText tells whether API Gateway passes a body of this content type as
// text; every other body (including one with no content type) arrives
// base64-encoded with isBase64Encoded set.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/ecmascript":
		return true
	}
	return false
}

// WriteResponse writes a function's answer as API Gateway does for payload
// 2.0: a JSON object with a statusCode is a response (headers, cookies as
// Set-Cookie, body base64-decoded when flagged, otherwise sent as is); any
// other valid JSON is a 200 application/json body holding that JSON. An
// answer that is neither becomes a 500, and the error says why.
func WriteResponse(w http.ResponseWriter, answer []byte) error {
	var probe map[string]json.RawMessage
	if json.Unmarshal(answer, &probe) != nil || probe["statusCode"] == nil {
		if !json.Valid(answer) {
			writeMessage(w, http.StatusInternalServerError, internalErr)
			return fmt.Errorf("%w: not JSON", errBadAnswer)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(answer)
		return nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(answer, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		writeMessage(w, http.StatusInternalServerError, internalErr)
		return fmt.Errorf("%w: statusCode %d: %v", errBadAnswer, resp.StatusCode, err)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeMessage(w, http.StatusInternalServerError, internalErr)
			return fmt.Errorf("%w: body flagged base64 but is not: %v", errBadAnswer, err)
		}
		body = b
	}
	h := w.Header()
	names := make([]string, 0, len(resp.MultiValueHeaders))
	for k := range resp.MultiValueHeaders {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range resp.MultiValueHeaders[k] {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		// What an HTTP API answers when the function names no type (as
		// observed, e.g. aws-lambda-rust-runtime#876), never a sniffed one.
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
	return nil
}

func writeMessage(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// newRequestID returns an id shaped like API Gateway's ("JKJaXmPLvHcESHA=").
func newRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(b[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
