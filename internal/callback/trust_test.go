package callback_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/simulate/callbacktest"
)

// These tests attack the callback the way an outsider would: over HTTP, on
// the real handler and a real table, with requests built by the project's
// own request builder (an implementation independent of the handler's) and
// then tampered with. "Nothing written" is checked by reading the table.

// attackStack is a callback behind HTTP with one account of each kind an
// attack needs.
type attackStack struct {
	t     *testing.T
	st    *callbacktest.Stack
	clk   *clock.Manual
	b     *callbacks.Builder
	safe  qunyun.Account // an OA with an EncodingAESKey: safe mode
	plain qunyun.Account // an OA without one: plaintext mode
	relay qunyun.Account
}

func newAttackStack(t *testing.T) *attackStack {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC))
	a := &attackStack{
		t: t, clk: clk,
		b:     &callbacks.Builder{Random: bytes.NewReader(bytes.Repeat([]byte{7}, 1<<16)), Now: clk.Now},
		safe:  qunyun.Account{ID: "oa-safe", Kind: qunyun.ChannelOA, AppID: "wx2c2769f8efd9abc2", Token: "spamtest", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
		plain: qunyun.Account{ID: "oa-plain", Kind: qunyun.ChannelOA, AppID: "wx134c8103faa5a59e", Token: "AAAAA"},
		relay: qunyun.Account{ID: "bridge", Kind: qunyun.ChannelRelay, HMACKey: relaySecret},
	}
	a.st = callbacktest.Start(t, callbacktest.Options{Accounts: []qunyun.Account{a.safe, a.plain, a.relay}, Clock: clk})
	return a
}

// post sends r once (no retries: an attacker's one shot) and returns the
// status and body.
func (a *attackStack) post(r callbacks.Request) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodPost, (&callbacks.Sender{Base: a.st.URL}).URL(r), bytes.NewReader(r.Body))
	if err != nil {
		a.t.Fatal(err)
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// snapshot is every item of the table, as "PK SK" keys and a digest of
// their contents, to tell "nothing written" exactly.
func (a *attackStack) snapshot() (keys []string, digest [32]byte) {
	a.t.Helper()
	in := &dynamodb.ScanInput{TableName: aws.String(a.st.Table.Name)}
	var all []string
	for {
		res, err := dynamotest.Client(a.t).Scan(context.Background(), in)
		if err != nil {
			a.t.Fatal(err)
		}
		for _, it := range res.Items {
			var k dynamo.Keys
			if err := dynamo.Unmarshal(it, &k); err != nil {
				a.t.Fatal(err)
			}
			keys = append(keys, k.PK+" "+k.SK)
			all = append(all, k.PK+" "+k.SK+" "+itemText(it))
		}
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	sort.Strings(keys)
	sort.Strings(all)
	h := sha256.New()
	for _, s := range all {
		h.Write([]byte(s + "\n"))
	}
	copy(digest[:], h.Sum(nil))
	return keys, digest
}

// itemText prints an item's attributes; fmt sorts map keys.
func itemText(it dynamo.Item) string {
	var m map[string]any
	if err := dynamo.Unmarshal(it, &m); err != nil {
		return err.Error()
	}
	return fmt.Sprint(m)
}

// downgrade turns a captured safe-mode request into a plaintext-mode one
// carrying body: it keeps signature, timestamp and nonce (all that the
// plain signature covers) and drops what authenticates the body.
func downgrade(captured callbacks.Request, body string, keep ...string) callbacks.Request {
	q := url.Values{}
	for _, k := range append([]string{"signature", "timestamp", "nonce", "openid"}, keep...) {
		if v := captured.Query.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	captured.Query, captured.Body = q, []byte(body)
	return captured
}

// An OA account with an EncodingAESKey accepts only encrypted bodies with a
// valid msg_signature: a captured URL's plain signature does not let anyone
// post a body of their own (a forged unsubscribe that would delete a
// member's data, a forged contest vote).
func TestPlaintextDowngradeRefused(t *testing.T) {
	a := newAttackStack(t)
	at := a.clk.Now()
	// A member writes to the account: a real safe-mode message, recorded.
	legit, err := a.b.OAText(a.safe, "o-victim", "你好", 7001, at)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := a.post(legit); status != 200 {
		t.Fatalf("the real message: %d %q", status, body)
	}
	if last, err := (dynamo.Log{Table: a.st.Table}).LastMessageSince(context.Background(), a.safe.ID, "o-victim", at.Add(-time.Hour)); err != nil || last.IsZero() {
		t.Fatalf("the member's message: %v %v", last, err)
	}
	before, digest := a.snapshot()

	ts := legit.Query.Get("timestamp")
	unsubscribe := `<xml><ToUserName>gh_x</ToUserName><FromUserName>o-victim</FromUserName><CreateTime>` + ts +
		`</CreateTime><MsgType>event</MsgType><Event>unsubscribe</Event></xml>`
	vote := `<xml><ToUserName>gh_x</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>` + ts +
		`</CreateTime><MsgType>text</MsgType><Content>投票 1</Content><MsgId>9001</MsgId></xml>`
	// Compatible mode's body shape: plaintext fields beside an Encrypt that
	// no msg_signature covers.
	compat := `<xml><ToUserName>gh_x</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>` + ts +
		`</CreateTime><MsgType>text</MsgType><Content>投票 1</Content><MsgId>9002</MsgId><Encrypt>AAAA</Encrypt></xml>`
	cases := []struct {
		name string
		req  callbacks.Request
	}{
		{"plaintext unsubscribe", downgrade(legit, unsubscribe)},
		{"plaintext vote", downgrade(legit, vote)},
		{"encrypt_type=aes without msg_signature", downgrade(legit, vote, "encrypt_type")},
		{"msg_signature without encrypt_type", downgrade(legit, vote, "msg_signature")},
		{"compatible body, plaintext trusted", downgrade(legit, compat, "encrypt_type")},
		{"real msg_signature, forged body", downgrade(legit, unsubscribe, "encrypt_type", "msg_signature")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if status, body := a.post(c.req); status != http.StatusUnauthorized {
				t.Errorf("answered %d %q, want 401", status, body)
			}
			after, d := a.snapshot()
			if d != digest {
				t.Fatalf("the table changed:\nbefore %q\nafter  %q", before, after)
			}
		})
	}

	// A plaintext-mode account (no EncodingAESKey) still takes the plain
	// signature: that is all WeChat sends it.
	plain, err := a.b.OAText(a.plain, "o-fan", "你好", 7002, at)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Query.Get("encrypt_type") != "" {
		t.Fatal("the builder encrypted a plaintext-mode account's message")
	}
	if status, body := a.post(plain); status != 200 {
		t.Fatalf("plaintext mode: %d %q", status, body)
	}
}
