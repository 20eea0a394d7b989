package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/gateway"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/sam"
	"github.com/qunyun/qunyun/internal/session"
)

// The host's page is tested the way a host reaches it: the link in the
// reminder, routed by template.yaml's HttpApi routes into the payload-2.0
// event API Gateway sends (the local gateway's own code), answered by the
// function's handler (Service.Invoke).

var linkRe = regexp.MustCompile(`https://api\.example\.com/sessions/\S+`)

// pageRoutes are SessionFunction's HttpApi routes in template.yaml.
func pageRoutes(t *testing.T) []gateway.Route {
	t.Helper()
	tpl, err := sam.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fn, ok := tpl.Function("SessionFunction")
	if !ok {
		t.Fatal("no SessionFunction in template.yaml")
	}
	var routes []gateway.Route
	for _, ev := range fn.Events {
		if ev.Type == "HttpApi" {
			routes = append(routes, gateway.Route{Method: ev.Method, Path: ev.Path, Function: fn.LogicalID})
		}
	}
	if len(routes) == 0 {
		t.Fatal("SessionFunction has no HttpApi route")
	}
	return routes
}

type pageAnswer struct {
	Status  int
	Headers map[string]string
	Body    string
}

// open GETs link through the template's routes and the function handler.
// An unrouted path is API Gateway's own 404 (the function never runs).
func (f *fixture) open(link string) pageAnswer {
	f.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		f.t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, u.RequestURI(), nil)
	route, params, ok := gateway.Match(pageRoutes(f.t), r.Method, r.URL.EscapedPath())
	if !ok {
		return pageAnswer{Status: http.StatusNotFound, Body: "no route"}
	}
	ev := gateway.NewEvent(r, nil, route, params, gateway.Context{RequestID: "r1", Time: f.clk.Now()})
	raw, err := json.Marshal(ev)
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := f.svc.Invoke(f.ctx, raw)
	if err != nil {
		f.t.Fatalf("invoke: %v", err)
	}
	resp, ok := out.(events.APIGatewayV2HTTPResponse)
	if !ok {
		f.t.Fatalf("answer is %T, not an API Gateway response", out)
	}
	return pageAnswer{Status: resp.StatusCode, Headers: resp.Headers, Body: resp.Body}
}

// writes counts the table writes made through f.tb from now on, to show
// that a page view writes nothing.
func (f *fixture) writes() *writeCounter {
	f.t.Helper()
	w, ok := f.tb.DB.(*writeCounter)
	if !ok {
		w = &writeCounter{API: f.tb.DB}
		f.tb.DB = w
	}
	return w
}

type writeCounter struct {
	dynamo.API
	n atomic.Int64
}

func (w *writeCounter) count() int64 { return w.n.Load() }

func (w *writeCounter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	w.n.Add(1)
	return w.API.PutItem(ctx, in, opts...)
}

func (w *writeCounter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	w.n.Add(1)
	return w.API.UpdateItem(ctx, in, opts...)
}

func (w *writeCounter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	w.n.Add(1)
	return w.API.DeleteItem(ctx, in, opts...)
}

func (w *writeCounter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	w.n.Add(1)
	return w.API.BatchWriteItem(ctx, in, opts...)
}

func (f *fixture) reminderLink() string {
	f.t.Helper()
	ds := byStep(f.rec.deliveries(f.t), "reminder")
	if len(ds) != 1 {
		f.t.Fatalf("%d reminders", len(ds))
	}
	link := linkRe.FindString(ds[0].Content.Text)
	if link == "" {
		f.t.Fatalf("reminder has no page link:\n%s", ds[0].Content.Text)
	}
	return link
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func lacks(t *testing.T, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("page shows %q", b)
		}
	}
}

