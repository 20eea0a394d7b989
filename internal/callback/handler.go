package callback

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// Handler serves the callback function's HTTP routes (template.yaml):
//
//	GET|POST /wechat/{account}   WeChat, WeCom, smart-bot and relay callbacks
//	GET      /r/{code}           tracked links
//	GET      /{file}             WeCom's domain ownership file (verifyFile)
//
// It never returns an error: every outcome is an HTTP answer. Non-200 means
// nothing was recorded, or the work after the record is not done yet; either
// way WeChat (or the bridge) retries, and the retry completes it once.
type Handler struct {
	Accounts accounts.Directory
	Service  *Service
	Now      func() time.Time
	Log      *slog.Logger
	Metrics  *metrics.Emitter
	// Window is how far a callback's timestamp may be from Now (default 5 min):
	// WeChat retries within seconds, so an older signed request is a replay.
	Window time.Duration
	// Random is the source of reply nonces and AES randoms (crypto/rand when nil).
	Random func([]byte) error
	// VerifyCode is the code of the WW_verify_<code>.txt file WeCom asks the
	// domain to serve ("" serves none): template parameter WeComVerifyCode.
	VerifyCode string

	cryptos sync.Map // account id + secrets → *wechat.Crypto
}

// NewHandler builds a handler on the service's clock and metrics; log
// may be nil.
func NewHandler(dir accounts.Directory, svc *Service, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{Accounts: dir, Service: svc, Now: svc.Now, Metrics: svc.Metrics, Log: log, Window: 5 * time.Minute}
}

// badRequest is a request we refuse: status and a reason for the caller.
type badRequest struct {
	status int
	reason string
	err    error
}

func (b *badRequest) Error() string { return b.reason }

func refuse(status int, reason string, err error) *badRequest {
	return &badRequest{status: status, reason: reason, err: err}
}

// Handle answers one API Gateway v2 request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
	defer func() {
		// A bug must not take the container down with a half-answered
		// request: answer 500 (nothing is acknowledged, WeChat retries).
		if r := recover(); r != nil {
			h.Log.ErrorContext(ctx, "callback: panic", "panic", r)
			resp = text(http.StatusInternalServerError, "internal error")
		}
	}()
	method := req.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	switch {
	case strings.HasPrefix(path, "/r/") || req.PathParameters["code"] != "":
		if method != http.MethodGet && method != http.MethodHead {
			return h.refused(ctx, req, refuse(http.StatusMethodNotAllowed, "method not allowed", nil)), nil
		}
		return h.link(ctx, req, param(req, "code", path, "/r/")), nil
	case strings.HasPrefix(path, "/wechat/") || req.PathParameters["account"] != "":
		out, err := h.wechat(ctx, req, method, param(req, "account", path, "/wechat/"))
		if err != nil {
			return h.failed(ctx, req, err), nil
		}
		return out, nil
	case req.PathParameters["file"] != "" || strings.Count(path, "/") == 1:
		return h.verifyFile(method, param(req, "file", path, "/")), nil
	}
	return text(http.StatusNotFound, "not found"), nil
}

