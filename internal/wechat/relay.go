package wechat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// The relay channel: a bridge (a chat-archive puller, a bot) posts signed JSON
// group messages and membership events. docs/relay-protocol.md is the
// contract; keep the two in step.
const (
	RelayTimestampHeader = "X-Qunyun-Timestamp" // decimal Unix seconds
	RelaySignatureHeader = "X-Qunyun-Signature" // hex HMAC-SHA256
	// RelayMaxSkew is how far the timestamp may be from the receiver's clock.
	RelayMaxSkew = 300 * time.Second
	// RelayMaxTimeSkew is how far an event's own time may be from the
	// receiver's clock. The time dates the event's log record; a bridge
	// that could send any time could record one event under many dates.
	RelayMaxTimeSkew = 10 * time.Minute
	// maxSenderID bounds a sender's own id (the bridge's id, the smart
	// bot's msgid), which becomes a storage key.
	maxSenderID = 128
)

// Relay event types.
const (
	RelayMessage        = "message"
	RelayMemberJoined   = "member_joined"
	RelayMemberLeft     = "member_left"
	RelayGroupCreated   = "group_created"
	RelayGroupDismissed = "group_dismissed"
	RelayGroupRenamed   = "group_renamed"
)

// RelayEvent is one signed body from a bridge.
type RelayEvent struct {
	ID         string   `json:"id"`   // the bridge's own id, unique per event; the idempotency key
	Type       string   `json:"type"` // Relay*
	GroupID    string   `json:"group_id"`
	GroupName  string   `json:"group_name,omitempty"` // the new name for group_renamed
	MemberID   string   `json:"member_id,omitempty"`  // the sender, or the member who joined or left
	MemberName string   `json:"member_name,omitempty"`
	ActorID    string   `json:"actor_id,omitempty"` // who invited, removed or renamed
	Kind       string   `json:"kind,omitempty"`     // message: text, image, voice, video, file, link, miniprogram, card, sticker, other
	Text       string   `json:"text,omitempty"`
	URL        string   `json:"url,omitempty"`      // link: its URL; miniprogram: its page path or URL
	Mentions   []string `json:"mentions,omitempty"` // member ids; "@all" for everyone
	ReplyTo    string   `json:"reply_to,omitempty"` // id of the quoted message
	Time       int64    `json:"time"`               // Unix seconds, when it happened in the group
}

// Channel implements Inbound.
func (*RelayEvent) Channel() Channel { return ChannelRelay }

// SignRelay returns the hex HMAC-SHA256 of timestamp + "\n" + body under
// secret: the value of the X-Qunyun-Signature header. Qunyun uses it for its
// own posts to a bridge's webhook too.
func SignRelay(secret []byte, timestamp string, body []byte) string {
	return hex.EncodeToString(relayMAC(secret, timestamp, body))
}

// VerifyRelay checks a bridge's request: the timestamp must be within
// RelayMaxSkew of now (ErrTimestamp) and the signature must match
// (ErrSignature, compared in constant time). An empty secret never verifies.
func VerifyRelay(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	if len(body) > MaxBodySize {
		return fmt.Errorf("verify relay: %w", ErrTooLarge)
	}
	if err := CheckTimestamp(timestamp, now, RelayMaxSkew); err != nil {
		return fmt.Errorf("verify relay: %w", err)
	}
	if len(secret) == 0 {
		return fmt.Errorf("verify relay: no secret configured: %w", ErrSignature)
	}
	got, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(relayMAC(secret, timestamp, body), got) {
		return fmt.Errorf("verify relay: %w", ErrSignature)
	}
	return nil
}

func relayMAC(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'\n'})
	m.Write(body)
	return m.Sum(nil)
}

// ParseRelay decodes and validates a relay body. Call VerifyRelay first.
func ParseRelay(body []byte) (*RelayEvent, error) {
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("parse relay: %w", ErrTooLarge)
	}
	var e RelayEvent
	if err := decodeJSON(body, &e); err != nil {
		return nil, fmt.Errorf("parse relay: %w", err)
	}
	if err := e.validate(); err != nil {
		return nil, fmt.Errorf("parse relay %q: %w", truncate(e.ID, maxSenderID), err)
	}
	return &e, nil
}

// CheckRelayTime rejects an event whose time lies more than
// RelayMaxTimeSkew from now, in either direction (ErrInvalid: the body is
// signed, so this is the bridge's mistake, not a forgery).
func CheckRelayTime(e *RelayEvent, now time.Time) error {
	limit := int64(RelayMaxTimeSkew / time.Second)
	// Bounds, not a subtraction: a hostile time near the int64 limits
	// cannot overflow.
	if e.Time < now.Unix()-limit || e.Time > now.Unix()+limit {
		return fmt.Errorf("relay %q: time %d is more than %ds from now: %w", truncate(e.ID, maxSenderID), e.Time, limit, ErrInvalid)
	}
	return nil
}

func (e *RelayEvent) validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("id: %w", ErrMissingField)
	case len(e.ID) > maxSenderID:
		return fmt.Errorf("id longer than %d bytes: %w", maxSenderID, ErrInvalid)
	case e.GroupID == "":
		return fmt.Errorf("group_id: %w", ErrMissingField)
	case e.Time <= 0:
		return fmt.Errorf("time: %w", ErrMissingField)
	}
	switch e.Type {
	case RelayMessage:
		if e.Kind == "" {
			return fmt.Errorf("kind: %w", ErrMissingField)
		}
		fallthrough
	case RelayMemberJoined, RelayMemberLeft:
		if e.MemberID == "" {
			return fmt.Errorf("member_id: %w", ErrMissingField)
		}
	case RelayGroupRenamed:
		if e.GroupName == "" {
			return fmt.Errorf("group_name: %w", ErrMissingField)
		}
	case RelayGroupCreated, RelayGroupDismissed:
	case "":
		return fmt.Errorf("type: %w", ErrMissingField)
	default:
		return fmt.Errorf("type %q: %w", truncate(e.Type, 40), ErrInvalid)
	}
	return nil
}
