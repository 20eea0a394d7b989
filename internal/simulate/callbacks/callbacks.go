// Package callbacks builds the HTTP requests that WeChat, WeCom, the WeCom
// smart bot and a relay bridge send to Qunyun's callback (POST
// /wechat/{account}), signed and encrypted with the account's secrets exactly
// as those platforms do, and sends them the way WeChat does: up to three
// tries on a non-200 answer or a timeout, with the same bytes each time.
//
// The simulator and the load runner both use it, so every simulated message
// goes through the real verify → decrypt → parse path. A built Request is a
// value that can be sent again unchanged: that is what a WeChat retry is.
//
// It must not read the clock or a global random source: the caller passes the
// event time and an io.Reader for nonces and AES padding, so a seeded run
// builds the same bytes every time. It knows nothing of what the callback
// stores; the Key it returns is the platform's idempotency key
// (wechat.IdempotencyKey), which the caller can look for afterwards.
package callbacks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// Request is one callback, ready to send (and to send again, identically).
type Request struct {
	Account string         // the account id: the {account} of the path
	Channel qunyun.Channel // the account's kind
	Query   url.Values
	Header  http.Header
	Body    []byte
	// Key is the idempotency key the platform gives this inbound
	// (wechat.IdempotencyKey of what the callback will decode).
	Key string
	// At is the event's own time.
	At time.Time
}

// Builder builds requests for accounts. Random feeds nonces and the AES
// random prefix; pass a seeded reader for reproducible bytes.
type Builder struct {
	Random io.Reader
	// Now is the sender's clock: it stamps the request's timestamp, which
	// the receiver checks against its own clock (WeChat sends a message a
	// moment after it happened). Nil stamps the event's own time.
	Now func() time.Time
}

// stamp is the request timestamp for an event at at.
func (b *Builder) stamp(at time.Time) string {
	if b.Now != nil {
		at = b.Now()
	}
	return strconv.FormatInt(at.Unix(), 10)
}

func (b *Builder) nonce() (string, error) {
	var buf [8]byte
	if _, err := io.ReadFull(b.Random, buf[:]); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	// WeChat's nonces are decimal digits.
	n := uint64(0)
	for _, c := range buf {
		n = n<<8 | uint64(c)
	}
	return strconv.FormatUint(n%1e10, 10), nil
}

// OAText is a 1:1 text message a user sends to an Official Account ("投票 3",
// "打卡"). Accounts with an EncodingAESKey are in safe mode; others in
// plaintext mode.
func (b *Builder) OAText(acct qunyun.Account, openID, content string, msgID int64, at time.Time) (Request, error) {
	if acct.Kind != qunyun.ChannelOA {
		return Request{}, fmt.Errorf("oa text: account %s is %s, not oa", acct.ID, acct.Kind)
	}
	id := strconv.FormatInt(msgID, 10)
	plain := xmlDoc(
		el("ToUserName", acct.AppID), el("FromUserName", openID),
		el("CreateTime", strconv.FormatInt(at.Unix(), 10)), el("MsgType", "text"),
		el("Content", content), el("MsgId", id),
	)
	ts := b.stamp(at)
	nonce, err := b.nonce()
	if err != nil {
		return Request{}, err
	}
	q := url.Values{
		"signature": {wechat.Signature(acct.Token, ts, nonce)},
		"timestamp": {ts}, "nonce": {nonce}, "openid": {openID},
	}
	body := plain
	if acct.EncodingAESKey != "" {
		enc, err := b.encrypt(acct, plain)
		if err != nil {
			return Request{}, fmt.Errorf("oa text: %w", err)
		}
		body = xmlDoc(el("ToUserName", acct.AppID), el("Encrypt", enc))
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", wechat.MsgSignature(acct.Token, ts, nonce, enc))
	}
	return Request{Account: acct.ID, Channel: acct.Kind, Query: q, Header: xmlHeader(), Body: body, Key: id, At: at}, nil
}

// Membership is a change_external_chat update: members joining or leaving a
// customer group.
type Membership struct {
	ChatID  string
	Joined  bool     // add_member; false is del_member
	Members []string // external user ids
	// Scene is the JoinScene (wechat.JoinByInvite, JoinByQRCode) or the
	// QuitScene (wechat.QuitSelf, QuitRemoved).
	Scene int
	// MemberVersion is the group's member version after the change; WeCom
	// sends it so receivers can tell stale events.
	MemberVersion int
}