func param(req events.APIGatewayV2HTTPRequest, name, path, prefix string) string {
	if v := req.PathParameters[name]; v != "" {
		return v
	}
	v := strings.TrimPrefix(path, prefix)
	if i := strings.IndexByte(v, '/'); i >= 0 {
		v = v[:i]
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// failed maps an error to its answer and logs why.
func (h *Handler) failed(ctx context.Context, req events.APIGatewayV2HTTPRequest, err error) events.APIGatewayV2HTTPResponse {
	var bad *badRequest
	if errors.As(err, &bad) {
		return h.refused(ctx, req, bad)
	}
	var follow *FollowupError
	if errors.As(err, &follow) {
		// Recorded, with its work still listed on the record: the retry
		// does that work and answers as the first delivery would have.
		h.Log.ErrorContext(ctx, "callback: recorded, but the work after it failed; asking for a retry", "path", req.RawPath, "error", err.Error())
		h.Metrics.Emit(metrics.Metric{Name: "SecondaryFailures", Value: 1})
		return text(http.StatusServiceUnavailable, "temporarily unavailable, retry")
	}
	switch qunyun.ErrorCode(err) {
	case qunyun.EUNAVAILABLE:
		h.Log.ErrorContext(ctx, "callback: not recorded, asking for a retry", "path", req.RawPath, "error", err.Error())
		h.Metrics.Emit(metrics.Metric{Name: "RecordFailures", Value: 1})
		return text(http.StatusServiceUnavailable, "temporarily unavailable, retry")
	case qunyun.ENOTFOUND:
		return h.refused(ctx, req, refuse(http.StatusNotFound, qunyun.ErrorMessage(err), err))
	}
	h.Log.ErrorContext(ctx, "callback: internal error", "path", req.RawPath, "error", err.Error())
	return text(http.StatusInternalServerError, "internal error")
}

func (h *Handler) refused(ctx context.Context, req events.APIGatewayV2HTTPRequest, bad *badRequest) events.APIGatewayV2HTTPResponse {
	attrs := []any{"status", bad.status, "reason", bad.reason, "path", req.RawPath}
	if bad.err != nil {
		attrs = append(attrs, "error", bad.err.Error())
	}
	h.Log.WarnContext(ctx, "callback: refused", attrs...)
	return text(bad.status, bad.reason)
}

// protocolError maps an error of package wechat to a 4xx with a reason.
func protocolError(err error) *badRequest {
	switch {
	case errors.Is(err, wechat.ErrTooLarge):
		return refuse(http.StatusRequestEntityTooLarge, "body larger than 1 MiB", err)
	case errors.Is(err, wechat.ErrSignature):
		return refuse(http.StatusUnauthorized, "signature mismatch", err)
	case errors.Is(err, wechat.ErrTimestamp):
		return refuse(http.StatusUnauthorized, "timestamp missing, malformed or outside the allowed window", err)
	case errors.Is(err, wechat.ErrReceiveID):
		return refuse(http.StatusUnauthorized, "receiveid does not match the account", err)
	case errors.Is(err, wechat.ErrBase64):
		return refuse(http.StatusBadRequest, "Encrypt is not valid base64", err)
	case errors.Is(err, wechat.ErrBlockSize), errors.Is(err, wechat.ErrPadding), errors.Is(err, wechat.ErrLength):
		return refuse(http.StatusBadRequest, "ciphertext does not decrypt: bad length or padding", err)
	case errors.Is(err, wechat.ErrXML):
		return refuse(http.StatusBadRequest, "malformed XML", err)
	case errors.Is(err, wechat.ErrJSON):
		return refuse(http.StatusBadRequest, "malformed JSON", err)
	case errors.Is(err, wechat.ErrMissingField), errors.Is(err, wechat.ErrInvalid), errors.Is(err, wechat.ErrNoKey):
		return refuse(http.StatusBadRequest, "callback is missing a required field or has an invalid one", err)
	}
	return nil
}

// request is the parsed HTTP request of a WeChat route.
type request struct {
	acct  qunyun.Account
	query url.Values
	body  []byte
	head  func(string) string
}

func (h *Handler) wechat(ctx context.Context, req events.APIGatewayV2HTTPRequest, method, accountID string) (events.APIGatewayV2HTTPResponse, error) {
	if method != http.MethodGet && method != http.MethodPost {
		return events.APIGatewayV2HTTPResponse{}, refuse(http.StatusMethodNotAllowed, "method not allowed: use GET or POST", nil)
	}
	// The body limit comes first: a huge request is refused before any work.
	if max := base64.StdEncoding.EncodedLen(wechat.MaxBodySize); len(req.Body) > max ||
		(!req.IsBase64Encoded && len(req.Body) > wechat.MaxBodySize) {
		return events.APIGatewayV2HTTPResponse{}, refuse(http.StatusRequestEntityTooLarge, "body larger than 1 MiB", nil)
	}
	acct, err := h.Accounts.Account(ctx, accountID)
	if err != nil {
		if qunyun.ErrorCode(err) == qunyun.ENOTFOUND {
			return events.APIGatewayV2HTTPResponse{}, refuse(http.StatusNotFound, "unknown account", err)
		}
		return events.APIGatewayV2HTTPResponse{}, err
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return events.APIGatewayV2HTTPResponse{}, refuse(http.StatusBadRequest, "body is not valid base64", err)
		}
	}
	if len(body) > wechat.MaxBodySize {
		return events.APIGatewayV2HTTPResponse{}, refuse(http.StatusRequestEntityTooLarge, "body larger than 1 MiB", nil)
	}
	r := request{acct: acct, query: query(req), body: body, head: header(req.Headers)}
	if method == http.MethodGet {
		return h.verify(r)
	}
	return h.receive(ctx, r)
}

// query parses the raw query string when there is one: API Gateway's map
// joins repeated values with commas. A '+' WeChat left unescaped in base64
// becomes a space on decoding; a space never occurs in base64, so echostr
// and Encrypt-like values get it back.
func query(req events.APIGatewayV2HTTPRequest) url.Values {
	q := url.Values{}
	if req.RawQueryString != "" {
		if parsed, err := url.ParseQuery(req.RawQueryString); err == nil {
			q = parsed
		}
	} else {
		for k, v := range req.QueryStringParameters {
			q.Set(k, v)
		}
	}
	if e := q.Get("echostr"); strings.Contains(e, " ") {
		q.Set("echostr", strings.ReplaceAll(e, " ", "+"))
	}
	return q
}

func header(hs map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := hs[strings.ToLower(name)]; ok {
			return v
		}
		for k, v := range hs {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
}

// crypto returns the account's message crypto, built once per secrets.
func (h *Handler) crypto(acct qunyun.Account) (*wechat.Crypto, error) {
	if acct.EncodingAESKey == "" {
		return nil, refuse(http.StatusBadRequest, "encrypted callback for an account without an EncodingAESKey", nil)
	}
	id := acct.ID + "\x00" + acct.Token + "\x00" + acct.EncodingAESKey + "\x00" + acct.ReceiveID()
	if c, ok := h.cryptos.Load(id); ok {
		return c.(*wechat.Crypto), nil
	}
	c, err := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, acct.ReceiveID())
	if err != nil {
		// A broken EncodingAESKey is our configuration, not the caller's
		// fault; the accounts directory refuses one at load, so this is a
		// directory that did not check.
		return nil, qunyun.Errorf(qunyun.EINTERNAL, "account %s: %v", acct.ID, err)
	}
	h.cryptos.Store(id, c)
	return c, nil
}

func (h *Handler) checkTimestamp(ts string) error {
	if err := wechat.CheckTimestamp(ts, h.Now(), h.Window); err != nil {
		return protocolError(err)
	}
	return nil
}

// verify answers URL verification: OA echoes echostr after the 3-parameter
// signature; WeCom and the smart bot decrypt it after msg_signature.
func (h *Handler) verify(r request) (events.APIGatewayV2HTTPResponse, error) {
	q := r.query
	switch r.acct.Kind {
	case qunyun.ChannelOA:
		if err := h.checkTimestamp(q.Get("timestamp")); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		if err := wechat.VerifySignature(r.acct.Token, q.Get("timestamp"), q.Get("nonce"), q.Get("signature")); err != nil {
			return events.APIGatewayV2HTTPResponse{}, protocolError(err)
		}
		return text(http.StatusOK, q.Get("echostr")), nil
	case qunyun.ChannelWeCom, qunyun.ChannelWeComBot:
		if err := h.checkTimestamp(q.Get("timestamp")); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		c, err := h.crypto(r.acct)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		plain, err := c.VerifyURL(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, protocolError(err)
		}
		return text(http.StatusOK, string(plain)), nil
	}
	return events.APIGatewayV2HTTPResponse{}, refuse(http.StatusMethodNotAllowed, "this account takes POST only", nil)
}

// receive verifies, decrypts, parses, normalises and records one POST.
func (h *Handler) receive(ctx context.Context, r request) (events.APIGatewayV2HTTPResponse, error) {
	in, c, safeMode, err := h.checked(r)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	norm, duplicate, err := h.normalised(ctx, r, in)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if duplicate {
		return text(http.StatusOK, "success"), nil
	}
	out, err := h.Service.Handle(ctx, norm)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return h.reply(ctx, r, in, c, safeMode, out), nil
}

// checked checks a callback by its channel's rules (timestamp window,
// signature, decryption) and parses it; c is the account's crypto when the
// answer must be encrypted too, safeMode whether it must.
func (h *Handler) checked(r request) (in wechat.Inbound, c *wechat.Crypto, safeMode bool, err error) {
	q := r.query
	switch r.acct.Kind {
	case qunyun.ChannelOA:
		// signature (3 parameters) comes in every mode; msg_signature only
		// with encryption, over the Encrypt text.
		if err := h.checkTimestamp(q.Get("timestamp")); err != nil {
			return nil, nil, false, err
		}
		if err := wechat.VerifySignature(r.acct.Token, q.Get("timestamp"), q.Get("nonce"), q.Get("signature")); err != nil {
			return nil, nil, false, protocolError(err)
		}
		plain := r.body
		if r.acct.EncodingAESKey != "" {
			// Safe or compatible mode. The plain signature covers the
			// timestamp and nonce, not the body: anyone holding one
			// captured URL could post any plaintext for the whole window.
			// Only the decrypted Encrypt under msg_signature is trusted.
			if q.Get("encrypt_type") != "aes" || q.Get("msg_signature") == "" {
				return nil, nil, false, refuse(http.StatusUnauthorized,
					"this account is in safe or compatible mode: only an encrypted body (encrypt_type=aes) with msg_signature is accepted", nil)
			}
			safeMode = true
			if plain, c, err = h.open(r, wechat.ParseEnvelopeXML); err != nil {
				return nil, nil, false, err
			}
		}
		in, err = wechat.ParseOA(plain)
	case qunyun.ChannelWeCom:
		if err := h.checkTimestamp(q.Get("timestamp")); err != nil {
			return nil, nil, false, err
		}
		var plain []byte
		if plain, _, err = h.open(r, wechat.ParseEnvelopeXML); err != nil {
			return nil, nil, false, err
		}
		in, err = wechat.ParseWeCom(plain)
	case qunyun.ChannelWeComBot:
		if err := h.checkTimestamp(q.Get("timestamp")); err != nil {
			return nil, nil, false, err
		}
		var plain []byte
		if plain, c, err = h.open(r, wechat.ParseEnvelopeJSON); err != nil {
			return nil, nil, false, err
		}
		in, err = wechat.ParseBot(plain)
		safeMode = true
	case qunyun.ChannelRelay:
		ts, sig := r.head(wechat.RelayTimestampHeader), r.head(wechat.RelaySignatureHeader)
		if err := wechat.VerifyRelay([]byte(r.acct.HMACKey), ts, sig, r.body, h.Now()); err != nil {
			return nil, nil, false, protocolError(err)
		}
		var ev *wechat.RelayEvent
		if ev, err = wechat.ParseRelay(r.body); err == nil {
			if err := wechat.CheckRelayTime(ev, h.Now()); err != nil {
				return nil, nil, false, refuse(http.StatusBadRequest, "time is more than 10 minutes from our clock", err)
			}
		}
		in = ev
	default:
		return nil, nil, false, qunyun.Errorf(qunyun.EINTERNAL, "account %s has kind %q", r.acct.ID, r.acct.Kind)
	}
	if err != nil {
		if bad := protocolError(err); bad != nil {
			return nil, nil, false, bad
		}
		return nil, nil, false, err
	}
	return in, c, safeMode, nil
}

// normalised turns a checked callback into the domain. A relay id seen
// before with another body is the first body's record (duplicate: nothing
// more to do); a smart-bot message gets its anchored time.
func (h *Handler) normalised(ctx context.Context, r request, in wechat.Inbound) (norm Inbound, duplicate bool, err error) {
	// Normalised, and so checked, before the smart bot's anchor is
	// written: bad input writes nothing.
	norm, err = normalise(r.acct, in, time.Time{})
	if err != nil {
		if bad := protocolError(err); bad != nil {
			return Inbound{}, false, bad
		}
		return Inbound{}, false, err
	}
	if ev, ok := in.(*wechat.RelayEvent); ok {
		// The id's first body decides the record: a later one with other
		// fields is recorded as that one (claimRelay rewrites ev).
		group, at := ev.GroupID, ev.Time
		ignore, err := h.claimRelay(ctx, r.acct, ev)
		if err != nil {
			return Inbound{}, false, err
		}
		if ignore {
			return Inbound{}, true, nil
		}
		if ev.GroupID != group || ev.Time != at {
			if norm, err = normalise(r.acct, in, time.Time{}); err != nil {
				return Inbound{}, false, err
			}
		}
	}
	if bot, ok := in.(*wechat.BotMessage); ok && bot.MsgType != "stream" {
		botAt, err := h.Service.Store.Log.AnchorBotMessage(ctx, r.acct.ID, bot.MsgID, h.Now())
		if err != nil {
			return Inbound{}, false, err
		}
		if norm, err = normalise(r.acct, in, botAt); err != nil {
			return Inbound{}, false, err
		}
	}
	return norm, false, nil
}

// claimRelay makes a relay id one record, whatever its later bodies say:
// the first delivery claims the id with the event's group, type and time,
// and a later one is recorded as that one (its log key is then the same, so
// the record's conditional put makes it a no-op, or completes a first
// delivery whose record failed). A later body of another type cannot be
// that record: it is a duplicate, answered as one, and writes nothing.
func (h *Handler) claimRelay(ctx context.Context, acct qunyun.Account, ev *wechat.RelayEvent) (ignore bool, err error) {
	first, err := h.Service.Store.Log.ClaimRelayID(ctx, acct.ID, ev.ID,
		qunyun.RelayClaim{GroupID: ev.GroupID, Event: ev.Type, At: time.Unix(ev.Time, 0)})
	if err != nil {
		return false, err
	}
	if first.Event != ev.Type {
		h.Log.WarnContext(ctx, "callback: relay id seen before as another event; ignored",
			"account", acct.ID, "id", ev.ID, "first", first.Event, "now", ev.Type)
		return true, nil
	}
	ev.GroupID, ev.Time = first.GroupID, first.At.Unix()
	return false, nil
}

// open parses the envelope and decrypts it after checking msg_signature.
func (h *Handler) open(r request, parse func([]byte) (wechat.Envelope, error)) ([]byte, *wechat.Crypto, error) {
	env, err := parse(r.body)
	if errors.Is(err, wechat.ErrMissingField) {
		// No Encrypt: nothing in the body is authenticated.
		return nil, nil, refuse(http.StatusUnauthorized, "body has no Encrypt: only an encrypted body with msg_signature is accepted", err)
	}
	if err != nil {
		return nil, nil, protocolError(err)
	}
	c, err := h.crypto(r.acct)
	if err != nil {
		return nil, nil, err
	}
	q := r.query
	plain, err := c.Open(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), env.Encrypt)
	if err != nil {
		return nil, nil, protocolError(err)
	}
	return plain, c, nil
}

