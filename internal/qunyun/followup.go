package qunyun

import (
	"fmt"
	"time"
)

// Followup is what a callback record says about the work after it
// (docs/protocols.md, "What runs after the record"): the steps still to do
// and the passive reply the callback answered.
type Followup struct {
	// Steps names the work still to do after the record; none means done.
	Steps []string `dynamodbav:"followup,omitempty"`
	// Reply is the passive reply of the callback, kept so that a retry
	// answers exactly as the first delivery did (or should have).
	Reply string `dynamodbav:"reply,omitempty"`
}

// Pending reports whether work after the record is still to do.
func (f Followup) Pending() bool { return len(f.Steps) > 0 }

// Recorded is the outcome of writing a callback record once.
type Recorded struct {
	Created  bool // this call wrote the record; false: it existed (a retry)
	Followup      // what the record says now
}

// Record is a callback record whose work can be pending: a group message
// or a group event (the only records that list work). One of the two is set.
type Record struct {
	Message *Message
	Event   *GroupEvent
}

// StuckRecord is a record whose work is still to do, as read back for the
// resume sweep.
type StuckRecord struct {
	Record
	Followup
}

// FollowupNote says that the work after a record failed on Date; the
// resume sweep claims it, finishes the record and clears it.
type FollowupNote struct {
	Date    string    // the UTC date it is noted under
	Record  string    // which record, as the store names it (for logs)
	NotedAt time.Time // when the work last failed, or the note was claimed
	Version int64     // as read or claimed; the store's to compare
}

// RelayClaim is what the first delivery of a relay id said: the group, the
// relay type and the time. A later body with the same id is that event.
type RelayClaim struct {
	GroupID string    `dynamodbav:"group"`
	Event   string    `dynamodbav:"event"` // the relay type: message, member_joined, …
	At      time.Time `dynamodbav:"at"`
}

// QuestionKey names a question within its session (Question.Key): its
// time and message, so the session's questions sort by when they were asked.
func QuestionKey(q Question) string {
	return fmt.Sprintf("Q#%013d#%s", q.At.UnixMilli(), q.MessageID)
}
