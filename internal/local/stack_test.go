package local_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/capacity"
	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/sam"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/syncbuf"
	"github.com/qunyun/qunyun/internal/wechat"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// nightlyUTC is 02:00 in Asia/Shanghai, when ScoringFunction's cron fires.
var nightlyUTC = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

// TestStackEndToEnd starts the whole stack on free ports, every function
// replaced by the echo test function, a real dynalite, and a clock at 60×
// starting two minutes before 02:00 Shanghai time.
func TestStackEndToEnd(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	dir := t.TempDir()
	stackLog := &syncbuf.Buffer{}
	st, stop := runStack(t, local.Config{
		Root: root, Addr: "127.0.0.1:0", BusAddr: "127.0.0.1:0", DynamoAddr: "127.0.0.1:0",
		DataDir: filepath.Join(dir, "dynalite"), BinDir: filepath.Join(dir, "bin"), StateFile: filepath.Join(dir, "stack.json"),
		ClockSpeed: 60, ClockStart: nightlyUTC.Add(-2 * time.Minute),
		Package: func(string) string { return "./internal/local/testdata/echo" },
		Poll:    50 * time.Millisecond, WarmEngine: true, Logger: slog.New(slog.NewTextHandler(stackLog, nil)),
	})
	defer func() {
		stop()
		if _, err := os.Stat(filepath.Join(dir, "stack.json")); !os.IsNotExist(err) {
			t.Errorf("stack.json left behind after stop: %v", err)
		}
	}()
	e := st.Endpoints()

	t.Run("healthz and state file", func(t *testing.T) {
		resp, err := http.Get(e.Gateway + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("/healthz = %d", resp.StatusCode)
		}
		saved, err := local.ReadState(filepath.Join(dir, "stack.json"))
		if err != nil || saved != e {
			t.Errorf("state file %+v (%v), want %+v", saved, err, e)
		}
	})

	t.Run("dynalite warmed up, leaving only the stack's table", func(t *testing.T) {
		if !strings.Contains(stackLog.String(), "dynalite warmed up") {
			t.Errorf("no warm-up in the stack's log:\n%s", stackLog)
		}
		db := dynamodb.New(dynamodb.Options{Region: local.Region, BaseEndpoint: aws.String(e.DynamoDB),
			Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
		out, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{})
		if err != nil || !slices.Equal(out.TableNames, []string{e.TableName}) {
			t.Errorf("tables %v (%v), want only %s", out.TableNames, err, e.TableName)
		}
	})

	t.Run("gateway delivers the API Gateway event", func(t *testing.T) {
		body := "<xml><MsgId>1</MsgId></xml>"
		resp, err := http.Post(e.Gateway+"/wechat/demo-oa?signature=s&timestamp=1&nonce=n", "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The echo's answer is the event itself, a bare JSON object:
		// API Gateway sends that back as a 200 JSON body.
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s: %v", resp.StatusCode, raw, err)
		}
		if ev.Version != "2.0" || ev.RouteKey != "POST /wechat/{account}" || ev.RawPath != "/wechat/demo-oa" ||
			ev.RawQueryString != "signature=s&timestamp=1&nonce=n" || ev.PathParameters["account"] != "demo-oa" ||
			ev.QueryStringParameters["nonce"] != "n" || ev.Body != body || ev.IsBase64Encoded ||
			ev.Headers["content-type"] != "text/xml" || ev.RequestContext.Stage != "$default" ||
			ev.RequestContext.HTTP.Method != "POST" || ev.RequestContext.HTTP.SourceIP != "127.0.0.1" ||
			ev.RequestContext.AccountID != local.AccountID || ev.RequestContext.TimeEpoch == 0 {
			t.Errorf("event %s", raw)
		}
		// Two segments: a one-segment GET at the root is the callback's
		// (the WeCom verify-file route, GET /{file}).
		resp, err = http.Get(e.Gateway + "/no/where")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || string(raw) != `{"message":"Not Found"}` {
			t.Errorf("unknown route: %d %s", resp.StatusCode, raw)
		}
	})

	t.Run("an HTTP invocation stays in flight after its client gives up", func(t *testing.T) {
		client := &http.Client{Timeout: 200 * time.Millisecond}
		if resp, err := client.Post(e.Gateway+"/wechat/demo-oa", "application/json", strings.NewReader(`{"echo:sleepMs":3000}`)); err == nil {
			resp.Body.Close()
			t.Fatalf("answered %d before the function's 3 s sleep ended", resp.StatusCode)
		}
		if got := inFlight(t, e.Gateway); got.HTTP != 1 {
			t.Errorf("in flight once the client gave up: %+v, want 1 HTTP", got)
		}
		deadline := time.Now().Add(30 * time.Second) // wallclock: a bound on waiting, not an assertion
		for inFlight(t, e.Gateway).HTTP != 0 {
			if time.Now().After(deadline) { // wallclock: a bound on waiting, not an assertion
				t.Fatal("the HTTP invocation never finished")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("bus routes events to exactly the matching functions", func(t *testing.T) {
		cfg := aws.Config{Region: local.Region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
		client := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(e.EventBus) })
		want := map[string][]string{
			"QuestionAsked":         {"SessionFunction"},
			"DeliveryRequested":     {"PushFunction"},
			"ScoringShardRequested": {"ScoringFunction"},
			"MessageReceived":       nil,
		}
		var entries []types.PutEventsRequestEntry
		var order []string
		for dt := range want {
			order = append(order, dt)
			entries = append(entries, types.PutEventsRequestEntry{
				Source: aws.String("qunyun"), DetailType: aws.String(dt), Detail: aws.String(`{"id":"e2e-` + dt + `"}`),
				EventBusName: aws.String(e.EventBusName),
			})
		}
		out, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, out)
		}
		ids := map[string]string{} // event id → detail type
		for i, r := range out.Entries {
			ids[aws.ToString(r.EventId)] = order[i]
		}
		got := map[string][]string{}
		deadline := time.Now().Add(10 * time.Second) // wallclock: a bound on waiting, not an assertion
		for {
			got = map[string][]string{}
			n := 0
			for _, d := range st.Bus().Deliveries() {
				if dt, ok := ids[d.ID]; ok && d.Kind == "rule" {
					if d.Error != "" {
						t.Errorf("delivery %s to %s failed: %s", dt, d.Function, d.Error)
					}
					got[dt] = append(got[dt], d.Function)
					n++
				}
			}
			if n >= 3 || time.Now().After(deadline) { // wallclock: a bound on waiting, not an assertion
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // room for a wrong extra delivery to show up
		for _, d := range st.Bus().Deliveries() {
			if dt, ok := ids[d.ID]; ok && d.Kind == "rule" && !contains(want[dt], d.Function) {
				t.Errorf("%s delivered to %s, which does not match it", dt, d.Function)
			}
		}
		for dt, fns := range want {
			if strings.Join(got[dt], ",") != strings.Join(fns, ",") {
				t.Errorf("%s reached %v, want %v", dt, got[dt], fns)
			}
		}
	})

	t.Run("nightly schedule fires at 02:00 Shanghai", func(t *testing.T) {
		var fired *eventbus.Delivery
		deadline := time.Now().Add(15 * time.Second)      // wallclock: a bound on waiting, not an assertion
		for fired == nil && time.Now().Before(deadline) { // wallclock: a bound on waiting, not an assertion
			for _, d := range st.Bus().Deliveries() {
				if d.Kind == "schedule" && d.Function == "ScoringFunction" {
					fired = &d
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if fired == nil {
			t.Fatalf("ScoringFunction's schedule did not fire; clock at %v", st.Clock().Now())
		}
		if !fired.ScheduledTime.Equal(nightlyUTC) || fired.At.Before(nightlyUTC) || fired.At.After(nightlyUTC.Add(time.Minute)) || fired.Error != "" {
			t.Errorf("fired %+v, want at 18:00Z (02:00 Shanghai) without error", fired)
		}
		if string(fired.Payload) != `{"kind":"nightly","scheduledTime":"2026-11-22T18:00:00Z"}` {
			t.Errorf("payload %s", fired.Payload)
		}
		// The per-minute ticks fire too, each minute once.
		ticks := map[time.Time]int{}
		for _, d := range st.Bus().Deliveries() {
			if d.Kind == "schedule" && d.Function == "PushFunction" {
				ticks[d.ScheduledTime]++
			}
		}
		for at, n := range ticks {
			if n != 1 || at.Second() != 0 {
				t.Errorf("PushFunction tick at %v fired %d times", at, n)
			}
		}
		// The clock starts on a minute: that minute's tick fires too.
		if start := nightlyUTC.Add(-2 * time.Minute); ticks[start] != 1 {
			t.Errorf("no PushFunction tick at the start time %v: %v", start, ticks)
		}
	})

	t.Run("invocations are recorded", func(t *testing.T) {
		resp, err := http.Get(e.Gateway + "/_local/invocations")
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Invocations []local.Invocation }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, inv := range body.Invocations {
			if inv.Status != "ok" {
				t.Errorf("invocation %+v not ok", inv)
			}
			seen[inv.Function+"/"+inv.Trigger] = true
		}
		for _, k := range []string{"CallbackFunction/http", "SessionFunction/bus", "ScoringFunction/bus", "PushFunction/bus"} {
			if !seen[k] {
				t.Errorf("no %s invocation in %v", k, seen)
			}
		}
	})

	t.Run("a failed async invocation is retried twice", func(t *testing.T) {
		cfg := aws.Config{Region: local.Region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
		client := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(e.EventBus) })
		_, err := client.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
			Source: aws.String("qunyun"), DetailType: aws.String("QuestionAsked"), EventBusName: aws.String(e.EventBusName),
			Detail: aws.String(`{"id":"retry-me","echo:fail":"store unavailable"}`),
		}}})
		if err != nil {
			t.Fatal(err)
		}
		// At 60x, the retries come about 1 s and 2 s (real) apart.
		var triggers []string
		deadline := time.Now().Add(10 * time.Second)           // wallclock: a bound on waiting, not an assertion
		for len(triggers) < 3 && time.Now().Before(deadline) { // wallclock: a bound on waiting, not an assertion
			time.Sleep(100 * time.Millisecond)
			triggers = nil
			for _, inv := range st.Invocations() {
				if inv.Function == "SessionFunction" && inv.Status == "error" && strings.Contains(inv.Error, "store unavailable") {
					triggers = append(triggers, inv.Trigger)
				}
			}
		}
		if strings.Join(triggers, ",") != "bus,retry 1,retry 2" {
			t.Errorf("failed invocations %v, want bus, retry 1, retry 2", triggers)
		}
	})

	t.Run("sandbox is mounted", func(t *testing.T) {
		resp, err := http.Get(e.SandboxOA + "/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(raw), "access_token") {
			t.Errorf("sandbox token: %s", raw)
		}
		resp, err = http.Get(e.Gateway + "/_local/sandbox/calls")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(raw), "/cgi-bin/token") {
			t.Errorf("sandbox calls: %s", raw)
		}
	})
}