func TestHostPage(t *testing.T) {
	f := newFixture(t)
	f.createSession("s1", start)
	// The host's rotation this week: another group, later.
	must(t, dynamo.Catalog{Table: f.tb}.PutGroup(f.ctx, qunyun.Group{ID: "g2", Name: "伦敦华人创业群", TimeZone: "Europe/London"}))
	_, err := dynamo.Sessions{Table: f.tb}.CreateSession(f.ctx, qunyun.Session{ID: "s2", GroupID: "g2", HostID: "h1", Topic: "出海", Start: start.Add(48 * time.Hour), End: start.Add(48*time.Hour + time.Hour)})
	must(t, err)

	f.tickAt(start.Add(-30 * time.Minute))
	link := f.reminderLink()
	if !strings.HasPrefix(link, "https://api.example.com/sessions/s1.") || len(strings.TrimPrefix(link, "https://api.example.com/sessions/s1.")) != 26 {
		t.Fatalf("link %q is not /sessions/<id>.<26-character key>", link)
	}

	t.Run("before the start", func(t *testing.T) {
		w := f.writes()
		before := w.count()
		p := f.open(link)
		if p.Status != http.StatusOK || !strings.HasPrefix(p.Headers["Content-Type"], "text/html") {
			t.Fatalf("status %d headers %v\n%s", p.Status, p.Headers, p.Body)
		}
		contains(t, p.Body, "私域复购", "李老师", "增长VIP群", "2026-11-23 20:00–20:45", "北京时间", "约 45 分钟", "即将开始",
			`name="viewport"`, "待回答的提问（0）")
		// The rotation: this session and the London one in London time.
		contains(t, p.Body, "本周轮值", "11-23 20:00–20:45（北京时间） · 增长VIP群 · 即将开始（本场）",
			"11-25 12:00–13:00（Europe/London 时间） · 伦敦华人创业群 · 未开始")
		lacks(t, p.Body, "<script", "回顾")
		if p.Headers["Cache-Control"] != "no-store" || p.Headers["Referrer-Policy"] != "no-referrer" || !strings.Contains(p.Headers["Content-Security-Policy"], "default-src 'none'") {
			t.Errorf("headers %v", p.Headers)
		}
		if w.count() != before {
			t.Error("opening the page wrote to the table")
		}
	})

	t.Run("a second reminder run carries the same link", func(t *testing.T) {
		l2, err := f.svc.PageLink(f.ctx, "s1")
		if err != nil || l2 != link {
			t.Fatalf("PageLink = %q, %v; the reminder had %q", l2, err, link)
		}
	})

	t.Run("wrong, missing or other keys are a plain 404 that writes nothing", func(t *testing.T) {
		key := strings.TrimPrefix(link, "https://api.example.com/sessions/s1.")
		other := strings.Repeat("A", 26)
		if key == other {
			other = strings.Repeat("B", 26)
		}
		w := f.writes()
		before := w.count()
		for _, bad := range []string{
			"https://api.example.com/sessions/s1",                         // the id alone
			"https://api.example.com/sessions/s1." + other,                // a guessed key
			"https://api.example.com/sessions/s1." + strings.ToLower(key), // not the key
			"https://api.example.com/sessions/s1." + key[:25],             // too short
			"https://api.example.com/sessions/s2." + key,                  // s1's key on s2 (never linked)
			"https://api.example.com/sessions/nope." + key,                // unknown session
			"https://api.example.com/sessions/s1%23META." + key,           // a key-shaped id
			"https://api.example.com/sessions/." + key,                    // no id
			"https://api.example.com/sessions/s1." + key + "%3Cscript%3E", // junk after the key
		} {
			p := f.open(bad)
			if p.Status != http.StatusNotFound {
				t.Errorf("%s: status %d\n%s", bad, p.Status, p.Body)
				continue
			}
			if p.Headers["Content-Type"] != "text/plain; charset=utf-8" || !strings.Contains(p.Body, "页面不存在") {
				t.Errorf("%s: 404 is not the plain message: %v %q", bad, p.Headers, p.Body)
			}
			lacks(t, p.Body, "私域复购", "script")
		}
		if w.count() != before {
			t.Error("a refused request wrote to the table")
		}
	})

	// Open, with questions, votes, an answer and a hidden question; one
	// question tries to inject markup.
	f.tickAt(start)
	f.say("m1", "hostm", "大家好，今天聊私域复购。复购率是私域运营最关键的指标，它直接决定社群的长期价值。", "", start.Add(time.Minute))
	q1 := f.ask("s1", "m2", "u1", "提问：复购率一般多少算健康？", start.Add(3*time.Minute))
	f.vote("s1", q1, "u2", start.Add(4*time.Minute), "m3")
	f.vote("s1", q1, "u6", start.Add(4*time.Minute+time.Second), "m4")
	f.ask("s1", "m5", "u3", `Q: <script>alert("x")</script> 会员分层怎么做？`, start.Add(5*time.Minute))
	f.ask("s1", "m6", "u4", "提问：加我微信领资料？", start.Add(6*time.Minute))
	f.say("m7", "mod1", "隐藏 3", "", start.Add(7*time.Minute))
	f.say("m9", "hostm", "健康的复购率在百分之三十以上，母婴和美妆类目会更高。", "m2", start.Add(9*time.Minute))
	f.tickAt(start.Add(10 * time.Minute))

	t.Run("during the session", func(t *testing.T) {
		p := f.open(link)
		if p.Status != http.StatusOK {
			t.Fatalf("status %d", p.Status)
		}
		contains(t, p.Body, "进行中", "待回答的提问（1）", "已回答（1）", "另有 1 条已被隐藏",
			`<li value="1">复购率一般多少算健康？ <span class="votes">+2</span>`, "健康的复购率在百分之三十以上",
			`<li value="2">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 会员分层怎么做？`)
		lacks(t, p.Body, "<script>", "加我微信领资料", "缺席成员")
	})

	f.tickAt(start.Add(45 * time.Minute))
	t.Run("closed, recap not yet made", func(t *testing.T) {
		p := f.open(link)
		contains(t, p.Body, "已结束，回顾整理中", "回顾会在结束后 1 分钟内整理好")
	})

	f.tickAt(start.Add(46 * time.Minute))
	t.Run("after the recap", func(t *testing.T) {
		if f.state("s1").State != qunyun.SessionRecapped {
			t.Fatal("not recapped")
		}
		r, _, err := dynamo.Sessions{Table: f.tb}.Recap(f.ctx, "s1")
		must(t, err)
		dm := byStep(f.rec.deliveries(t), "recap-dm")
		if len(dm) == 0 || len(r.Absent) != len(dm) {
			t.Fatalf("recap DMs %d, absent %v", len(dm), r.Absent)
		}
		p := f.open(link)
		contains(t, p.Body, "已结束", "要点：", "热门问题：", "缺席成员收到的回顾", "没来得及参加")
		// Exactly what absent members got, escaped.
		want := strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(dm[0].Content.Text)
		contains(t, p.Body, want)
		lacks(t, p.Body, "<script>")
	})

	t.Run("the link closes PageLifetime after the end", func(t *testing.T) {
		end := f.state("s1").End
		f.clk.Set(end.Add(session.PageLifetime))
		if p := f.open(link); p.Status != http.StatusOK {
			t.Fatalf("on the last day: status %d", p.Status)
		}
		f.clk.Set(end.Add(session.PageLifetime + time.Minute))
		p := f.open(link)
		if p.Status != http.StatusGone || p.Headers["Content-Type"] != "text/plain; charset=utf-8" || p.Headers["Cache-Control"] != "no-store" {
			t.Fatalf("after: status %d headers %v\n%s", p.Status, p.Headers, p.Body)
		}
		days := fmt.Sprintf("%d 天", int(session.PageLifetime.Hours()/24))
		contains(t, p.Body, "已结束超过", days)
		lacks(t, p.Body, "私域复购", "增长VIP群")
		key := strings.TrimPrefix(link, "https://api.example.com/sessions/s1.")
		if p := f.open("https://api.example.com/sessions/s1." + strings.Repeat("A", len(key))); p.Status != http.StatusNotFound && key != strings.Repeat("A", len(key)) {
			t.Errorf("a wrong key after expiry: status %d, want the same 404 as before", p.Status)
		}
	})
}

