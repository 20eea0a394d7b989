package wechatapi

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
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

// TaskRequest is a WeCom customer or customer-group mass-message task.
type TaskRequest struct {
	Groups    []string // chat ids (chat_type group); or
	Customers []string // external user ids (chat_type single)
	Sender    string   // the staff member who must confirm (required for groups)
	Message   Message
}

// AddMsgTemplate creates a task; it does not send: Sender must confirm it in
// WeCom. It returns the task's msgid.
func (c *Client) AddMsgTemplate(ctx context.Context, a qunyun.Account, r TaskRequest) (string, error) {
	body := map[string]any{"sender": r.Sender, "allow_select": false}
	if len(r.Groups) > 0 {
		body["chat_type"] = "group"
		body["chat_id_list"] = r.Groups
	} else {
		body["chat_type"] = "single"
		body["external_userid"] = r.Customers
	}
	m := r.Message
	if m.Text != "" {
		body["text"] = map[string]string{"content": m.Text}
	}
	switch m.Kind {
	case qunyun.ContentLink:
		body["attachments"] = []map[string]any{{"msgtype": "link", "link": map[string]string{"title": m.Title, "picurl": m.PicURL, "desc": m.Description, "url": m.URL}}}
	case qunyun.ContentImage:
		body["attachments"] = []map[string]any{{"msgtype": "image", "image": map[string]string{"media_id": m.MediaID}}}
	case qunyun.ContentMiniProgram:
		body["attachments"] = []map[string]any{{"msgtype": "miniprogram", "miniprogram": map[string]string{"title": m.Title, "pic_media_id": m.MediaID, "appid": m.AppID, "page": m.PagePath}}}
	}
	var out struct {
		MsgID    string   `json:"msgid"`
		FailList []string `json:"fail_list"`
	}
	if err := c.call(ctx, a, pathAddMsgTemplate, body, &out); err != nil {
		return "", err
	}
	if out.MsgID == "" {
		return "", qunyun.Errorf(qunyun.EUNAVAILABLE, "add_msg_template: no msgid in the answer")
	}
	if len(out.FailList) > 0 && len(out.FailList) == len(r.Groups)+len(r.Customers) {
		return out.MsgID, &APIError{API: pathAddMsgTemplate, Code: -1, Message: "every target is in fail_list"}
	}
	return out.MsgID, nil
}

// TaskStatus is a task's send status for one target (get_groupmsg_send_result).
type TaskStatus int

const (
	TaskUnsent          TaskStatus = 0 // 未发送
	TaskSent            TaskStatus = 1 // 已发送
	TaskNotFriend       TaskStatus = 2 // 非好友失败
	TaskAlreadyReceived TaskStatus = 3 // 已收到其他群发失败
)

// TaskResult is one row of get_groupmsg_send_result.
type TaskResult struct {
	ChatID         string     `json:"chat_id"`
	ExternalUserID string     `json:"external_userid"`
	UserID         string     `json:"userid"`
	Status         TaskStatus `json:"status"`
	SendTime       int64      `json:"send_time"`
}

// GroupMsgSendResult reads a task's per-target status for its sender.
func (c *Client) GroupMsgSendResult(ctx context.Context, a qunyun.Account, msgID, sender string) ([]TaskResult, error) {
	var all []TaskResult
	cursor := ""
	seen := map[string]bool{}
	for {
		var out struct {
			SendList   []TaskResult `json:"send_list"`
			NextCursor string       `json:"next_cursor"`
		}
		if err := c.call(ctx, a, pathGroupMsgResult, map[string]any{"msgid": msgID, "userid": sender, "limit": 500, "cursor": cursor}, &out); err != nil {
			return nil, err
		}
		all = append(all, out.SendList...)
		if out.NextCursor == "" {
			return all, nil
		}
		// A cursor seen before would page for ever.
		if seen[out.NextCursor] {
			return nil, qunyun.Errorf(qunyun.EUNAVAILABLE, "get_groupmsg_send_result of %s: cursor %q came back again", msgID, out.NextCursor)
		}
		seen[out.NextCursor] = true
		cursor = out.NextCursor
	}
}

// RemindGroupMsgSend re-notifies the sender of an unconfirmed task (WeCom
// allows 3 reminders in 24 h).
func (c *Client) RemindGroupMsgSend(ctx context.Context, a qunyun.Account, msgID string) error {
	return c.call(ctx, a, pathRemindGroupMsg, map[string]string{"msgid": msgID}, nil)
}

