package qunyun

import "time"

// SessionState is where a Session is in its life cycle; each transition
// happens once.
type SessionState string

const (
	SessionScheduled SessionState = "scheduled"
	SessionReminded  SessionState = "reminded"
	SessionOpen      SessionState = "open"
	SessionClosing   SessionState = "closing" // the closing notice went out
	SessionClosed    SessionState = "closed"
	SessionRecapped  SessionState = "recapped"
	SessionCancelled SessionState = "cancelled"
)

// Session is a time-boxed host session 嘉宾场 in one group.
type Session struct {
	ID      string       `json:"id" dynamodbav:"id"`
	GroupID string       `json:"group" dynamodbav:"group"`
	HostID  string       `json:"host" dynamodbav:"host"`
	Topic   string       `json:"topic,omitempty" dynamodbav:"topic,omitempty"`
	Start   time.Time    `json:"start" dynamodbav:"start"`
	End     time.Time    `json:"end" dynamodbav:"end"`
	State   SessionState `json:"state" dynamodbav:"state"`
	Manual  bool         `json:"manual,omitempty" dynamodbav:"manual,omitempty"`
}

// LiveSession is what the callback needs to capture Q&A in a group while a
// session is open: small, cached in memory.
type LiveSession struct {
	SessionID    string    `json:"session" dynamodbav:"session"`
	GroupID      string    `json:"group" dynamodbav:"group"`
	HostMemberID string    `json:"hostMember,omitempty" dynamodbav:"hostMember,omitempty"`
	End          time.Time `json:"end" dynamodbav:"end"`
}
