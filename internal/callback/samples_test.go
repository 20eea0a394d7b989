package callback_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// sampleTime is when the samples were "sent": replay them with
// QUNYUN_CLOCK_START=2026-11-22T03:00:00Z (docs/protocols.md).
var sampleTime = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// zeroReader makes the samples' AES randoms fixed, so regenerating them
// gives the same files.
type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 0x5a
	}
	return len(b), nil
}

// TestWriteSampleEvents regenerates events/callback-*.json, signed for the
// demo accounts of infra/local/accounts.json. It runs only when asked:
//
//	QUNYUN_WRITE_SAMPLES=1 go test ./internal/callback -run TestWriteSampleEvents
func TestWriteSampleEvents(t *testing.T) {
	if os.Getenv("QUNYUN_WRITE_SAMPLES") == "" {
		t.Skip("set QUNYUN_WRITE_SAMPLES=1 to regenerate events/callback-*.json")
	}
	path := "../../infra/local/accounts.json"
	if p := os.Getenv("QUNYUN_SAMPLE_ACCOUNTS"); p != "" {
		path = p
	}
	dir, err := accounts.LoadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("infra/local/accounts.json does not exist yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	all, _ := dir.All(t.Context())
	byKind := map[qunyun.Channel]qunyun.Account{}
	for _, a := range all {
		if _, ok := byKind[a.Kind]; !ok {
			byKind[a.Kind] = a
		}
	}
	ts := strconv.FormatInt(sampleTime.Unix(), 10)
	nonce := "1763780400"
	write := func(name string, req events.APIGatewayV2HTTPRequest) {
		t.Helper()
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(req); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("../../events", name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oa, wecom, bot, relay := byKind[qunyun.ChannelOA], byKind[qunyun.ChannelWeCom], byKind[qunyun.ChannelWeComBot], byKind[qunyun.ChannelRelay]
	if oa.ID != "" {
		q := url.Values{"signature": {wechat.Signature(oa.Token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {"4375120948345356249"}}
		write("callback-oa-verify.json", apiRequest("GET", "/wechat/{account}", "account", oa.ID, q, "", nil))
		text := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[o-demo-fan-1]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[菜单]]></Content><MsgId>24000000000000001</MsgId></xml>`, ts)
		sub := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[o-demo-fan-2]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_demo]]></EventKey></xml>`, ts)
		q = url.Values{"signature": {wechat.Signature(oa.Token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}, "openid": {"o-demo-fan-1"}}
		if oa.EncodingAESKey == "" {
			write("callback-oa-text.json", apiRequest("POST", "/wechat/{account}", "account", oa.ID, q, text, nil))
		} else {
			// An account with a key takes only sealed bodies (safe mode).
			c, err := wechat.NewCrypto(oa.Token, oa.EncodingAESKey, oa.ReceiveID())
			if err != nil {
				t.Fatal(err)
			}
			encd, _ := c.Encrypt([]byte(text), zeroReader{})
			q.Set("encrypt_type", "aes")
			q.Set("msg_signature", wechat.MsgSignature(oa.Token, ts, nonce, encd))
			write("callback-oa-text.json", apiRequest("POST", "/wechat/{account}", "account", oa.ID, q, safeBody("gh_demo", encd), nil))

			encd, _ = c.Encrypt([]byte(sub), zeroReader{})
			q = url.Values{"signature": {wechat.Signature(oa.Token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce},
				"encrypt_type": {"aes"}, "msg_signature": {wechat.MsgSignature(oa.Token, ts, nonce, encd)}, "openid": {"o-demo-fan-2"}}
			write("callback-oa-subscribe-safe.json", apiRequest("POST", "/wechat/{account}", "account", oa.ID, q, safeBody("gh_demo", encd), nil))
		}
	}
	if wecom.ID != "" {
		c, err := wechat.NewCrypto(wecom.Token, wecom.EncodingAESKey, wecom.ReceiveID())
		if err != nil {
			t.Fatal(err)
		}
		echo, _ := c.Encrypt([]byte("1616140317555161061"), zeroReader{})
		q := url.Values{"msg_signature": {wechat.MsgSignature(wecom.Token, ts, nonce, echo)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {echo}}
		write("callback-wecom-verify.json", apiRequest("GET", "/wechat/{account}", "account", wecom.ID, q, "", nil))
		join := fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[group-demo-1]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>3</JoinScene><MemChangeCnt>1</MemChangeCnt><MemChangeList><Item><![CDATA[wm-demo-43]]></Item></MemChangeList></xml>`, wecom.CorpID, ts)
		encd, _ := c.Encrypt([]byte(join), zeroReader{})
		q = url.Values{"msg_signature": {wechat.MsgSignature(wecom.Token, ts, nonce, encd)}, "timestamp": {ts}, "nonce": {nonce}}
		body := fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt><AgentID><![CDATA[%s]]></AgentID></xml>`, wecom.CorpID, encd, wecom.AgentID)
		write("callback-wecom-join.json", apiRequest("POST", "/wechat/{account}", "account", wecom.ID, q, body, nil))
	}
	if bot.ID != "" {
		c, err := wechat.NewCrypto(bot.Token, bot.EncodingAESKey, "")
		if err != nil {
			t.Fatal(err)
		}
		msg := `{"msgid":"bot-demo-1","aibotid":"bot-demo","chatid":"group-demo-1","chattype":"group","from":{"userid":"wm-demo-42"},"msgtype":"text","text":{"content":"@小满助手 打卡"}}`
		encd, _ := c.Encrypt([]byte(msg), zeroReader{})
		q := url.Values{"msg_signature": {wechat.MsgSignature(bot.Token, ts, nonce, encd)}, "timestamp": {ts}, "nonce": {nonce}}
		write("callback-bot-checkin.json", apiRequest("POST", "/wechat/{account}", "account", bot.ID, q, `{"encrypt":"`+encd+`"}`, nil))
	}
	if relay.ID != "" {
		body := `{"id":"bridge-demo-1","type":"message","group_id":"group-demo-1","group_name":"小满生活 1 群","member_id":"wm-demo-42","member_name":"小王","kind":"text","text":"今晚的分享几点开始？","time":` + ts + `}`
		hs := map[string]string{"content-type": "application/json", "x-qunyun-timestamp": ts,
			"x-qunyun-signature": wechat.SignRelay([]byte(relay.HMACKey), ts, []byte(body))}
		write("callback-relay-message.json", apiRequest("POST", "/wechat/{account}", "account", relay.ID, url.Values{}, body, hs))
	}
	write("callback-link-open.json", apiRequest("GET", "/r/{code}", "code", "demo-link-1", url.Values{"from": {"groupmessage"}}, "",
		map[string]string{"user-agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50"}))
}

// apiRequest builds an API Gateway v2 request as the HttpApi delivers it.
func apiRequest(method, route, param, value string, q url.Values, body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	path := strings.Replace(route, "{"+param+"}", value, 1)
	if headers == nil {
		headers = map[string]string{}
	}
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + route, RawPath: path, RawQueryString: q.Encode(),
		Headers: headers, PathParameters: map[string]string{param: value}, Body: body,
	}
	if len(q) > 0 {
		req.QueryStringParameters = map[string]string{}
		for k, vs := range q {
			req.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	req.RequestContext.RouteKey = req.RouteKey
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = path
	req.RequestContext.RequestID = "sample-" + value
	req.RequestContext.Stage = "$default"
	req.RequestContext.Time = sampleTime.Format("02/Jan/2006:15:04:05 -0700")
	req.RequestContext.TimeEpoch = sampleTime.UnixMilli()
	return req
}

// TestSampleEventsReplay sends every events/callback-*.json through the
// handler with the demo accounts at the samples' time: each is recorded
// (200), the link redirects (302), and a second replay records nothing new.
func TestSampleEventsReplay(t *testing.T) {
	dir, err := accounts.LoadFile("../../infra/local/accounts.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("infra/local/accounts.json does not exist yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil)
	f.clock.Set(sampleTime)
	f.handler.Accounts = dir
	if err := (dynamo.Links{Table: f.table}).PutLink(t.Context(), qunyun.Link{Code: "demo-link-1", URL: "https://example.com/menu", GroupID: "group-demo-1", ContentID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(t.Context(), qunyun.CheckinRule{ID: "daily", AccountID: "demo-bot"}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../events/callback-*.json")
	if len(files) == 0 {
		t.Fatal("no samples")
	}
	replay := func() int {
		before := len(f.items())
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(data, &req); err != nil {
				t.Fatal(err)
			}
			f.clock.Set(requestTime(req))
			// Through the Lambda handler, which tells the schedule's
			// input from a request as the function's runtime gets them.
			out, err := f.handler.Invoke(t.Context(), data)
			if rep, ok := out.(callback.ResumeReport); ok || err != nil {
				if err != nil || req.RouteKey != "" || rep.Failed != 0 {
					t.Fatalf("%s: %+v %v", filepath.Base(file), out, err)
				}
				continue
			}
			resp, ok := out.(events.APIGatewayV2HTTPResponse)
			if !ok {
				t.Fatalf("%s: answered %T", filepath.Base(file), out)
			}
			want := 200
			if strings.HasPrefix(req.RawPath, "/r/") {
				want = 302
			}
			if resp.StatusCode != want {
				t.Fatalf("%s: %d %q", filepath.Base(file), resp.StatusCode, resp.Body)
			}
			if strings.Contains(file, "bot-checkin") && !strings.Contains(resp.Body, "encrypt") {
				t.Fatalf("bot check-in got no sealed reply: %q", resp.Body)
			}
		}
		return len(f.items()) - before
	}
	first := replay()
	if first == 0 {
		t.Fatal("the samples recorded nothing")
	}
	// A replay adds nothing: the callbacks are duplicates, and the link
	// sample carries a fixed request id at a clock that stands still, so
	// its open has the same key (real requests have unique ids).
	if again := replay(); again != 0 {
		t.Fatalf("replay added %d items, want 0", again)
	}
}

// requestTime is when a sample was sent: its signed timestamp, else the
// gateway's request time.
func requestTime(req events.APIGatewayV2HTTPRequest) time.Time {
	q, _ := url.ParseQuery(req.RawQueryString)
	ts := q.Get("timestamp")
	if ts == "" {
		ts = req.Headers["x-qunyun-timestamp"]
	}
	if sec, err := strconv.ParseInt(ts, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC()
	}
	if req.RequestContext.TimeEpoch != 0 {
		return time.UnixMilli(req.RequestContext.TimeEpoch).UTC()
	}
	return sampleTime
}