// WeComMembership is the encrypted change_external_chat event WeCom posts
// to a self-built app when members join or leave a customer group.
func (b *Builder) WeComMembership(acct qunyun.Account, m Membership, at time.Time) (Request, error) {
	if acct.Kind != qunyun.ChannelWeCom {
		return Request{}, fmt.Errorf("wecom membership: account %s is %s, not wecom", acct.ID, acct.Kind)
	}
	detail, sceneField := wechat.DetailAddMember, "JoinScene"
	if !m.Joined {
		detail, sceneField = wechat.DetailDelMember, "QuitScene"
	}
	fields := []field{
		el("ToUserName", acct.CorpID), el("FromUserName", "sys"),
		el("CreateTime", strconv.FormatInt(at.Unix(), 10)), el("MsgType", "event"),
		el("Event", "change_external_chat"), el("ChatId", m.ChatID),
		el("ChangeType", wechat.ChatUpdate), el("UpdateDetail", detail),
		el(sceneField, strconv.Itoa(m.Scene)), el("MemChangeCnt", strconv.Itoa(len(m.Members))),
	}
	var list bytes.Buffer
	for _, id := range m.Members {
		list.WriteString("<Item>")
		xml.EscapeText(&list, []byte(id))
		list.WriteString("</Item>")
	}
	fields = append(fields, field{name: "MemChangeList", raw: list.String()},
		el("LastMemVer", strconv.Itoa(max(m.MemberVersion-1, 0))),
		el("CurMemVer", strconv.Itoa(m.MemberVersion)))
	return b.wecomEvent(acct, xmlDoc(fields...), at)
}

// WeComGroup is a change_external_chat create or dismiss event.
func (b *Builder) WeComGroup(acct qunyun.Account, chatID, changeType string, at time.Time) (Request, error) {
	if acct.Kind != qunyun.ChannelWeCom {
		return Request{}, fmt.Errorf("wecom group: account %s is %s, not wecom", acct.ID, acct.Kind)
	}
	return b.wecomEvent(acct, xmlDoc(
		el("ToUserName", acct.CorpID), el("FromUserName", "sys"),
		el("CreateTime", strconv.FormatInt(at.Unix(), 10)), el("MsgType", "event"),
		el("Event", "change_external_chat"), el("ChatId", chatID), el("ChangeType", changeType),
	), at)
}

func (b *Builder) wecomEvent(acct qunyun.Account, plain []byte, at time.Time) (Request, error) {
	enc, err := b.encrypt(acct, plain)
	if err != nil {
		return Request{}, fmt.Errorf("wecom event: %w", err)
	}
	ts := b.stamp(at)
	nonce, err := b.nonce()
	if err != nil {
		return Request{}, err
	}
	body := xmlDoc(el("ToUserName", acct.CorpID), el("Encrypt", enc), el("AgentID", acct.AgentID))
	sum := sha256.Sum256(plain)
	return Request{
		Account: acct.ID, Channel: acct.Kind,
		Query:  url.Values{"msg_signature": {wechat.MsgSignature(acct.Token, ts, nonce, enc)}, "timestamp": {ts}, "nonce": {nonce}},
		Header: xmlHeader(), Body: body, Key: hex.EncodeToString(sum[:]), At: at,
	}, nil
}

// BotMention is a group message that @-mentions the WeCom smart bot; text
// should include the mention ("@群助手 …"), as WeCom sends it.
func (b *Builder) BotMention(acct qunyun.Account, chatID, userID, msgID, text string, at time.Time) (Request, error) {
	if acct.Kind != qunyun.ChannelWeComBot {
		return Request{}, fmt.Errorf("bot mention: account %s is %s, not wecom-bot", acct.ID, acct.Kind)
	}
	plain, err := json.Marshal(wechat.BotMessage{
		MsgID: msgID, AIBotID: acct.ID, ChatID: chatID, ChatType: "group",
		From: wechat.BotUser{UserID: userID}, MsgType: "text", Text: &wechat.BotText{Content: text},
		ResponseURL: "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=sim-" + url.QueryEscape(msgID),
	})
	if err != nil {
		return Request{}, fmt.Errorf("bot mention: %w", err)
	}
	enc, err := b.encrypt(acct, plain)
	if err != nil {
		return Request{}, fmt.Errorf("bot mention: %w", err)
	}
	ts := b.stamp(at)
	nonce, err := b.nonce()
	if err != nil {
		return Request{}, err
	}
	body, _ := json.Marshal(map[string]string{"encrypt": enc})
	return Request{
		Account: acct.ID, Channel: acct.Kind,
		Query:  url.Values{"msg_signature": {wechat.MsgSignature(acct.Token, ts, nonce, enc)}, "timestamp": {ts}, "nonce": {nonce}},
		Header: http.Header{"Content-Type": {"application/json"}}, Body: body, Key: msgID, At: at,
	}, nil
}

