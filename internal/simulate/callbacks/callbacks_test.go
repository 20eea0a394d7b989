package callbacks_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/wechat"
)

const aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

var (
	oa    = qunyun.Account{ID: "oa1", Kind: qunyun.ChannelOA, AppID: "wx123", Token: "tok", EncodingAESKey: aesKey}
	oaRaw = qunyun.Account{ID: "oa2", Kind: qunyun.ChannelOA, AppID: "wx456", Token: "tok2"}
	wecom = qunyun.Account{ID: "wc", Kind: qunyun.ChannelWeCom, CorpID: "ww1", Token: "wtok", EncodingAESKey: aesKey, AgentID: "1000002"}
	bot   = qunyun.Account{ID: "bot", Kind: qunyun.ChannelWeComBot, Token: "btok", EncodingAESKey: aesKey}
	relay = qunyun.Account{ID: "bridge", Kind: qunyun.ChannelRelay, HMACKey: "relay-secret"}
)

func seeded(seed uint64) *callbacks.Builder {
	return &callbacks.Builder{Random: rand.NewChaCha8([32]byte{byte(seed)})}
}

var at = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// Each built request must pass the receiving side's checks (wechat package)
// and decode to an inbound whose idempotency key is Request.Key.
func TestRequestsVerifyAndDecode(t *testing.T) {
	b := seeded(1)
	mustBuild := func(r callbacks.Request, err error) callbacks.Request {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	open := func(t *testing.T, acct qunyun.Account, r callbacks.Request, env wechat.Envelope) []byte {
		t.Helper()
		c, err := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, acct.ReceiveID())
		if err != nil {
			t.Fatal(err)
		}
		plain, err := c.Open(r.Query.Get("msg_signature"), r.Query.Get("timestamp"), r.Query.Get("nonce"), env.Encrypt)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return plain
	}
	checkKey := func(t *testing.T, in wechat.Inbound, r callbacks.Request) {
		t.Helper()
		key, err := wechat.IdempotencyKey(in)
		if err != nil || key != r.Key {
			t.Errorf("idempotency key %q (%v), request says %q", key, err, r.Key)
		}
	}

	t.Run("oa safe mode", func(t *testing.T) {
		r := mustBuild(b.OAText(oa, "openid-1", "投票 3", 9001, at))
		if err := wechat.VerifySignature(oa.Token, r.Query.Get("timestamp"), r.Query.Get("nonce"), r.Query.Get("signature")); err != nil {
			t.Fatal(err)
		}
		env, err := wechat.ParseEnvelopeXML(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		in, err := wechat.ParseOA(open(t, oa, r, env))
		if err != nil {
			t.Fatal(err)
		}
		m, ok := in.(*wechat.OAText)
		if !ok || m.Content != "投票 3" || m.FromUserName != "openid-1" || m.CreateTime != at.Unix() {
			t.Fatalf("decoded %#v", in)
		}
		checkKey(t, in, r)
	})
	t.Run("oa plaintext mode", func(t *testing.T) {
		r := mustBuild(b.OAText(oaRaw, "openid-2", "打卡 <&>", 9002, at))
		if err := wechat.VerifySignature(oaRaw.Token, r.Query.Get("timestamp"), r.Query.Get("nonce"), r.Query.Get("signature")); err != nil {
			t.Fatal(err)
		}
		in, err := wechat.ParseOA(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := in.(*wechat.OAText); !ok || m.Content != "打卡 <&>" {
			t.Fatalf("decoded %#v", in)
		}
		checkKey(t, in, r)
	})
	t.Run("wecom membership", func(t *testing.T) {
		r := mustBuild(b.WeComMembership(wecom, callbacks.Membership{ChatID: "wrOgQh", Joined: true, Members: []string{"wm_a", "wm_b"}, Scene: wechat.JoinByQRCode, MemberVersion: 4}, at))
		env, err := wechat.ParseEnvelopeXML(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		in, err := wechat.ParseWeCom(open(t, wecom, r, env))
		if err != nil {
			t.Fatal(err)
		}
		e, ok := in.(*wechat.WeComExternalChat)
		if !ok || e.ChatID != "wrOgQh" || e.UpdateDetail != wechat.DetailAddMember || e.JoinScene != 3 || len(e.MemChangeList) != 2 || e.MemChangeList[1] != "wm_b" {
			t.Fatalf("decoded %#v", in)
		}
		checkKey(t, in, r)

		r = mustBuild(b.WeComMembership(wecom, callbacks.Membership{ChatID: "wrOgQh", Members: []string{"wm_a"}, Scene: wechat.QuitRemoved}, at))
		env, _ = wechat.ParseEnvelopeXML(r.Body)
		in, _ = wechat.ParseWeCom(open(t, wecom, r, env))
		if e := in.(*wechat.WeComExternalChat); e.UpdateDetail != wechat.DetailDelMember || e.QuitScene != 1 {
			t.Fatalf("decoded %#v", in)
		}
	})
	t.Run("bot mention", func(t *testing.T) {
		r := mustBuild(b.BotMention(bot, "chat9", "u7", "m-1", "@群助手 今晚几点？", at))
		env, err := wechat.ParseEnvelopeJSON(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		in, err := wechat.ParseBot(open(t, bot, r, env))
		if err != nil {
			t.Fatal(err)
		}
		if in.ChatID != "chat9" || in.From.UserID != "u7" || in.Content() == "" {
			t.Fatalf("decoded %#v", in)
		}
		checkKey(t, in, r)
	})
	t.Run("relay", func(t *testing.T) {
		r := mustBuild(b.Relay(relay, wechat.RelayEvent{ID: "br-1", Type: wechat.RelayMessage, GroupID: "R:1", MemberID: "wx1", Kind: "text", Text: "hi", Time: at.Unix()}, at))
		if err := wechat.VerifyRelay([]byte(relay.HMACKey), r.Header.Get(wechat.RelayTimestampHeader), r.Header.Get(wechat.RelaySignatureHeader), r.Body, at); err != nil {
			t.Fatal(err)
		}
		e, err := wechat.ParseRelay(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		checkKey(t, e, r)
	})
	t.Run("wrong account kind", func(t *testing.T) {
		if _, err := b.OAText(wecom, "x", "y", 1, at); err == nil {
			t.Error("OAText accepted a wecom account")
		}
		if _, err := b.Relay(oa, wechat.RelayEvent{}, at); err == nil {
			t.Error("Relay accepted an oa account")
		}
	})
}

func TestSameSeedSameBytes(t *testing.T) {
	build := func() []byte {
		r, err := seeded(5).WeComMembership(wecom, callbacks.Membership{ChatID: "c", Joined: true, Members: []string{"m"}}, at)
		if err != nil {
			t.Fatal(err)
		}
		return append(r.Body, r.Query.Encode()...)
	}
	if a, b := build(), build(); !bytes.Equal(a, b) {
		t.Error("same seed built different requests")
	}
}

// The request is stamped by the sender's clock; the event keeps its time.
func TestStampedBySenderClock(t *testing.T) {
	sent := at.Add(90 * time.Second)
	b := &callbacks.Builder{Random: rand.NewChaCha8([32]byte{}), Now: func() time.Time { return sent }}
	r, err := b.WeComMembership(wecom, callbacks.Membership{ChatID: "c", Joined: true, Members: []string{"m"}}, at)
	if err != nil {
		t.Fatal(err)
	}
	if r.Query.Get("timestamp") != strconv.FormatInt(sent.Unix(), 10) {
		t.Errorf("timestamp %s, want the sending time", r.Query.Get("timestamp"))
	}
	env, _ := wechat.ParseEnvelopeXML(r.Body)
	c, _ := wechat.NewCrypto(wecom.Token, wecom.EncodingAESKey, wecom.ReceiveID())
	plain, err := c.Open(r.Query.Get("msg_signature"), r.Query.Get("timestamp"), r.Query.Get("nonce"), env.Encrypt)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := wechat.ParseWeCom(plain)
	if e := in.(*wechat.WeComExternalChat); e.CreateTime != at.Unix() {
		t.Errorf("CreateTime %d, want the event's time %d", e.CreateTime, at.Unix())
	}
}

func TestSenderRetriesLikeWeChat(t *testing.T) {
	var hits atomic.Int32
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		bodies = append(bodies, buf.Bytes())
		if r.URL.Path != "/wechat/bridge" {
			http.NotFound(w, r)
			return
		}
		if hits.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("success"))
	}))
	defer srv.Close()
	r, _ := seeded(2).Relay(relay, wechat.RelayEvent{ID: "x", Type: "message", GroupID: "g", MemberID: "m", Kind: "text", Time: at.Unix()}, at)
	s := &callbacks.Sender{Base: srv.URL, Client: srv.Client()}
	res, err := s.Send(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Accepted || res.Tries != 3 || res.Status != 200 {
		t.Errorf("result %+v, want accepted on the third try", res)
	}
	if len(bodies) != 3 || !bytes.Equal(bodies[0], bodies[2]) {
		t.Errorf("retries must resend the same bytes")
	}

	hits.Store(-100) // never succeeds now
	res, err = s.Send(context.Background(), r)
	if err != nil || res.Accepted || res.Tries != 3 || res.Status != 503 {
		t.Errorf("result %+v %v, want three failed tries", res, err)
	}

	down := &callbacks.Sender{Base: "http://127.0.0.1:1", Client: &http.Client{Timeout: time.Second}}
	res, err = down.Send(context.Background(), r)
	if err != nil || res.Accepted || res.LastErr == nil || res.Tries != 3 {
		t.Errorf("unreachable: %+v %v, want three transport errors", res, err)
	}
}
