package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/runtimetest"
	"github.com/qunyun/qunyun/internal/sam"
)

// TestInvokeReplaysEverySample runs every events/ sample through `qunyun
// invoke` (what `make invoke` runs) against a stack holding what `make run`
// holds (the demo community and the demo link) and checks the answer the
// README's Sample events section documents. Each sample runs on a clock set
// to its own time: no QUNYUN_CLOCK_START is needed.
func TestInvokeReplaysEverySample(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st := runtimetest.NewStack(t, root, tpl)
	// Only push-tick.json posts to the bridge, signed on its own clock.
	st.Bridge.Now = func() time.Time { return pushTickAt }
	if _, _, err := run(t, "", "apply", "-f", demoFile, "--endpoint", st.Endpoints.DynamoDB, "--table", st.Endpoints.TableName); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Links{Table: st.Table}).PutLink(context.Background(), demoLink); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "stack.json")
	b, err := json.Marshal(st.Endpoints)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, b, 0o600); err != nil {
		t.Fatal(err)
	}

	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			prefix, _, _ := strings.Cut(name, "-")
			fn := strings.ToUpper(prefix[:1]) + prefix[1:] + "Function"
			out, errOut, err := run(t, "", "invoke", fn, "-e", file, "--stack", state)
			if err != nil {
				t.Fatalf("invoke %s: %v\n%s", fn, err, errOut)
			}
			event, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayV2HTTPRequest
			if json.Unmarshal(event, &req) == nil && req.RouteKey != "" {
				checkHTTPAnswer(t, req, out)
				return
			}
			if name == "push-tick.json" {
				checkPushTick(t, st, out)
			}
		})
	}
}

// checkHTTPAnswer: WeChat's callbacks get 200 (URL verification with the
// echostr, decrypted for WeCom); the demo link redirects; the host page of a
// session the demo does not have is 404.
func checkHTTPAnswer(t *testing.T, req events.APIGatewayV2HTTPRequest, out string) {
	t.Helper()
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("not an HTTP answer: %v\n%s", err, out)
	}
	want := 200
	switch {
	case strings.HasPrefix(req.RawPath, "/r/"):
		want = 302
		if loc := resp.Headers["Location"]; loc != demoLink.URL {
			t.Errorf("redirect to %q, want %q", loc, demoLink.URL)
		}
	case strings.HasPrefix(req.RawPath, "/sessions/"):
		want = 404
	case req.RequestContext.HTTP.Method == "GET":
		echo := req.QueryStringParameters["echostr"]
		if _, wecom := req.QueryStringParameters["msg_signature"]; !wecom && resp.Body != echo || wecom && (resp.Body == "" || resp.Body == echo) {
			t.Errorf("URL verification answered %q (echostr %q)", resp.Body, echo)
		}
	}
	if resp.StatusCode != want {
		t.Errorf("answered %d %q, want %d", resp.StatusCode, resp.Body, want)
	}
}

// pushTickAt is push-tick.json's scheduled time: Monday 11:00 in Shanghai,
// p-lunch's slot.
var pushTickAt = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

// checkPushTick: p-lunch's four groups each get a delivery with its outcome
// recorded: the WeCom group a task for its owner, the relay groups a post
// through the bridge.
func checkPushTick(t *testing.T, st *runtimetest.Stack, out string) {
	t.Helper()
	var rep push.TickReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Outcome == nil {
		t.Fatalf("not a tick report: %v\n%s", err, out)
	}
	if rep.Deliveries != 4 || rep.Tasks != 1 || rep.Sent != 3 {
		t.Errorf("tick: %s, want 4 deliveries: 1 task, 3 sent", out)
	}
	items, err := dynamo.Deliveries{Table: st.Table}.PlanDeliveries(context.Background(), "p-lunch", "2026-11-23")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.GroupID+" "+string(it.State)+" "+it.Reason)
	}
	slices.Sort(got)
	want := []string{"g-fan sent ", "g-general-1 sent ", "g-general-2 sent ",
		"g-vip-1 " + string(qunyun.DeliveryTaskCreated) + " "}
	if !slices.Equal(got, want) {
		t.Errorf("p-lunch deliveries:\n%q\nwant\n%q", got, want)
	}
	if n := len(st.Sandbox.Calls("/cgi-bin/externalcontact/add_msg_template")); n != 1 {
		t.Errorf("the WeCom sandbox got %d tasks, want 1", n)
	}
	var groups []string
	for _, p := range st.Bridge.Posts() {
		groups = append(groups, p.GroupID)
	}
	slices.Sort(groups)
	if want := []string{"g-fan", "g-general-1", "g-general-2"}; !slices.Equal(groups, want) {
		t.Errorf("the bridge got posts for %q, want %q", groups, want)
	}
}

func TestReplayClock(t *testing.T) {
	tick := []byte(`{"kind":"tick","scheduledTime":"2026-11-23T03:00:00Z"}`)
	link := []byte(`{"rawQueryString":"from=groupmessage"}`)
	stackAt := func(start string) local.Endpoints {
		return local.Endpoints{ClockStart: start, ClockSpeed: "60"}
	}
	tests := []struct {
		name, explicit string
		event          []byte
		stack          local.Endpoints
		running        bool
		wantStart      string
		warns          bool
	}{
		{"the event's time", "", tick, stackAt("2026-11-23T02:00:00Z"), true, "2026-11-23T03:00:00Z", false},
		{"not the stack's stepped clock", "", tick, local.Endpoints{ClockFile: filepath.Join(t.TempDir(), "clock")}, true, "2026-11-23T03:00:00Z", false},
		{"explicit wins", "2026-11-23T02:59:00Z", tick, stackAt("2026-11-23T02:00:00Z"), true, "2026-11-23T02:59:00Z", false},
		{"no time: the stack's clock", "", link, stackAt("2026-11-23T02:00:00Z"), true, "2026-11-23T02:00:00Z", false},
		{"the stack ran past the tick", "", tick, stackAt("2026-11-24T00:00:00Z"), true, "2026-11-23T03:00:00Z", true},
		{"no stack, no warning", "", tick, stackAt("2026-11-24T00:00:00Z"), false, "2026-11-23T03:00:00Z", false},
	}
	for _, tt := range tests {
		var w strings.Builder
		e := tt.stack
		if err := replayClock(&w, &e, tt.event, tt.explicit, tt.running); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if e.ClockStart != tt.wantStart || strings.Contains(w.String(), "is past this tick") != tt.warns {
			t.Errorf("%s: clock %q (want %q), said %q", tt.name, e.ClockStart, tt.wantStart, w.String())
		}
		if e.ClockStart != tt.stack.ClockStart && (e.ClockSpeed != "" || e.ClockFile != "") {
			t.Errorf("%s: a replay clock kept the stack's speed %q or file %q", tt.name, e.ClockSpeed, e.ClockFile)
		}
	}
	var w strings.Builder
	if err := replayClock(&w, &local.Endpoints{}, tick, "tomorrow", false); err == nil {
		t.Error("a bad --clock-start was accepted")
	}
}