func TestHostPageTimeZoneAndCancel(t *testing.T) {
	f := newFixture(t)
	must(t, dynamo.Catalog{Table: f.tb}.PutGroup(f.ctx, qunyun.Group{ID: "g1", Name: "增长VIP群", AccountID: "wecom1", TimeZone: "America/Los_Angeles"}))
	f.createSession("s1", start)
	f.tickAt(start.Add(-30 * time.Minute))
	link := f.reminderLink()
	// 12:00 UTC on 23 Nov is 04:00 in Los Angeles (PST).
	contains(t, f.open(link).Body, "2026-11-23 04:00–04:45", "America/Los_Angeles 时间")

	_, _, err := dynamo.Sessions{Table: f.tb}.CancelSession(f.ctx, "s1")
	must(t, err)
	p := f.open(link)
	contains(t, p.Body, "已取消")
	lacks(t, p.Body, "待回答的提问")
}

func TestInvokePassesScheduleAndBusThrough(t *testing.T) {
	f := newFixture(t)
	f.createSession("s1", start)
	f.clk.Set(start.Add(-30 * time.Minute))
	out, err := f.svc.Invoke(context.Background(), json.RawMessage(`{"kind":"tick","scheduledTime":"2026-11-23T11:30:00Z"}`))
	if err != nil || out != nil {
		t.Fatalf("tick answered %v, %v", out, err)
	}
	if f.state("s1").State != qunyun.SessionReminded {
		t.Fatal("the tick through Invoke did not run")
	}
	if _, err := f.svc.Invoke(context.Background(), json.RawMessage(`{"kind":"bogus"}`)); qunyun.ErrorCode(err) != qunyun.EINVALID {
		t.Fatalf("bad input: %v", err)
	}
	// A request for another route of the API is not this page.
	raw := `{"version":"2.0","routeKey":"GET /r/{code}","rawPath":"/r/x","requestContext":{"http":{"method":"GET","path":"/r/x"}},"pathParameters":{"code":"x"}}`
	out, err = f.svc.Invoke(context.Background(), json.RawMessage(raw))
	if resp, ok := out.(events.APIGatewayV2HTTPResponse); err != nil || !ok || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("other route: %+v %v", out, err)
	}
}