// CancelGroupMsgSend stops an unconfirmed task (an expired one must not be
// confirmed late).
func (c *Client) CancelGroupMsgSend(ctx context.Context, a qunyun.Account, msgID string) error {
	return c.call(ctx, a, pathCancelGroupMsg, map[string]string{"msgid": msgID}, nil)
}

// GroupChat is a WeCom customer group as groupchat/get describes it.
type GroupChat struct {
	ChatID     string            `json:"chat_id"`
	Name       string            `json:"name"`
	Owner      string            `json:"owner"` // the owner's userid
	CreateTime int64             `json:"create_time"`
	Members    []GroupChatMember `json:"member_list"`
}

// GroupChatMember is one member of a customer group.
type GroupChatMember struct {
	UserID        string `json:"userid"`
	Type          int    `json:"type"` // 1 staff, 2 external contact
	JoinTime      int64  `json:"join_time"`
	Name          string `json:"name"` // with need_name=1
	GroupNickname string `json:"group_nickname"`
}

// GroupChat reads a customer group: its name, owner and members with their
// names (need_name=1). WeCom fills some of it asynchronously: a member who
// joined seconds ago may be missing.
func (c *Client) GroupChat(ctx context.Context, a qunyun.Account, chatID string) (GroupChat, error) {
	var out struct {
		GroupChat GroupChat `json:"group_chat"`
	}
	if err := c.call(ctx, a, pathGroupChatGet, map[string]any{"chat_id": chatID, "need_name": 1}, &out); err != nil {
		return GroupChat{}, err
	}
	if out.GroupChat.ChatID == "" {
		return GroupChat{}, qunyun.Errorf(qunyun.EUNAVAILABLE, "groupchat/get %s: no group_chat in the answer", chatID)
	}
	return out.GroupChat, nil
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

// WebhookSend posts through a WeCom group robot (its webhook URL holds the
// key). The robot takes 20 messages a minute; the bucket keeps under it.
func (c *Client) WebhookSend(ctx context.Context, webhook string, m Message) error {
	u, err := url.Parse(webhook)
	if err != nil || u.Query().Get("key") == "" {
		return qunyun.Errorf(qunyun.EINVALID, "robot webhook URL is not .../webhook/send?key=...")
	}
	body := m.body(nil)
	if m.Kind == qunyun.ContentImage {
		// A robot cannot use a media_id: it takes the image itself.
		img, err := c.robotImage(ctx, m.PicURL)
		if err != nil {
			return err
		}
		body = map[string]any{"msgtype": "image", "image": img}
	}
	robot := "robot:" + u.Query().Get("key")
	waits := c.backoff()
	for {
		if err := c.Limits.Wait(ctx, robot, pathWebhookSend); err != nil {
			return notSent(err)
		}
		err := c.do(ctx, http.MethodPost, webhook, pathWebhookSend, body, nil)
		if err == nil || !Throttled(err) || len(waits) == 0 {
			return err
		}
		if err := c.sleep(ctx, waits[0]); err != nil {
			return notSent(err)
		}
		waits = waits[1:]
	}
}

// RobotImageMax is the largest image a group robot takes (2 MB, before
// base64).
const RobotImageMax = 2 << 20

// RobotImage is a group robot's image message: the picture itself, base64,
// with the MD5 of its bytes (hex), not a media_id.
type RobotImage struct {
	Base64 string `json:"base64"`
	MD5    string `json:"md5"`
}

// NewRobotImage encodes picture bytes for the robot.
func NewRobotImage(data []byte) RobotImage {
	sum := md5.Sum(data)
	return RobotImage{Base64: base64.StdEncoding.EncodeToString(data), MD5: hex.EncodeToString(sum[:])}
}

// robotImage fetches an image content's picture for the robot. A fetch that
// fails has posted nothing (notSent: try later); a picture the robot cannot
// take is a configuration error.
func (c *Client) robotImage(ctx context.Context, picURL string) (RobotImage, error) {
	u, err := url.Parse(picURL)
	if picURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return RobotImage{}, qunyun.Errorf(qunyun.EINVALID, "a robot image needs the content's picUrl (http or https): the robot takes the image, not a media_id")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, picURL, nil)
	if err != nil {
		return RobotImage{}, qunyun.Errorf(qunyun.EINVALID, "robot image: %v", err)
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		return RobotImage{}, notSent(qunyun.Errorf(qunyun.EUNAVAILABLE, "robot image %s: fetch failed", u.Host))
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return RobotImage{}, notSent(qunyun.Errorf(qunyun.EUNAVAILABLE, "robot image %s: HTTP %d", u.Host, res.StatusCode))
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, RobotImageMax+1))
	if err != nil {
		return RobotImage{}, notSent(qunyun.Errorf(qunyun.EUNAVAILABLE, "robot image %s: read: %v", u.Host, err))
	}
	if len(data) > RobotImageMax {
		return RobotImage{}, qunyun.Errorf(qunyun.EINVALID, "robot image %s is larger than 2 MB", u.Host)
	}
	return NewRobotImage(data), nil
}

