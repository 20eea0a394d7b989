package callback_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// The channels FuzzSignedCallback wraps a plaintext in, by the fuzzer's
// channel byte (mod 4).
var signedChannels = []qunyun.Channel{qunyun.ChannelOA, qunyun.ChannelWeCom, qunyun.ChannelWeComBot, qunyun.ChannelRelay}

// FuzzSignedCallback gets past verification: it signs and encrypts each
// fuzzed plaintext the way WeChat, WeCom, the smart bot or a bridge does
// (OA safe-mode XML, WeCom encrypted XML, bot encrypted JSON, relay signed
// JSON) for the demo accounts of infra/local/accounts.json, and drives the
// real handler on the embedded engine. Seeds are the plaintexts of
// events/callback-*.json. The handler must answer 200, a 4xx, or 503 only
// when DynamoDB itself failed; never 500. A 4xx must have written nothing
// (counted at the DynamoDB API), DynamoDB must never refuse a request built
// from an accepted callback, a retry of an accepted callback must be
// accepted again, and a sealed reply must open with the account's keys.
func FuzzSignedCallback(f *testing.F) {
	dir, err := accounts.LoadFile("../../infra/local/accounts.json")
	if err != nil {
		f.Fatal(err)
	}
	byKind := map[qunyun.Channel]qunyun.Account{}
	all, _ := dir.All(context.Background())
	for _, a := range all {
		byKind[a.Kind] = a
	}
	for _, s := range callback.SamplePlaintexts(f) {
		f.Add(byte(slices.Index(signedChannels, s.Account.Kind)), s.Plain)
	}

	clk := clock.NewManual(sampleTime)
	db := &countingDB{}
	table := dynamotest.NewTable(f, clk)
	db.API, table.DB = table.DB, db
	ctx := context.Background()
	// A live session and a check-in rule, so questions, votes and check-ins
	// of the demo group get past their rules too.
	if ok, err := (dynamo.Sessions{Table: table}).PutLiveSession(ctx, qunyun.LiveSession{SessionID: "s-demo", GroupID: "group-demo-1", HostMemberID: "host", End: sampleTime.Add(time.Hour)}); err != nil || !ok {
		f.Fatal(err)
	}
	if err := (dynamo.Catalog{Table: table}).PutCheckinRule(ctx, qunyun.CheckinRule{ID: "daily", AccountID: "demo-bot"}); err != nil {
		f.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := callback.NewService(callbackStores(table), &recordingBus{}, clk.Now, nil, log)
	if err != nil {
		f.Fatal(err)
	}
	svc.Moderation, svc.Contributions = dynamo.Moderation{Table: table}, dynamo.Contributions{Table: table}
	h := callback.NewHandler(dir, svc, log)

	f.Fuzz(func(t *testing.T, channel byte, plain []byte) {
		acct := byKind[signedChannels[int(channel)%len(signedChannels)]]
		req := signedRequest(t, acct, plain, clk.Now())
		before := db.snapshot()
		resp, err := h.Handle(ctx, req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		after := db.snapshot()
		if after.refused != before.refused {
			t.Fatalf("DynamoDB refused a request built from this %s callback (%d): %v", acct.Kind, resp.StatusCode, after.lastRefusal)
		}
		switch code := resp.StatusCode; {
		case code == 200:
			checkReply(t, acct, resp)
			again, err := h.Handle(ctx, req)
			if err != nil || again.StatusCode != 200 {
				t.Fatalf("accepted once, then its retry answered %d %q (%v)", again.StatusCode, again.Body, err)
			}
		case code >= 400 && code < 500:
			if after.writes != before.writes {
				t.Fatalf("%d %q after %d writes: bad input must write nothing", code, resp.Body, after.writes-before.writes)
			}
		case code == 503:
			if after.failed == before.failed {
				t.Fatalf("503 %q although DynamoDB answered every call", resp.Body)
			}
		default:
			t.Fatalf("status %d %q for a %s callback", code, resp.Body, acct.Kind)
		}
	})
}

// signedRequest wraps plain for acct as its platform would send it at now.
func signedRequest(t *testing.T, acct qunyun.Account, plain []byte, now time.Time) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ts, nonce := strconv.FormatInt(now.Unix(), 10), "1763780400"
	req := events.APIGatewayV2HTTPRequest{
		RouteKey: "POST /wechat/{account}", RawPath: "/wechat/" + acct.ID,
		PathParameters: map[string]string{"account": acct.ID}, Headers: map[string]string{},
	}
	req.RequestContext.HTTP.Method = "POST"
	if acct.Kind == qunyun.ChannelRelay {
		req.Body = string(plain)
		req.Headers["x-qunyun-timestamp"] = ts
		req.Headers["x-qunyun-signature"] = wechat.SignRelay([]byte(acct.HMACKey), ts, plain)
		return req
	}
	c, err := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, acct.ReceiveID())
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt(plain, zeroReader{})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"msg_signature": {wechat.MsgSignature(acct.Token, ts, nonce, enc)}, "timestamp": {ts}, "nonce": {nonce}}
	switch acct.Kind {
	case qunyun.ChannelOA:
		q.Set("signature", wechat.Signature(acct.Token, ts, nonce))
		q.Set("encrypt_type", "aes")
		req.Body = safeBody("gh_demo", enc)
	case qunyun.ChannelWeCom:
		req.Body = safeBody(acct.CorpID, enc)
	case qunyun.ChannelWeComBot:
		b, _ := json.Marshal(map[string]string{"encrypt": enc})
		req.Body = string(b)
	}
	req.RawQueryString = q.Encode()
	return req
}