func TestPageLinkWithoutBaseURL(t *testing.T) {
	f := newFixture(t)
	f.svc.PublicBaseURL = ""
	f.createSession("s1", start)
	w := f.writes()
	link, err := f.svc.PageLink(f.ctx, "s1")
	if err != nil || link != "" || w.count() != 0 {
		t.Fatalf("link %q err %v; %d writes", link, err, w.count())
	}
}

// BenchmarkServePage: one page view of an open session with 50 questions,
// against dynalite: six reads (key, session, group, host, the week's
// sessions, questions; the recap is a seventh once recapped).
func BenchmarkServePage(b *testing.B) {
	ctx := context.Background()
	clk := clock.NewManual(start)
	tb := dynamotest.NewTable(b, clk)
	svc := &session.Service{Sessions: dynamo.Sessions{Table: tb}, Catalog: dynamo.Catalog{Table: tb}, Clock: clk, PublicBaseURL: "https://api.example.com",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := (dynamo.Catalog{Table: tb}).PutGroup(ctx, qunyun.Group{ID: "g1", Name: "增长VIP群"}); err != nil {
		b.Fatal(err)
	}
	if err := (dynamo.Catalog{Table: tb}).PutHost(ctx, qunyun.Host{ID: "h1", Name: "李老师"}); err != nil {
		b.Fatal(err)
	}
	if _, err := (dynamo.Sessions{Table: tb}).CreateSession(ctx, qunyun.Session{ID: "s1", GroupID: "g1", HostID: "h1", Topic: "私域复购", Start: start, End: start.Add(45 * time.Minute), State: qunyun.SessionOpen}); err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		at := start.Add(time.Duration(i) * 20 * time.Second)
		if _, err := (dynamo.Sessions{Table: tb}).CaptureQuestion(ctx, qunyun.Question{SessionID: "s1", GroupID: "g1", MemberID: fmt.Sprintf("u%d", i), Text: "提问：复购率一般多少算健康？", At: at, MessageID: fmt.Sprintf("q%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	link, err := svc.PageLink(ctx, "s1")
	if err != nil {
		b.Fatal(err)
	}
	token := strings.TrimPrefix(link, "https://api.example.com/sessions/")
	req := events.APIGatewayV2HTTPRequest{RouteKey: session.PageRouteKey, PathParameters: map[string]string{"id": token}}
	req.RequestContext.HTTP.Method = http.MethodGet
	b.ResetTimer()
	for b.Loop() {
		if resp := svc.ServePage(ctx, req); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "待回答的提问（50）") {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
