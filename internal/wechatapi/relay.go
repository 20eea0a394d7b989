package wechatapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

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
