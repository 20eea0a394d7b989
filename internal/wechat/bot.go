package wechat

import (
	"fmt"
	"strings"
)

// BotMessage is a decrypted WeCom smart-bot callback (JSON). In a group it
// arrives only when a member @-mentions the bot; Text.Content includes the
// mention.
type BotMessage struct {
	MsgID       string  `json:"msgid"`
	AIBotID     string  `json:"aibotid"`
	ChatID      string  `json:"chatid"`   // set in groups
	ChatType    string  `json:"chattype"` // "single" or "group"
	From        BotUser `json:"from"`
	ResponseURL string  `json:"response_url"` // callable once, within an hour
	MsgType     string  `json:"msgtype"`      // text, image, mixed, voice, file, stream, event

	Text   *BotText   `json:"text,omitempty"`
	Image  *BotURL    `json:"image,omitempty"`
	Voice  *BotText   `json:"voice,omitempty"` // content is the transcript
	File   *BotURL    `json:"file,omitempty"`
	Mixed  *BotMixed  `json:"mixed,omitempty"`
	Quote  *BotQuote  `json:"quote,omitempty"`
	Stream *BotStream `json:"stream,omitempty"`
	Event  *BotEvent  `json:"event,omitempty"`
}

// BotUser identifies the member who wrote.
type BotUser struct {
	UserID string `json:"userid"`
}

// BotText is the content of a text (or voice transcript) part.
type BotText struct {
	Content string `json:"content"`
}

// BotURL points at an image or file; it is encrypted with the bot's key.
type BotURL struct {
	URL string `json:"url"`
}

// BotMixed is a message of several parts (text and images).
type BotMixed struct {
	Items []BotItem `json:"msg_item"`
}

// BotItem is one part of a mixed message.
type BotItem struct {
	MsgType string   `json:"msgtype"`
	Text    *BotText `json:"text,omitempty"`
	Image   *BotURL  `json:"image,omitempty"`
}

// BotQuote is the message the member replied to.
type BotQuote struct {
	MsgType string    `json:"msgtype"`
	Text    *BotText  `json:"text,omitempty"`
	Image   *BotURL   `json:"image,omitempty"`
	Mixed   *BotMixed `json:"mixed,omitempty"`
}

// BotStream is a stream-refresh callback for a reply in progress.
type BotStream struct {
	ID string `json:"id"`
}

// BotEvent is an event callback such as enter_chat.
type BotEvent struct {
	EventType string `json:"eventtype"`
}

// Channel implements Inbound.
func (*BotMessage) Channel() Channel { return ChannelWeComBot }

// Content returns the message's text: the text or voice content, or the text
// parts of a mixed message joined by newlines.
func (m *BotMessage) Content() string {
	switch {
	case m.Text != nil:
		return m.Text.Content
	case m.Voice != nil:
		return m.Voice.Content
	case m.Mixed != nil:
		var parts []string
		for _, it := range m.Mixed.Items {
			if it.Text != nil {
				parts = append(parts, it.Text.Content)
			}
		}
		return strings.Join(parts, "\n")
	}
	return ""
}

// ParseBot decodes a decrypted smart-bot callback. msgid (at most 128
// bytes) and msgtype are required.
func ParseBot(plainJSON []byte) (*BotMessage, error) {
	if len(plainJSON) > MaxBodySize {
		return nil, fmt.Errorf("parse bot: %w", ErrTooLarge)
	}
	var m BotMessage
	if err := decodeJSON(plainJSON, &m); err != nil {
		return nil, fmt.Errorf("parse bot: %w", err)
	}
	if m.MsgID == "" {
		return nil, fmt.Errorf("parse bot: msgid: %w", ErrMissingField)
	}
	if len(m.MsgID) > maxSenderID {
		return nil, fmt.Errorf("parse bot: msgid longer than %d bytes: %w", maxSenderID, ErrInvalid)
	}
	if m.MsgType == "" {
		return nil, fmt.Errorf("parse bot: msgtype: %w", ErrMissingField)
	}
	return &m, nil
}