// RelayMessage is what Qunyun posts to a relay bridge's webhook, signed like
// the bridge's own posts (docs/relay-protocol.md, "Outbound"). The fields
// before Title are the first version's and keep their meaning: Text is the
// whole message as plain text, so a bridge that reads nothing else still
// posts something readable.
type RelayMessage struct {
	ID      string `json:"id"` // the delivery id: the bridge must post it at most once
	Type    string `json:"type"`
	GroupID string `json:"group_id"`
	Kind    string `json:"kind"`
	Text    string `json:"text"`
	URL     string `json:"url,omitempty"` // link: its URL; image: the picture's URL
	Time    int64  `json:"time"`
	// Added for cards and replies (issue #15).
	Title       string   `json:"title,omitempty"`       // link, miniprogram
	Description string   `json:"description,omitempty"` // link
	PicURL      string   `json:"pic_url,omitempty"`     // link thumbnail, miniprogram cover
	AppID       string   `json:"app_id,omitempty"`      // miniprogram
	PagePath    string   `json:"page_path,omitempty"`   // miniprogram
	Mentions    []string `json:"mentions,omitempty"`    // member ids to @
	ReplyTo     string   `json:"reply_to,omitempty"`    // the bridge's id of the message this answers
}

// RelayMessageOf is the post of message m to a group, as delivery id.
func RelayMessageOf(id, groupID string, m Message, mentions []string, replyTo string, at time.Time) RelayMessage {
	r := RelayMessage{ID: id, Type: "send", GroupID: groupID, Kind: string(orKind(m.Kind)), Text: m.linkText(), URL: m.URL,
		Mentions: mentions, ReplyTo: replyTo}
	if !at.IsZero() {
		r.Time = at.Unix()
	}
	switch orKind(m.Kind) {
	case qunyun.ContentLink:
		r.Title, r.Description, r.PicURL = m.Title, orDefault(m.Description, m.Text), m.PicURL
	case qunyun.ContentImage:
		r.URL = m.PicURL
	case qunyun.ContentMiniProgram:
		r.Title, r.PicURL, r.AppID, r.PagePath = m.Title, m.PicURL, m.AppID, m.PagePath
	}
	return r
}

// RelaySend posts a message to the account's bridge.
func (c *Client) RelaySend(ctx context.Context, a qunyun.Account, msg RelayMessage) error {
	if a.Webhook == "" {
		return qunyun.Errorf(qunyun.EINVALID, "relay account %s has no webhook", a.ID)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("relay: encode: %w", err)
	}
	now := time.Now // wallclock: relay signatures are checked against the bridge's real clock
	if c.Now != nil {
		now = c.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wechat.RelayTimestampHeader, ts)
	req.Header.Set(wechat.RelaySignatureHeader, wechat.SignRelay([]byte(a.HMACKey), ts, body))
	if err := c.Limits.Wait(ctx, "relay:"+a.ID, "/relay"); err != nil {
		return notSent(err)
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		// Refused, reset or timed out: the bridge may have the post or not.
		return resendable(qunyun.Errorf(qunyun.EUNAVAILABLE, "relay %s: request failed", a.ID))
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, maxResponseBodyBytes))
	switch {
	case res.StatusCode/100 == 2:
		return nil
	case res.StatusCode/100 == 5 || res.StatusCode == http.StatusRequestTimeout || res.StatusCode == http.StatusTooManyRequests:
		return resendable(qunyun.Errorf(qunyun.EUNAVAILABLE, "relay %s: HTTP %d", a.ID, res.StatusCode))
	}
	// The bridge refused the post as it is (its signature, its body).
	return qunyun.Errorf(qunyun.EINVALID, "relay %s: HTTP %d", a.ID, res.StatusCode)
}
