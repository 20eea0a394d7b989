package callback

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/qunyun/qunyun/internal/wechat"
)

// reply renders the passive reply where the channel has one: OA 1:1 (XML,
// sealed in safe mode) and the smart bot (sealed JSON). WeCom and relay get
// "success": WeCom customer groups and bridges have no passive reply.
func (h *Handler) reply(ctx context.Context, r request, in wechat.Inbound, c *wechat.Crypto, safeMode bool, out Outcome) events.APIGatewayV2HTTPResponse {
	if out.Reply == "" {
		return text(http.StatusOK, "success")
	}
	var plain []byte
	switch m := in.(type) {
	case *wechat.BotMessage:
		plain = botReply(m, out.Reply, h.random)
	default:
		to, from := oaParties(in)
		if to == "" {
			return text(http.StatusOK, "success")
		}
		plain = wechat.TextReply{ToUserName: to, FromUserName: from, CreateTime: h.Now().Unix(), Content: out.Reply}.XML()
	}
	if !safeMode || c == nil {
		return xmlBody(plain)
	}
	nonce := make([]byte, 8)
	if err := h.random(nonce); err != nil {
		h.Log.ErrorContext(ctx, "callback: reply nonce", "error", err.Error())
		return text(http.StatusOK, "success")
	}
	sealed, err := c.Seal(plain, strconv.FormatInt(h.Now().Unix(), 10), hex.EncodeToString(nonce), randReader{h.random})
	if err != nil {
		// The record exists: answer success rather than make WeChat retry.
		h.Log.ErrorContext(ctx, "callback: seal reply", "error", err.Error())
		return text(http.StatusOK, "success")
	}
	if _, ok := in.(*wechat.BotMessage); ok {
		return jsonBody(sealed.JSON())
	}
	return xmlBody(sealed.XML())
}

func (h *Handler) random(b []byte) error {
	if h.Random != nil {
		return h.Random(b)
	}
	_, err := rand.Read(b)
	return err
}

type randReader struct{ fill func([]byte) error }

func (r randReader) Read(b []byte) (int, error) {
	if err := r.fill(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// oaParties returns who a passive reply goes to and comes from.
func oaParties(in wechat.Inbound) (to, from string) {
	switch m := in.(type) {
	case *wechat.OAText:
		return m.FromUserName, m.ToUserName
	case *wechat.OASubscribe:
		return m.FromUserName, m.ToUserName
	case *wechat.OAScan:
		return m.FromUserName, m.ToUserName
	case *wechat.OAClick:
		return m.FromUserName, m.ToUserName
	case *wechat.OALink: // an editor's shared link: the submission's receipt
		return m.FromUserName, m.ToUserName
	}
	return "", ""
}

// botReply is a finished stream (the bot's passive reply to a message) or,
// for enter_chat, the welcome text.
func botReply(m *wechat.BotMessage, content string, random func([]byte) error) []byte {
	if m.MsgType == "event" {
		b, _ := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": content}})
		return b
	}
	id := make([]byte, 8)
	_ = random(id) // an all-zero id is still a valid stream id
	b, _ := json.Marshal(map[string]any{"msgtype": "stream", "stream": map[string]any{
		"id": hex.EncodeToString(id), "finish": true, "content": content,
	}})
	return b
}
