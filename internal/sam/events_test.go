package sam_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/eventpattern"
	"github.com/qunyun/qunyun/internal/sam"
	"github.com/qunyun/qunyun/internal/wechat"
)

// Sample events live in events/ and are named <function>-<what>.json, where
// <function> is the logical id without "Function", in lower case
// (callback-oa-text.json is for CallbackFunction). Each file must decode,
// with no unknown fields, into the aws-lambda-go type of one of that
// function's triggers, and must be an event that trigger would deliver:
//
//	HttpApi         → events.APIGatewayV2HTTPRequest, for one of its routes
//	ScheduleV2      → the schedule's Input {"kind","scheduledTime"}, same kind
//	EventBridgeRule → events.EventBridgeEvent matching the rule's pattern

// ScheduleInput is what a ScheduleV2 trigger delivers (template.yaml Input).
type ScheduleInput struct {
	Kind          string    `json:"kind"`
	ScheduledTime time.Time `json:"scheduledTime"`
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

// checkSampleEvent returns nil when data is an event one of f's triggers delivers.
func checkSampleEvent(f sam.Function, data []byte) error {
	var tried []string
	for _, ev := range f.Events {
		var err error
		switch ev.Type {
		case "HttpApi":
			var req events.APIGatewayV2HTTPRequest
			if err = strictDecode(data, &req); err == nil {
				err = matchRoute(ev, req)
			}
		case "ScheduleV2":
			var in ScheduleInput
			if err = strictDecode(data, &in); err == nil {
				err = matchSchedule(ev, in)
			}
		case "EventBridgeRule":
			var e events.EventBridgeEvent
			if err = strictDecode(data, &e); err == nil {
				err = matchRule(ev, data, e)
			}
		default:
			continue
		}
		if err == nil {
			return nil
		}
		tried = append(tried, fmt.Sprintf("%s %s: %v", ev.Type, ev.Name, err))
	}
	if len(tried) == 0 {
		return fmt.Errorf("%s has no trigger this check knows", f.LogicalID)
	}
	return fmt.Errorf("not an event of any trigger of %s:\n\t%s", f.LogicalID, strings.Join(tried, "\n\t"))
}

func matchRoute(ev sam.Event, req events.APIGatewayV2HTTPRequest) error {
	if req.Version != "2.0" {
		return fmt.Errorf("version %q, want 2.0 (payload format v2)", req.Version)
	}
	if m := req.RequestContext.HTTP.Method; m != ev.Method {
		return fmt.Errorf("method %s, route wants %s", m, ev.Method)
	}
	routeKey := ev.Method + " " + ev.Path
	if req.RouteKey != routeKey || req.RequestContext.RouteKey != routeKey {
		return fmt.Errorf("routeKey %q / %q, want %q", req.RouteKey, req.RequestContext.RouteKey, routeKey)
	}
	params, err := pathParams(ev.Path, req.RawPath)
	if err != nil {
		return err
	}
	if req.RequestContext.HTTP.Path != req.RawPath {
		return fmt.Errorf("requestContext.http.path %q differs from rawPath %q", req.RequestContext.HTTP.Path, req.RawPath)
	}
	if len(params) != len(req.PathParameters) {
		return fmt.Errorf("pathParameters %v, want %v", req.PathParameters, params)
	}
	for k, v := range params {
		if req.PathParameters[k] != v {
			return fmt.Errorf("pathParameters %v, want %v", req.PathParameters, params)
		}
	}
	// API Gateway derives queryStringParameters from the raw query string.
	q, err := url.ParseQuery(req.RawQueryString)
	if err != nil {
		return fmt.Errorf("rawQueryString: %w", err)
	}
	for k, v := range req.QueryStringParameters {
		if strings.Join(q[k], ",") != v {
			return fmt.Errorf("queryStringParameters[%s] = %q, rawQueryString says %q", k, v, q[k])
		}
	}
	if len(q) != len(req.QueryStringParameters) {
		return fmt.Errorf("queryStringParameters has %d names, rawQueryString %d", len(req.QueryStringParameters), len(q))
	}
	return nil
}

// pathParams matches a route such as /wechat/{account} against a path.
func pathParams(route, path string) (map[string]string, error) {
	rs, ps := strings.Split(route, "/"), strings.Split(path, "/")
	if len(rs) != len(ps) {
		return nil, fmt.Errorf("rawPath %q does not match route %s", path, route)
	}
	params := map[string]string{}
	for i, r := range rs {
		if strings.HasPrefix(r, "{") && strings.HasSuffix(r, "}") && ps[i] != "" {
			params[r[1:len(r)-1]] = ps[i]
			continue
		}
		if r != ps[i] {
			return nil, fmt.Errorf("rawPath %q does not match route %s", path, route)
		}
	}
	return params, nil
}

func matchSchedule(ev sam.Event, in ScheduleInput) error {
	var want ScheduleInput
	tpl := strings.ReplaceAll(ev.Input, "<aws.scheduler.scheduled-time>", "2000-01-01T00:00:00Z")
	if err := json.Unmarshal([]byte(tpl), &want); err != nil {
		return fmt.Errorf("template Input %q: %w", ev.Input, err)
	}
	if in.Kind != want.Kind {
		return fmt.Errorf("kind %q, schedule sends %q", in.Kind, want.Kind)
	}
	if in.ScheduledTime.IsZero() || in.ScheduledTime.Location() != time.UTC || in.ScheduledTime.Second() != 0 {
		return fmt.Errorf("scheduledTime %v: Scheduler sends a whole minute in UTC", in.ScheduledTime)
	}
	return nil
}

func matchRule(ev sam.Event, raw []byte, e events.EventBridgeEvent) error {
	if e.ID == "" || e.DetailType == "" || e.Source == "" || e.Time.IsZero() || len(e.Detail) == 0 {
		return fmt.Errorf("envelope lacks id, detail-type, source, time or detail")
	}
	p, err := eventpattern.Compile(ev.Pattern)
	if err != nil {
		return fmt.Errorf("pattern %s: %w", ev.Pattern, err)
	}
	ok, err := p.Match(raw)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("does not match pattern %s", ev.Pattern)
	}
	return nil
}

