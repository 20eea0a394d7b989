package qunyun

import "time"

// MessageKind is what a Message carries.
type MessageKind string

const (
	KindText        MessageKind = "text"
	KindImage       MessageKind = "image"
	KindVoice       MessageKind = "voice"
	KindVideo       MessageKind = "video"
	KindLink        MessageKind = "link"
	KindLocation    MessageKind = "location"
	KindMiniProgram MessageKind = "miniprogram"
	KindCard        MessageKind = "card" // contact card
	KindFile        MessageKind = "file"
	KindOther       MessageKind = "other"
)

// Moderation signals recorded on a message (issue: callback §7).
const (
	SignalLink        = "link"
	SignalQRCode      = "qrcode"
	SignalMiniProgram = "miniprogram"
	SignalCard        = "card"
	SignalSensitive   = "sensitive"
	SignalFlood       = "flood"
)

// Message is one inbound message, in a group or 1:1 with an account.
// ID is its idempotency key (DESIGN.md §5).
type Message struct {
	ID         string      `json:"id" dynamodbav:"id"`
	AccountID  string      `json:"account" dynamodbav:"account"`
	Channel    Channel     `json:"channel" dynamodbav:"channel"`
	GroupID    string      `json:"group,omitempty" dynamodbav:"group,omitempty"` // "" for 1:1
	MemberID   string      `json:"member" dynamodbav:"member"`
	MemberName string      `json:"memberName,omitempty" dynamodbav:"memberName,omitempty"`
	Kind       MessageKind `json:"kind" dynamodbav:"kind"`
	Text       string      `json:"text,omitempty" dynamodbav:"text,omitempty"`
	URL        string      `json:"url,omitempty" dynamodbav:"url,omitempty"`
	Mentions   []string    `json:"mentions,omitempty" dynamodbav:"mentions,omitempty"`
	ReplyTo    string      `json:"replyTo,omitempty" dynamodbav:"replyTo,omitempty"` // id of the quoted message
	At         time.Time   `json:"at" dynamodbav:"at"`
	Signals    []string    `json:"signals,omitempty" dynamodbav:"signals,omitempty"`
	// Question marks a message captured as a session question.
	SessionID string `json:"session,omitempty" dynamodbav:"session,omitempty"`
}
