package wechatapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// API paths (the sandbox serves the same).
const (
	pathStableToken      = "/cgi-bin/stable_token"
	pathGetToken         = "/cgi-bin/gettoken"
	pathCustomSend       = "/cgi-bin/message/custom/send"
	pathTemplateSend     = "/cgi-bin/message/template/send"
	pathAddMsgTemplate   = "/cgi-bin/externalcontact/add_msg_template"
	pathGroupMsgResult   = "/cgi-bin/externalcontact/get_groupmsg_send_result"
	pathRemindGroupMsg   = "/cgi-bin/externalcontact/remind_groupmsg_send"
	pathCancelGroupMsg   = "/cgi-bin/externalcontact/cancel_groupmsg_send"
	pathGroupChatGet     = "/cgi-bin/externalcontact/groupchat/get"
	pathAppChatSend      = "/cgi-bin/appchat/send"
	pathMessageSend      = "/cgi-bin/message/send"
	pathWebhookSend      = "/cgi-bin/webhook/send"
	defaultOABase        = "https://api.weixin.qq.com"
	defaultWeComBase     = "https://qyapi.weixin.qq.com"
	maxResponseBodyBytes = 1 << 20
)

// Client calls the WeChat and WeCom APIs for any account.
type Client struct {
	HTTP      *http.Client // default: 10 s timeout
	OABase    string       // WECHAT_API_BASE
	WeComBase string       // WECOM_API_BASE
	Tokens    *Tokens
	Limits    *Limits
	// Backoff lists the waits before each retry of a throttled call
	// (default 1 s, 2 s, 4 s); Sleep waits (default: a real timer).
	Backoff []time.Duration
	Sleep   func(ctx context.Context, d time.Duration) error
	// Now signs relay posts (default time.Now).
	Now func() time.Time
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (c *Client) backoff() []time.Duration {
	if c.Backoff != nil {
		return c.Backoff
	}
	return []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// appKey names an account's token: one per OA appid, one per WeCom app secret.
func appKey(a qunyun.Account) string {
	if a.Kind == qunyun.ChannelOA {
		return "oa:" + a.AppID
	}
	return "wecom:" + a.CorpID + ":" + a.AgentID
}

func (c *Client) base(a qunyun.Account) string {
	if a.Kind == qunyun.ChannelOA {
		return strings.TrimRight(orDefault(c.OABase, defaultOABase), "/")
	}
	return strings.TrimRight(orDefault(c.WeComBase, defaultWeComBase), "/")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// envelope is the errcode/errmsg every WeChat answer carries.
type envelope struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// do sends one request and decodes the answer into out (which should embed
// nothing: the envelope is read separately).
func (c *Client) do(ctx context.Context, method, rawURL, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("wechat %s: encode: %w", path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return fmt.Errorf("wechat %s: %w", path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		// The URL holds the token or the robot key: never return it.
		return qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat %s: request failed", path)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBodyBytes))
	if err != nil {
		return qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat %s: read answer: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat %s: HTTP %d", path, res.StatusCode)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat %s: answer is not JSON", path)
	}
	if env.ErrCode != 0 {
		return &APIError{API: path, Code: env.ErrCode, Message: env.ErrMsg}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("wechat %s: decode answer: %w", path, err)
		}
	}
	return nil
}

// fetcher returns the token fetch for an account: stable_token for an OA
// (it does not invalidate other processes' tokens), gettoken for WeCom.
func (c *Client) fetcher(a qunyun.Account) FetchFunc {
	return func(ctx context.Context, force bool) (string, time.Duration, error) {
		var out struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
		}
		var err error
		if a.Kind == qunyun.ChannelOA {
			body := map[string]any{"grant_type": "client_credential", "appid": a.AppID, "secret": a.Secret, "force_refresh": force}
			err = c.do(ctx, http.MethodPost, c.base(a)+pathStableToken, pathStableToken, body, &out)
		} else {
			q := url.Values{"corpid": {a.CorpID}, "corpsecret": {a.Secret}}
			err = c.do(ctx, http.MethodGet, c.base(a)+pathGetToken+"?"+q.Encode(), pathGetToken, nil, &out)
		}
		if err != nil {
			return "", 0, err
		}
		if out.AccessToken == "" || out.ExpiresIn <= 0 {
			return "", 0, qunyun.Errorf(qunyun.EUNAVAILABLE, "token answer for %s has no token", a.ID)
		}
		return out.AccessToken, TokenLife(out.ExpiresIn), nil
	}
}

// maxTokenLife bounds the life a token answer may claim: WeChat's last
// 7200 s, and a huge expires_in would overflow into the past, so every call
// would fetch a new token.
const maxTokenLife = 24 * time.Hour

// TokenLife is the life of a token answered with expires_in seconds (> 0).
func TokenLife(expiresIn int) time.Duration {
	return time.Duration(min(expiresIn, int(maxTokenLife/time.Second))) * time.Second
}

// call POSTs body to an authenticated API of account a: rate-limited, with
// one token refresh and one retry on 40001/42001, and back-off retries on
// 45009/45011.
func (c *Client) call(ctx context.Context, a qunyun.Account, path string, body, out any) error {
	if c.Tokens == nil {
		return qunyun.Errorf(qunyun.EINTERNAL, "wechatapi: no token source")
	}
	app := appKey(a)
	fetch := c.fetcher(a)
	token, err := c.Tokens.Get(ctx, app, fetch)
	if err != nil {
		return notSent(err)
	}
	refreshed := false
	waits := c.backoff()
	for attempt := 0; ; attempt++ {
		if err := c.Limits.Wait(ctx, app, path); err != nil {
			return notSent(err)
		}
		err := c.do(ctx, http.MethodPost, c.base(a)+path+"?access_token="+url.QueryEscape(token), path, body, out)
		var apiErr *APIError
		switch {
		case err == nil:
			return nil
		case !asAPIError(err, &apiErr):
			return err
		case tokenRejected(apiErr.Code) && !refreshed:
			refreshed = true
			if token, err = c.Tokens.Refresh(ctx, app, token, fetch); err != nil {
				return notSent(err)
			}
		case throttled(apiErr.Code) && len(waits) > 0:
			if err := c.sleep(ctx, waits[0]); err != nil {
				return notSent(err)
			}
			waits = waits[1:]
		default:
			c.Tokens.IPAlerts.Observe(app, err)
			return err
		}
	}
}

func asAPIError(err error, target **APIError) bool {
	e, ok := err.(*APIError)
	if ok {
		*target = e
	}
	return ok
}

// Message is one rendered outbound message, in the shape of a Content item.
type Message struct {
	Kind        qunyun.ContentKind
	Text        string
	Title       string
	Description string
	URL         string
	PicURL      string
	MediaID     string
	AppID       string
	PagePath    string
}

// linkText is the message as text, for channels without cards.
func (m Message) linkText() string {
	parts := []string{}
	for _, s := range []string{m.Title, m.Text, m.URL} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

type article struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url"`
	PicURL      string `json:"picurl,omitempty"`
}

// body builds the msgtype/payload pair shared by custom/send, appchat/send,
// message/send and the robot webhook.
func (m Message) body(extra map[string]any) map[string]any {
	b := map[string]any{}
	for k, v := range extra {
		b[k] = v
	}
	switch m.Kind {
	case qunyun.ContentLink:
		b["msgtype"] = "news"
		b["news"] = map[string]any{"articles": []article{{Title: m.Title, Description: orDefault(m.Description, m.Text), URL: m.URL, PicURL: m.PicURL}}}
	case qunyun.ContentImage:
		b["msgtype"] = "image"
		b["image"] = map[string]string{"media_id": m.MediaID}
	default:
		b["msgtype"] = "text"
		b["text"] = map[string]string{"content": m.linkText()}
	}
	return b
}

// CustomSend sends an OA customer-service message to a follower (48 h window).
func (c *Client) CustomSend(ctx context.Context, a qunyun.Account, openID string, m Message) error {
	extra := map[string]any{"touser": openID}
	if m.Kind == qunyun.ContentMiniProgram {
		extra["msgtype"] = "miniprogrampage"
		extra["miniprogrampage"] = map[string]string{"title": m.Title, "appid": m.AppID, "pagepath": m.PagePath, "thumb_media_id": m.MediaID}
		return c.call(ctx, a, pathCustomSend, extra, nil)
	}
	return c.call(ctx, a, pathCustomSend, m.body(extra), nil)
}

// TemplateSend sends an OA template message (verified service accounts).
func (c *Client) TemplateSend(ctx context.Context, a qunyun.Account, openID, templateID, link string, data map[string]string) (int64, error) {
	fields := map[string]map[string]string{}
	for k, v := range data {
		fields[k] = map[string]string{"value": v}
	}
	var out struct {
		MsgID int64 `json:"msgid"`
	}
	err := c.call(ctx, a, pathTemplateSend, map[string]any{"touser": openID, "template_id": templateID, "url": link, "data": fields}, &out)
	return out.MsgID, err
}

// AppChatSend posts into an internal WeCom group the app created.
func (c *Client) AppChatSend(ctx context.Context, a qunyun.Account, chatID string, m Message) error {
	return c.call(ctx, a, pathAppChatSend, m.body(map[string]any{"chatid": chatID}), nil)
}

// MessageSend sends a WeCom app message to staff (user ids joined by '|').
func (c *Client) MessageSend(ctx context.Context, a qunyun.Account, userIDs string, m Message) error {
	agent, _ := strconv.Atoi(a.AgentID)
	return c.call(ctx, a, pathMessageSend, m.body(map[string]any{"touser": userIDs, "agentid": agent}), nil)
}

// RobotImageMax is the largest image a group robot takes (2 MB, before
// base64).
const RobotImageMax = 2 << 20