func TestSampleEvents(t *testing.T) {
	tpl, err := sam.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("events/ has no samples")
	}
	byPrefix := map[string]sam.Function{}
	for _, f := range tpl.Functions {
		byPrefix[strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))] = f
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			prefix, _, ok := strings.Cut(strings.TrimSuffix(name, ".json"), "-")
			f, known := byPrefix[prefix]
			if !ok || !known {
				t.Fatalf("name it <function>-<what>.json with <function> one of callback, push, session, scoring")
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkSampleEvent(f, data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCallbackSamplesAreSigned checks that each signed /wechat/{account}
// sample names an account of the local stack's demo file and carries a
// signature that account's token verifies, so replaying it reaches the
// handler's logic rather than its 4xx.
func TestCallbackSamplesAreSigned(t *testing.T) {
	dir, err := accounts.LoadFile("../../infra/local/accounts.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("infra/local/accounts.json does not exist yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../events/callback-*.json")
	signed := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(data, &req); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		q, _ := url.ParseQuery(req.RawQueryString)
		id := req.PathParameters["account"]
		if id == "" || q.Get("signature") == "" {
			continue
		}
		acct, err := dir.Account(t.Context(), id)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(file), err)
			continue
		}
		if err := wechat.VerifySignature(acct.Token, q.Get("timestamp"), q.Get("nonce"), q.Get("signature")); err != nil {
			t.Errorf("%s: %v", filepath.Base(file), err)
		}
		signed++
	}
	if signed == 0 {
		t.Error("no signed callback sample in events/")
	}
}

// TestSampleEventCheckRejects proves the check can fail: wrong shapes,
// unknown fields, wrong routes, kinds and detail-types.
func TestSampleEventCheckRejects(t *testing.T) {
	tpl, err := sam.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	push, _ := tpl.Function("PushFunction")
	scoring, _ := tpl.Function("ScoringFunction")
	callback, _ := tpl.Function("CallbackFunction")
	get := `{"version":"2.0","routeKey":"GET /wechat/{account}","rawPath":"/wechat/demo-oa","rawQueryString":"a=1",
		"headers":{},"queryStringParameters":{"a":"1"},"pathParameters":{"account":"demo-oa"},
		"requestContext":{"routeKey":"GET /wechat/{account}","http":{"method":"GET","path":"/wechat/demo-oa"}},"isBase64Encoded":false}`
	if err := checkSampleEvent(callback, []byte(get)); err != nil {
		t.Fatalf("the valid request was rejected: %v", err)
	}
	bad := []struct {
		name string
		f    sam.Function
		data string
	}{
		{"unknown field", push, `{"kind":"tick","scheduledTime":"2026-11-22T01:00:00Z","extra":1}`},
		{"wrong kind", scoring, `{"kind":"tick","scheduledTime":"2026-11-22T01:00:00Z"}`},
		{"not UTC", push, `{"kind":"tick","scheduledTime":"2026-11-22T09:00:00+08:00"}`},
		{"detail-type not routed to push", push, `{"version":"0","id":"1","detail-type":"ScoresComputed","source":"qunyun","account":"1","time":"2026-11-22T01:00:00Z","region":"ap-east-1","resources":[],"detail":{"id":"x"}}`},
		{"wrong source", push, `{"version":"0","id":"1","detail-type":"DeliveryRequested","source":"other","account":"1","time":"2026-11-22T01:00:00Z","region":"ap-east-1","resources":[],"detail":{"id":"x"}}`},
		{"unknown route", callback, strings.ReplaceAll(get, "/wechat/", "/wx/")},
		{"payload v1", callback, strings.Replace(get, `"2.0"`, `"1.0"`, 1)},
		{"query mismatch", callback, strings.Replace(get, `{"a":"1"}`, `{"a":"2"}`, 1)},
		{"path parameter mismatch", callback, strings.Replace(get, `{"account":"demo-oa"}`, `{"account":"other"}`, 1)},
		{"unknown nested field", callback, strings.Replace(get, `"method":"GET"`, `"method":"GET","verb":"GET"`, 1)},
		{"two values", push, `{"kind":"tick","scheduledTime":"2026-11-22T01:00:00Z"} {}`},
	}
	for _, tt := range bad {
		if err := checkSampleEvent(tt.f, []byte(tt.data)); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

// TestRequiredSamples: the samples the README and the runtime harness
// (internal/runtimetest) rely on.
func TestRequiredSamples(t *testing.T) {
	for _, name := range []string{
		"callback-verify.json", "callback-oa-text.json",
		"push-tick.json", "push-delivery-requested.json",
		"session-tick.json", "scoring-nightly.json",
	} {
		if _, err := os.Stat(filepath.Join("../../events", name)); err != nil {
			t.Errorf("events/%s: %v", name, err)
		}
	}
}