// checkReply opens a sealed passive reply with the account's own keys.
func checkReply(t *testing.T, acct qunyun.Account, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	var r struct {
		Encrypt      string      `xml:"Encrypt" json:"encrypt"`
		MsgSignature string      `xml:"MsgSignature" json:"msgsignature"`
		TimeStamp    json.Number `xml:"TimeStamp" json:"timestamp"`
		Nonce        string      `xml:"Nonce" json:"nonce"`
	}
	var err error
	switch {
	case strings.HasPrefix(resp.Body, "<xml><Encrypt>"):
		err = xml.Unmarshal([]byte(resp.Body), &r)
	case strings.HasPrefix(resp.Body, `{"encrypt"`):
		err = json.Unmarshal([]byte(resp.Body), &r)
	default:
		return // "success"
	}
	if err != nil {
		t.Fatalf("sealed reply does not parse: %v\n%s", err, resp.Body)
	}
	c, err := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, acct.ReceiveID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(r.MsgSignature, r.TimeStamp.String(), r.Nonce, r.Encrypt); err != nil {
		t.Fatalf("the %s reply does not open: %v\n%s", acct.Kind, err, resp.Body)
	}
}

// countingDB counts the writes that reach DynamoDB and the calls it
// refused (anything but a failed condition, which is how idempotent writes
// find a duplicate).
type countingDB struct {
	dynamo.API
	mu sync.Mutex
	dbCounts
}

type dbCounts struct {
	writes, failed, refused int
	lastRefusal             error
}

func (d *countingDB) snapshot() dbCounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dbCounts
}

func (d *countingDB) note(write bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if write {
		d.writes++
	}
	if err == nil || dynamo.IsConditionFailed(err) {
		return
	}
	d.failed++
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		d.refused++
		d.lastRefusal = err
	}
}

func (d *countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := d.API.PutItem(ctx, in, opts...)
	d.note(true, err)
	return out, err
}

func (d *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := d.API.UpdateItem(ctx, in, opts...)
	d.note(true, err)
	return out, err
}

func (d *countingDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := d.API.DeleteItem(ctx, in, opts...)
	d.note(true, err)
	return out, err
}

func (d *countingDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	out, err := d.API.BatchWriteItem(ctx, in, opts...)
	d.note(true, err)
	return out, err
}

func (d *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := d.API.GetItem(ctx, in, opts...)
	d.note(false, err)
	return out, err
}

func (d *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := d.API.Query(ctx, in, opts...)
	d.note(false, err)
	return out, err
}

func (d *countingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := d.API.BatchGetItem(ctx, in, opts...)
	d.note(false, err)
	return out, err
}