func text(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Body: body,
		Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}}
}

func xmlBody(b []byte) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: string(b),
		Headers: map[string]string{"Content-Type": "application/xml; charset=utf-8"}}
}

func jsonBody(b []byte) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: string(b),
		Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}
}

func notFoundPage(page string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNotFound, Body: page,
		Headers: map[string]string{"Content-Type": "text/html; charset=utf-8"}}
}

// Invoke is CallbackFunction's Lambda handler: an API Gateway v2 request of
// the HttpApi routes (answered by Handle), or the schedule's input (a JSON
// object with "kind"), which runs ResumeDue at the handler's clock and
// answers its report. Told apart by their JSON, as push and session tell a
// schedule from a bus event.
func (h *Handler) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Kind     *string `json:"kind"`
		RouteKey string  `json:"routeKey"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, qunyun.Errorf(qunyun.EINVALID, "callback: input is not a JSON object: %v", err)
	}
	if probe.Kind == nil || probe.RouteKey != "" {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, qunyun.Errorf(qunyun.EINVALID, "callback: bad API Gateway request: %v", err)
		}
		return h.Handle(ctx, req)
	}
	var in ScheduleInput
	if err := json.Unmarshal(raw, &in); err != nil || in.Kind != KindResume || in.ScheduledTime.IsZero() {
		return nil, qunyun.Errorf(qunyun.EINVALID, `callback: schedule input must be {"kind":"resume","scheduledTime":<RFC 3339>}, got %s`, raw)
	}
	// The clock, not the scheduled time, picks the dates and the age of
	// notes: a late run must still leave fresh failures to WeChat's retries.
	return h.Service.ResumeDue(ctx, h.Now())
}