// inFlight reads the stack's /_local/inflight.
func inFlight(t *testing.T, gateway string) local.InFlight {
	t.Helper()
	resp, err := http.Get(gateway + "/_local/inflight")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n local.InFlight
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil {
		t.Fatalf("/_local/inflight: %v", err)
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestNewRejectsBadInput(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(broken, []byte("Resources: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	base := local.Config{Root: root, Addr: "127.0.0.1:0", BusAddr: "127.0.0.1:0", DynamoAddr: "127.0.0.1:0", StateFile: "-"}
	tests := []struct {
		name string
		edit func(*local.Config)
		want string
	}{
		{"malformed template", func(c *local.Config) { c.Template = broken }, "is not valid YAML"},
		{"missing template", func(c *local.Config) { c.Template = filepath.Join(dir, "none.yaml") }, "read template"},
		{"missing accounts file", func(c *local.Config) { c.Accounts = filepath.Join(dir, "none.json") }, "accounts file"},
		{"gateway port in use", func(c *local.Config) { c.Addr = busy.Addr().String() }, "gateway address " + busy.Addr().String() + ": address already in use"},
		{"bus port in use", func(c *local.Config) { c.BusAddr = busy.Addr().String() }, "event bus address"},
		{"dynamodb port in use", func(c *local.Config) { c.DynamoAddr = busy.Addr().String() }, "DynamoDB address"},
		{"no dynalite", func(c *local.Config) {
			c.Root = dir
			c.Template = filepath.Join(root, "template.yaml")
			c.Accounts = filepath.Join(root, "infra/local/accounts.json")
		}, "run `make deps`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.edit(&cfg)
			_, err := local.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestFunctionEnv(t *testing.T) {
	tpl, err := sam.Load(filepath.Join(repoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := local.Endpoints{
		Gateway: "http://127.0.0.1:3000", DynamoDB: "http://127.0.0.1:3002", EventBus: "http://127.0.0.1:3001",
		SandboxOA: "http://127.0.0.1:3000/_sandbox/oa", SandboxWeCom: "http://127.0.0.1:3000/_sandbox/wecom",
		Accounts: "/repo/infra/local/accounts.json", TableName: "qunyun-local", EventBusName: "qunyun-local",
		Region: "us-east-1", Stage: "local", ClockStart: "2026-11-22T00:00:00Z@2026-11-22T04:00:00Z", ClockSpeed: "60",
		ClockFile: "/tmp/qunyun-clock",
	}
	envOf := func(id string) map[string]string {
		fn, ok := tpl.Function(id)
		if !ok {
			t.Fatalf("no %s", id)
		}
		list, err := local.FunctionEnv(tpl, fn, e)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		return m
	}
	push := envOf("PushFunction")
	want := map[string]string{
		"TABLE_NAME": "qunyun-local", "EVENT_BUS_NAME": "qunyun-local", "STAGE": "local",
		"ACCOUNTS_SSM_PREFIX": "/qunyun/local/accounts/", "WECHAT_API_BASE": e.SandboxOA, "WECOM_API_BASE": e.SandboxWeCom,
		"QUNYUN_ACCOUNTS": e.Accounts, "QUNYUN_CLOCK_START": e.ClockStart, "QUNYUN_CLOCK_SPEED": "60", "QUNYUN_CLOCK_FILE": e.ClockFile,
		"PUBLIC_BASE_URL": e.Gateway, "AWS_ENDPOINT_URL_DYNAMODB": e.DynamoDB, "AWS_ENDPOINT_URL_EVENTBRIDGE": e.EventBus,
		"AWS_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "PushFunction", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_LOG_FORMAT": "JSON",
	}
	for k, v := range want {
		if push[k] != v {
			t.Errorf("PushFunction %s = %q, want %q", k, push[k], v)
		}
	}
	if _, ok := envOf("CallbackFunction")["PUBLIC_BASE_URL"]; ok {
		t.Error("CallbackFunction got PUBLIC_BASE_URL, which the template does not declare for it")
	}
	if _, ok := push["HOME"]; ok {
		t.Error("the developer's HOME leaked into a function")
	}
}

// TestStackRealCallback runs the real CallbackFunction on the stack (the
// others are echo): WeChat's URL verification for the demo OA account must
// come back as the raw echostr, an unknown account must be refused, and
// WeCom's domain ownership file must be served from the template's
// WeComVerifyCode (set here in a copy of the template, as a deploy would).
func TestStackRealCallback(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	dir := t.TempDir()
	const verifyCode = "Ab12Cd34Ef56Gh78"
	st, stop := runStack(t, local.Config{
		Root: root, Addr: "127.0.0.1:0", BusAddr: "127.0.0.1:0", DynamoAddr: "127.0.0.1:0",
		Template: templateWith(t, dir, "  WeComVerifyCode:\n    Type: String\n    Default: \"\"\n",
			"  WeComVerifyCode:\n    Type: String\n    Default: "+verifyCode+"\n"),
		DataDir: filepath.Join(dir, "dynalite"), BinDir: filepath.Join(dir, "bin"), StateFile: "-",
		Package: func(id string) string {
			if id == "CallbackFunction" {
				return local.FunctionPackage(id)
			}
			return "./internal/local/testdata/echo"
		},
	})
	defer stop()
	gw := st.Endpoints().Gateway

	ts := strconv.FormatInt(st.Clock().Now().Unix(), 10)
	const token, nonce, echostr = "demoOAToken2026", "n0nce", "5837397749218732541"
	q := url.Values{"signature": {wechat.Signature(token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {echostr}}
	resp, err := http.Get(gw + "/wechat/demo-oa?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != echostr {
		t.Errorf("URL verification: %d %q, want 200 %q", resp.StatusCode, body, echostr)
	}

	resp, err = http.Get(gw + "/wechat/no-such-account?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("unknown account: %d %q, want a 4xx", resp.StatusCode, body)
	}

	for _, tt := range []struct {
		path string
		want int
	}{
		{"/WW_verify_" + verifyCode + ".txt", 200},
		{"/WW_verify_Zz9.txt", 404},
		{"/favicon.ico", 404},
	} {
		resp, err := http.Get(gw + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s: %d %q, want %d", tt.path, resp.StatusCode, body, tt.want)
			continue
		}
		if tt.want == 200 && (string(body) != verifyCode || resp.Header.Get("Content-Type") != "text/plain") {
			t.Errorf("GET %s: %q as %q, want the bare code as text/plain", tt.path, body, resp.Header.Get("Content-Type"))
		}
	}

	// The capacity meter counts the callback's DynamoDB requests under its
	// account's channel, through the trace id the function's SDK sends.
	dir2, err := accounts.LoadFile(filepath.Join(root, "infra", "local", "accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	oa, err := dir2.Account(context.Background(), "demo-oa")
	if err != nil {
		t.Fatal(err)
	}
	before := capacityOf(t, gw)
	req, err := (&callbacks.Builder{Random: strings.NewReader(strings.Repeat("r", 64))}).OAText(oa, "oMeter", "你好", 42, st.Clock().Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&callbacks.Sender{Base: gw, Client: &http.Client{Timeout: time.Minute}}).Send(context.Background(), req)
	if err != nil || !res.Accepted {
		t.Fatalf("OA text: %+v, %v", res, err)
	}
	used := capacityOf(t, gw).Sub(before)
	if u := used.ByKind["oa"]; u.Invocations != 1 || u.Requests == 0 || u.WriteUnits < 1 || u.Operations["PutItem"]+u.Operations["UpdateItem"] == 0 {
		t.Errorf("the OA text's cost: %+v (all: %+v)", u, used.ByKind)
	}
	t.Logf("an OA text cost %+v", used.ByKind["oa"])
	if u := used.ByKind[capacity.Unknown]; u.Requests != 0 {
		t.Errorf("%d requests with a trace id the meter did not know", u.Requests)
	}
}

// capacityOf reads the stack's /_local/capacity.
func capacityOf(t *testing.T, gateway string) capacity.Snapshot {
	t.Helper()
	resp, err := http.Get(gateway + "/_local/capacity")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s capacity.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/_local/capacity: %d, %v", resp.StatusCode, err)
	}
	return s
}

// templateWith writes template.yaml with old replaced by new into dir, with
// the Makefile beside it (validation looks for the build targets there),
// and returns its path.
func templateWith(t *testing.T, dir, old, new string) string {
	t.Helper()
	root := repoRoot(t)
	tpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tpl), old) {
		t.Fatalf("template.yaml has no %q", old)
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"template.yaml": strings.Replace(string(tpl), old, new, 1), "Makefile": string(mk)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "template.yaml")
}

// TestStackSteppedClock runs the stack on a stepped clock: nothing fires
// until Step moves the clock, each scheduled time up to the step fires
// exactly once, at its own scheduled time, and the functions' processes
// get the clock's file.
func TestStackSteppedClock(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	dir := t.TempDir()
	start := nightlyUTC.Add(-3 * time.Minute)
	st, stop := runStack(t, local.Config{
		Root: root, Addr: "127.0.0.1:0", BusAddr: "127.0.0.1:0", DynamoAddr: "127.0.0.1:0",
		DataDir: "-", BinDir: filepath.Join(dir, "bin"), StateFile: "-",
		ClockStart: start, ClockFile: filepath.Join(dir, "clock"),
		Package: func(string) string { return "./internal/local/testdata/echo" },
	})
	defer stop()
	ctx := context.Background()
	if e := st.Endpoints(); e.ClockFile != filepath.Join(dir, "clock") {
		t.Errorf("endpoints' clock file %q", e.ClockFile)
	}
	fires := func() map[string][]time.Time {
		m := map[string][]time.Time{}
		for _, d := range st.Bus().Deliveries() {
			if d.Kind == "schedule" {
				m[d.Function] = append(m[d.Function], d.ScheduledTime)
			}
		}
		return m
	}
	// Real time passes; the clock does not.
	time.Sleep(300 * time.Millisecond)
	if !st.Clock().Now().Equal(start) {
		t.Fatalf("clock at %v before any step, want %v", st.Clock().Now(), start)
	}
	if err := st.Step(ctx, start.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	pushAt := len(fires()["PushFunction"])
	if pushAt == 0 {
		t.Fatalf("no push tick at the start minute: %v", fires())
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(fires()["PushFunction"]); n != pushAt {
		t.Fatalf("%d push ticks without a step, want %d", n, pushAt)
	}
	// One step over several minutes fires each minute once, in order.
	if err := st.Step(ctx, nightlyUTC.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.Step(ctx, nightlyUTC); err != nil { // back: only waits
		t.Fatal(err)
	}
	got := fires()
	if s := got["ScoringFunction"]; len(s) != 1 || !s[0].Equal(nightlyUTC) {
		t.Errorf("scoring fired at %v, want once at %v", s, nightlyUTC)
	}
	push := got["PushFunction"]
	seen := map[time.Time]bool{}
	for _, at := range push {
		if seen[at] {
			t.Errorf("push tick %v fired twice", at)
		}
		seen[at] = true
	}
	for m := start; !m.After(nightlyUTC.Add(time.Minute)); m = m.Add(time.Minute) {
		if !seen[m] {
			t.Errorf("no push tick for %v (fired: %v)", m, push)
		}
	}
	if !st.Clock().Now().Equal(nightlyUTC.Add(time.Minute)) {
		t.Errorf("clock at %v, want %v", st.Clock().Now(), nightlyUTC.Add(time.Minute))
	}
}

// runStack starts a stack from cfg (function output into a buffer that is
// shown when the test fails), waits until it is ready and returns it with
// the function that stops it and checks Run's error.
func runStack(t *testing.T, cfg local.Config) (st *local.Stack, stop func()) {
	t.Helper()
	log := &syncbuf.Buffer{}
	cfg.Log = log
	st, err := local.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- st.Run(ctx) }()
	select {
	case <-st.Ready():
	case err := <-runErr:
		cancel()
		t.Fatalf("Run before ready: %v\nfunction output:\n%s", err, log)
	case <-time.After(90 * time.Second):
		cancel()
		t.Fatalf("stack not ready after 90 s\nfunction output:\n%s", log)
	}
	return st, func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("function output:\n%s", log)
		}
	}
}
