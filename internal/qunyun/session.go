package qunyun

import (
	"errors"
	"time"
)

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
	// AccountID is the group's account, copied when the session is planned.
	AccountID string     `json:"account,omitempty" dynamodbav:"account,omitempty"`
	Run       SessionRun `json:"run,omitzero" dynamodbav:"run,omitempty"`
}

// LiveSession is what the callback needs to capture Q&A in a group while a
// session is open: small, cached in memory.
type LiveSession struct {
	SessionID    string    `json:"session" dynamodbav:"session"`
	GroupID      string    `json:"group" dynamodbav:"group"`
	HostMemberID string    `json:"hostMember,omitempty" dynamodbav:"hostMember,omitempty"`
	End          time.Time `json:"end" dynamodbav:"end"`
}

// Session life-cycle details the session function records as it goes, so an
// operator (and the recap) can tell what really happened.
type SessionRun struct {
	OpenedAt  time.Time `json:"openedAt,omitzero" dynamodbav:"openedAt,omitempty"`
	LateBy    int       `json:"lateByMinutes,omitempty" dynamodbav:"lateByMinutes,omitempty"` // minutes the opening was late
	ClosedAt  time.Time `json:"closedAt,omitzero" dynamodbav:"closedAt,omitempty"`
	HostSeen  bool      `json:"hostSeen,omitempty" dynamodbav:"hostSeen,omitempty"`  // the host wrote in the window
	NoShow    bool      `json:"noShow,omitempty" dynamodbav:"noShow,omitempty"`      // the moderators were alerted
	QueueSent time.Time `json:"queueSent,omitzero" dynamodbav:"queueSent,omitempty"` // last question queue sent to the host
	// CancelNotified is set once the group was told about a cancellation.
	CancelNotified bool `json:"cancelNotified,omitempty" dynamodbav:"cancelNotified,omitempty"`
}

// Question is a member's question captured during an open session (the
// callback writes it; the session function marks answers and hides).
type Question struct {
	SessionID  string    `json:"session" dynamodbav:"session"`
	GroupID    string    `json:"group" dynamodbav:"group"`
	MemberID   string    `json:"member" dynamodbav:"member"`
	MemberName string    `json:"memberName,omitempty" dynamodbav:"memberName,omitempty"`
	Text       string    `json:"text" dynamodbav:"text"`
	At         time.Time `json:"at" dynamodbav:"at"`
	MessageID  string    `json:"messageId" dynamodbav:"messageId"`
	Votes      int       `json:"votes" dynamodbav:"votes"`
	Voters     []string  `json:"voters,omitempty" dynamodbav:"voters,stringset,omitempty"`
	Answered   bool      `json:"answered,omitempty" dynamodbav:"answered,omitempty"`
	Answer     string    `json:"answer,omitempty" dynamodbav:"answer,omitempty"`
	AnsweredBy string    `json:"answeredBy,omitempty" dynamodbav:"answeredBy,omitempty"`
	AnsweredAt time.Time `json:"answeredAt,omitzero" dynamodbav:"answeredAt,omitempty"`
	Hidden     bool      `json:"hidden,omitempty" dynamodbav:"hidden,omitempty"`
	// MergedInto is the key of the earlier question this one repeats: its
	// asker and votes were added there, and it is shown nowhere itself.
	MergedInto string `json:"mergedInto,omitempty" dynamodbav:"mergedInto,omitempty"`
	// Key is the question's sort key (Q#<ms>#<message key>), filled in by readers.
	Key string `json:"key,omitempty" dynamodbav:"-"`
}

// Shown reports whether a question is in the host's queue, the page and the
// recap: neither hidden by a moderator nor merged into an earlier one.
func (q Question) Shown() bool { return !q.Hidden && q.MergedInto == "" }

// QuestionAsked is the detail of a QuestionAsked event (the callback
// publishes it when it captures a question). ID is the idempotency key.
type QuestionAsked struct {
	ID          string `json:"id"`
	SessionID   string `json:"session"`
	GroupID     string `json:"group"`
	QuestionKey string `json:"question"` // the question's SK
}

// Recap is what a session left behind for the members who missed it.
type Recap struct {
	SessionID  string          `json:"session" dynamodbav:"session"`
	GroupID    string          `json:"group" dynamodbav:"group"`
	HostID     string          `json:"host" dynamodbav:"host"`
	Topic      string          `json:"topic,omitempty" dynamodbav:"topic,omitempty"`
	Start      time.Time       `json:"start" dynamodbav:"start"`
	End        time.Time       `json:"end" dynamodbav:"end"`
	KeyPoints  []string        `json:"keyPoints,omitempty" dynamodbav:"keyPoints,omitempty"`
	Keywords   []string        `json:"keywords,omitempty" dynamodbav:"keywords,omitempty"`
	Top        []RecapQuestion `json:"top,omitempty" dynamodbav:"top,omitempty"`
	Unanswered []RecapQuestion `json:"unanswered,omitempty" dynamodbav:"unanswered,omitempty"`
	Attendees  []string        `json:"attendees,omitempty" dynamodbav:"attendees,omitempty"` // members who spoke or voted
	Absent     []string        `json:"absent,omitempty" dynamodbav:"absent,omitempty"`       // active non-staff members who did neither
	Text       string          `json:"text" dynamodbav:"text"`                               // the rendered group recap
	CreatedAt  time.Time       `json:"createdAt" dynamodbav:"createdAt"`
	// DigestMembers are absent members no 1:1 channel reached: the group's
	// next session announcement carries the recap for them (see session docs).
	DigestMembers []string `json:"digestMembers,omitempty" dynamodbav:"digestMembers,stringset,omitempty"`
}

// RecapQuestion is one question as the recap shows it.
type RecapQuestion struct {
	Text       string `json:"text" dynamodbav:"text"`
	MemberName string `json:"memberName,omitempty" dynamodbav:"memberName,omitempty"`
	Votes      int    `json:"votes" dynamodbav:"votes"`
	Answer     string `json:"answer,omitempty" dynamodbav:"answer,omitempty"`
}

// ErrNoChange is what an update closure returns to say "write nothing":
// the update then succeeds without a write (see dynamo.Table.UpdateSession).
var ErrNoChange = errors.New("no change")