// Relay is a bridge's signed JSON event (docs/relay-protocol.md), sent at
// sentAt (the X-Qunyun-Timestamp; the event's own time is e.Time).
func (b *Builder) Relay(acct qunyun.Account, e wechat.RelayEvent, sentAt time.Time) (Request, error) {
	if acct.Kind != qunyun.ChannelRelay {
		return Request{}, fmt.Errorf("relay: account %s is %s, not relay", acct.ID, acct.Kind)
	}
	body, err := json.Marshal(e)
	if err != nil {
		return Request{}, fmt.Errorf("relay %s: %w", e.ID, err)
	}
	ts := strconv.FormatInt(sentAt.Unix(), 10)
	return Request{
		Account: acct.ID, Channel: acct.Kind, Query: url.Values{},
		Header: http.Header{
			"Content-Type":              {"application/json"},
			wechat.RelayTimestampHeader: {ts},
			wechat.RelaySignatureHeader: {wechat.SignRelay([]byte(acct.HMACKey), ts, body)},
		},
		Body: body, Key: e.ID, At: time.Unix(e.Time, 0).UTC(),
	}, nil
}

func (b *Builder) encrypt(acct qunyun.Account, plain []byte) (string, error) {
	c, err := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, acct.ReceiveID())
	if err != nil {
		return "", fmt.Errorf("account %s crypto: %w", acct.ID, err)
	}
	enc, err := c.Encrypt(plain, b.Random)
	if err != nil {
		return "", fmt.Errorf("account %s encrypt: %w", acct.ID, err)
	}
	return enc, nil
}

// field is one XML element; raw, when set, is inserted unescaped (nested
// elements).
type field struct{ name, text, raw string }

func el(name, text string) field { return field{name: name, text: text} }

// xmlDoc writes <xml>…</xml> with CDATA-free escaped text, which every XML
// reader (and WeChat's own parsers) accept as the same value.
func xmlDoc(fields ...field) []byte {
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, f := range fields {
		b.WriteString("<" + f.name + ">")
		if f.raw != "" {
			b.WriteString(f.raw)
		} else {
			xml.EscapeText(&b, []byte(f.text))
		}
		b.WriteString("</" + f.name + ">")
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

func xmlHeader() http.Header { return http.Header{"Content-Type": {"text/xml"}} }

// Result is what sending one request took.
type Result struct {
	Status   int           // the last answer's status; 0 when every try failed in transport
	Tries    int           // 1 to MaxTries
	Statuses []int         // each try's status, 0 for a transport error or timeout
	Latency  time.Duration // of the first try: what a user waits when nothing goes wrong
	Total    time.Duration // all tries together
	Body     []byte        // the last answer's body
	LastErr  error         // the last transport error, if any
	Accepted bool          // a try answered 200
}

// Sender posts requests to a gateway the way WeChat does.
type Sender struct {
	Base   string       // the gateway's base URL, e.g. http://127.0.0.1:3000
	Client *http.Client // with a Timeout: WeChat gives up after 5 s
	// MaxTries is how many times a request is sent before giving up; 0 means 3.
	MaxTries int
	// Backoff is the wait between tries; 0 means none.
	Backoff time.Duration
}

// URL is where r goes.
func (s *Sender) URL(r Request) string {
	u := s.Base + "/wechat/" + url.PathEscape(r.Account)
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	return u
}

// Send posts r, retrying on anything but 200 up to MaxTries. It returns an
// error only when ctx ends or the request cannot be built; a request that
// was never accepted is reported in the Result.
func (s *Sender) Send(ctx context.Context, r Request) (Result, error) {
	tries := s.MaxTries
	if tries <= 0 {
		tries = 3
	}
	var res Result
	begin := time.Now() // wallclock: latency
	for res.Tries < tries {
		if res.Tries > 0 && s.Backoff > 0 {
			select {
			case <-time.After(s.Backoff):
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		res.Tries++
		t0 := time.Now() // wallclock: latency
		status, body, err := s.once(ctx, r)
		if res.Tries == 1 {
			res.Latency = time.Since(t0)
		}
		res.Status, res.Body, res.LastErr = status, body, err
		res.Statuses = append(res.Statuses, status)
		if err != nil && ctx.Err() != nil {
			res.Total = time.Since(begin)
			return res, ctx.Err()
		}
		if status == http.StatusOK {
			res.Accepted = true
			break
		}
	}
	res.Total = time.Since(begin)
	return res, nil
}

func (s *Sender) once(ctx context.Context, r Request) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL(r), bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, fmt.Errorf("request %s: %w", r.Key, err)
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil && !errors.Is(err, io.EOF) {
		return resp.StatusCode, body, err
	}
	return resp.StatusCode, body, nil
}
