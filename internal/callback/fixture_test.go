package callback_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// vector is one entry of internal/wechat/testdata/wechat-vectors.json.
type vector struct {
	Name               string `json:"name"`
	Token              string `json:"token"`
	EncodingAESKey     string `json:"encoding_aes_key"`
	ReceiveID          string `json:"receive_id"`
	Timestamp          string `json:"timestamp"`
	Nonce              string `json:"nonce"`
	Encrypt            string `json:"encrypt"`
	MsgSignature       string `json:"msg_signature"`
	ExpectMsg          string `json:"expect_msg"`
	Plaintext          string `json:"plaintext"`
	ExpectEncrypt      string `json:"expect_encrypt"`
	ExpectMsgSignature string `json:"expect_msg_signature"`
	Echostr            string `json:"echostr"`
	ExpectSignature    string `json:"expect_signature"`
}

func loadVector(tb testing.TB, name string) vector {
	tb.Helper()
	data, err := os.ReadFile("../wechat/testdata/wechat-vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		tb.Fatal(err)
	}
	for _, v := range vs {
		if v.Name == name {
			return v
		}
	}
	tb.Fatalf("no vector %s", name)
	return vector{}
}

const relaySecret = "relay-secret-for-tests"

// testAccounts are the accounts of the official vectors plus a relay.
var testAccounts = []qunyun.Account{
	{ID: "oa-spam", Kind: qunyun.ChannelOA, AppID: "wx2c2769f8efd9abc2", Token: "spamtest", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
	{ID: "oa-doc", Kind: qunyun.ChannelOA, AppID: "wx134c8103faa5a59e", Token: "AAAAA", EncodingAESKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	{ID: "oa-spam-plain", Kind: qunyun.ChannelOA, AppID: "wx2c2769f8efd9abc2", Token: "spamtest"},
	{ID: "oa-plain", Kind: qunyun.ChannelOA, AppID: "wx134c8103faa5a59e", Token: "AAAAA"}, // plaintext mode: no EncodingAESKey
	{ID: "oa-wrongid", Kind: qunyun.ChannelOA, AppID: "wx0000000000000000", Token: "spamtest", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
	{ID: "wecom-qdg", Kind: qunyun.ChannelWeCom, CorpID: "wx5823bf96d3bd56c7", Token: "QDG6eK", EncodingAESKey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"},
	{ID: "wecom-hj", Kind: qunyun.ChannelWeCom, CorpID: "ww1436e0e65a779aee", Token: "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", EncodingAESKey: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"},
	{ID: "bot", Kind: qunyun.ChannelWeComBot, Token: "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", EncodingAESKey: "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"},
	{ID: "relay", Kind: qunyun.ChannelRelay, HMACKey: relaySecret},
}

// recordingBus is a Publisher that keeps what was published.
type recordingBus struct {
	mu     sync.Mutex
	events []bus.Event
}

func (b *recordingBus) Publish(_ context.Context, evs ...bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, evs...)
	return nil
}

func (b *recordingBus) count(detailType string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, e := range b.events {
		if e.DetailType == detailType {
			n++
		}
	}
	return n
}

// distinct counts the different detail ids published with detailType.
// Concurrent deliveries of one callback may each publish its events while
// its record still lists them as to do; consumers dedupe on the id.
func (b *recordingBus) distinct(detailType string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := map[string]bool{}
	for _, e := range b.events {
		if e.DetailType == detailType {
			raw, _ := json.Marshal(e.Detail)
			var head struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(raw, &head)
			ids[head.ID] = true
		}
	}
	return len(ids)
}

type fixture struct {
	t       testing.TB
	table   *dynamo.Table
	clock   *clock.Manual
	bus     *recordingBus
	svc     *callback.Service
	handler *callback.Handler
}

// newFixture wires the real handler to a fresh dynalite table.
func newFixture(tb testing.TB, db func(dynamo.API) dynamo.API) *fixture {
	tb.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC))
	table := dynamotest.NewTable(tb, clk)
	if db != nil {
		table.DB = db(table.DB)
	}
	f := newFixtureOn(tb, callbackStores(table), clk)
	f.table = table
	f.svc.Moderation, f.svc.Contributions, f.svc.Staff = dynamo.Moderation{Table: table}, dynamo.Contributions{Table: table}, dynamo.People{Table: table}.Staff
	return f
}

func newFixtureOn(tb testing.TB, store callback.Stores, clk *clock.Manual) *fixture {
	tb.Helper()
	dir, err := accounts.NewStatic(testAccounts)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	rb := &recordingBus{}
	svc, err := callback.NewService(store, rb, clk.Now, nil, log)
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{t: tb, clock: clk, bus: rb, svc: svc, handler: callback.NewHandler(dir, svc, log)}
}

func (f *fixture) setTime(unix string) {
	sec, err := strconv.ParseInt(unix, 10, 64)
	if err != nil {
		f.t.Fatal(err)
	}
	f.clock.Set(time.Unix(sec, 0))
}

func (f *fixture) do(method, account string, q url.Values, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	req := events.APIGatewayV2HTTPRequest{
		RouteKey:       method + " /wechat/{account}",
		RawPath:        "/wechat/" + account,
		RawQueryString: q.Encode(),
		Headers:        headers,
		Body:           body,
		PathParameters: map[string]string{"account": account},
	}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = req.RawPath
	resp, err := f.handler.Handle(context.Background(), req)
	if err != nil {
		f.t.Fatalf("Handle returned an error: %v", err)
	}
	return resp
}

// items returns every item of the table (a Scan is fine in a test).
func (f *fixture) items() []dynamo.Item {
	f.t.Helper()
	var out []dynamo.Item
	in := &dynamodb.ScanInput{TableName: aws.String(f.table.Name)}
	for {
		res, err := dynamotest.Client(f.t).Scan(context.Background(), in)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func (f *fixture) countSK(prefix string) int {
	n := 0
	for _, it := range f.items() {
		var k dynamo.Keys
		_ = dynamo.Unmarshal(it, &k)
		if len(k.SK) >= len(prefix) && k.SK[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// relayRequest signs a relay body at the fixture's time.
func (f *fixture) relay(body string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	return f.do("POST", "relay", url.Values{}, body, map[string]string{
		"x-qunyun-timestamp": ts,
		"x-qunyun-signature": wechat.SignRelay([]byte(relaySecret), ts, []byte(body)),
		"content-type":       "application/json",
	})
}

func relayMessage(id, group, member, text string, at time.Time) string {
	b, _ := json.Marshal(map[string]any{"id": id, "type": "message", "group_id": group, "member_id": member,
		"member_name": "成员" + member, "kind": "text", "text": text, "time": at.Unix()})
	return string(b)
}

// oaPlainQuery is the query of a plaintext-mode OA POST: the 3-parameter
// signature only. Accounts with an EncodingAESKey refuse it (see sealOA).
func oaPlainQuery(token, ts, nonce string) url.Values {
	return url.Values{"signature": {wechat.Signature(token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}}
}

func safeBody(to, encrypt string) string {
	return fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>", to, encrypt)
}

// sealOA builds a safe-mode OA POST of plainXML for one of testAccounts, as
// WeChat sends it to an account with an EncodingAESKey: both signatures
// and the Encrypt envelope.
func sealOA(tb testing.TB, account, ts, plainXML string) (url.Values, string) {
	tb.Helper()
	var acct qunyun.Account
	for _, a := range testAccounts {
		if a.ID == account {
			acct = a
		}
	}
	c, err := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, acct.ReceiveID())
	if err != nil {
		tb.Fatalf("account %q: %v", account, err)
	}
	enc, err := c.Encrypt([]byte(plainXML), nil)
	if err != nil {
		tb.Fatal(err)
	}
	q := oaPlainQuery(acct.Token, ts, "n")
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", wechat.MsgSignature(acct.Token, ts, "n", enc))
	return q, safeBody("gh", enc)
}

// oa posts plainXML to a safe-mode OA account, signed at ts.
func (f *fixture) oa(account, ts, plainXML string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	q, body := sealOA(f.t, account, ts, plainXML)
	return f.do("POST", account, q, body, nil)
}

// reply is a passive text reply as WeChat reads it.
type reply struct {
	ToUserName, FromUserName, MsgType, Content string
}

// textReply decodes a passive reply. ParseOA cannot: a reply is not an
// inbound message and has no MsgId.
func textReply(tb testing.TB, plain []byte) reply {
	tb.Helper()
	var r reply
	if err := xml.Unmarshal(plain, &r); err != nil {
		tb.Fatalf("reply %q: %v", plain, err)
	}
	return r
}
