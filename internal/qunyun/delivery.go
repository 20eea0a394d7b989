package qunyun

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// DeliveryState is where one outbound message to one target stands. Posting
// to a group is at most once: claimed → (sent | task_created → sent/not_sent/expired);
// a crash between send and confirm leaves it unknown, never re-sent blindly.
type DeliveryState string

const (
	DeliveryClaimed     DeliveryState = "claimed"
	DeliveryTaskCreated DeliveryState = "task_created" // WeCom: the owner must confirm
	DeliverySent        DeliveryState = "sent"
	DeliveryNotSent     DeliveryState = "not_sent"
	DeliveryExpired     DeliveryState = "expired"
	DeliverySkipped     DeliveryState = "skipped" // a policy said no; Reason says which
	DeliveryFailed      DeliveryState = "failed"
	DeliveryUnknown     DeliveryState = "unknown"
)

// TargetKind is who a Delivery goes to.
type TargetKind string

const (
	TargetGroup  TargetKind = "group"
	TargetMember TargetKind = "member" // 1:1 (OA customer service, template message)
	TargetStaff  TargetKind = "staff"  // WeCom app message to a host, owner or moderator
)

// Delivery is one message to one target 投递, with its state.
type Delivery struct {
	ID         string        `json:"id" dynamodbav:"id"`         // deterministic: source + slot + target
	Source     string        `json:"source" dynamodbav:"source"` // plan id, "session", "moderation", "contest", ...
	Slot       string        `json:"slot,omitempty" dynamodbav:"slot,omitempty"`
	TargetKind TargetKind    `json:"targetKind" dynamodbav:"targetKind"`
	TargetID   string        `json:"target" dynamodbav:"target"`
	GroupID    string        `json:"group,omitempty" dynamodbav:"group,omitempty"`
	AccountID  string        `json:"account,omitempty" dynamodbav:"account,omitempty"`
	ContentID  string        `json:"content,omitempty" dynamodbav:"content,omitempty"`
	State      DeliveryState `json:"state" dynamodbav:"state"`
	Reason     string        `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	At         time.Time     `json:"at" dynamodbav:"at"` // when it was due
	UpdatedAt  time.Time     `json:"updatedAt,omitzero" dynamodbav:"updatedAt,omitempty"`
	// Urgent deliveries ignore quiet hours (moderation alerts).
	Urgent bool `json:"urgent,omitempty" dynamodbav:"urgent,omitempty"`
	// Class is what the delivery is for (set when push first sees it): it
	// picks the budget, the default deadline and what health flags may do.
	Class DeliveryClass `json:"class,omitempty" dynamodbav:"class,omitempty"`
	// Deadline is when the message stops being worth sending: past it the
	// delivery is skipped (reason expired) and an unconfirmed WeCom task
	// is withdrawn.
	Deadline time.Time `json:"deadline,omitzero" dynamodbav:"deadline,omitempty"`
	// DeferredUntil holds a claimed delivery back (quiet hours) until the
	// next allowed time; the sweep runs it again from then.
	DeferredUntil time.Time `json:"deferredUntil,omitzero" dynamodbav:"deferredUntil,omitempty"`
	// SendStartedAt is set just before the API call: a claimed delivery
	// with it set and never confirmed may have gone out, so it becomes
	// unknown rather than being sent again.
	SendStartedAt time.Time `json:"sendStartedAt,omitzero" dynamodbav:"sendStartedAt,omitempty"`
	// TaskID is the WeCom msgid of a customer-group task (task_created);
	// Sender the member it was made for, who alone can confirm it.
	TaskID string `json:"taskId,omitempty" dynamodbav:"taskId,omitempty"`
	Sender string `json:"sender,omitempty" dynamodbav:"sender,omitempty"`
	// Reminders counts remind_groupmsg_send calls; LastRemindedAt the latest.
	Reminders      int       `json:"reminders,omitempty" dynamodbav:"reminders,omitempty"`
	LastRemindedAt time.Time `json:"lastRemindedAt,omitzero" dynamodbav:"lastRemindedAt,omitempty"`
	// Caps lists the counters this delivery reserved, so a failure can
	// give them back ("day:2026-11-22", "month:2026-11", "member:...").
	Caps []string `json:"caps,omitempty" dynamodbav:"caps,omitempty"`
	// AnnouncePending is set with the final state and cleared once its
	// DeliveryFinished (and, for unknown, the moderators' alert) is on the
	// bus: a publish lost to a failure or a crash is re-published later.
	AnnouncePending bool `json:"announcePending,omitempty" dynamodbav:"announcePending,omitempty"`
	// WithdrawFailedAt is when withdrawing an unconfirmed task first failed
	// (cancel refused or unanswered): it bounds the retries. WithdrawnAt is
	// when WeCom accepted the cancel, while the task's outcome is unread.
	WithdrawFailedAt time.Time `json:"withdrawFailedAt,omitzero" dynamodbav:"withdrawFailedAt,omitempty"`
	WithdrawnAt      time.Time `json:"withdrawnAt,omitzero" dynamodbav:"withdrawnAt,omitempty"`
	// Mentions and ReplyTo make a group post a reply (a keyword or check-in
	// answer, a welcome through a bridge): the members it @s and the id of
	// the message it answers.
	Mentions []string `json:"mentions,omitempty" dynamodbav:"mentions,omitempty"`
	ReplyTo  string   `json:"replyTo,omitempty" dynamodbav:"replyTo,omitempty"`
	// Resends counts posts to a channel that deduplicates by delivery id
	// (the relay bridge) that got no answer; each is posted again, under
	// the same id, after a longer wait, until the deadline.
	Resends int `json:"resends,omitempty" dynamodbav:"resends,omitempty"`
}

// Skip and failure reasons a Delivery records (Delivery.Reason), so an
// operator can see why a message did not go out.
const (
	ReasonQuietHours  = "quiet_hours"  // the group's quiet hours
	ReasonDailyCap    = "daily_cap"    // the operator's per-group daily cap
	ReasonMonthlyCap  = "monthly_cap"  // WeCom: days-in-month tasks per customer group
	ReasonFatigue     = "fatigue"      // per-member 1:1 daily limit
	ReasonCSWindow    = "cs_window"    // OA customer service: no user message in 48 h (45015)
	ReasonCSQuota     = "cs_quota"     // OA customer service: 5 messages used in this window (45047)
	ReasonDismissed   = "dismissed"    // the group is gone
	ReasonPaused      = "paused"       // the group or plan is paused
	ReasonNoisy       = "noisy"        // scoring flagged the group
	ReasonNoChannel   = "no_channel"   // the account cannot reach this target
	ReasonNoContent   = "no_content"   // the content item is missing
	ReasonTemplate    = "template"     // the content template did not render
	ReasonRateLimit   = "rate_limited" // still throttled when the retry window ended
	ReasonUnavailable = "unavailable"  // WeChat unreachable (before the send) until the retry window ended
	ReasonRejected    = "rejected"     // the API refused for good (see the log for its errcode)
	ReasonCrashed     = "crashed"      // unknown: the send started and was never confirmed
	ReasonExpired     = "expired"      // its deadline passed before it could go out (or be confirmed)
	ReasonSessionCap  = "session_cap"  // the group's daily budget of session messages
	ReasonSingleHit   = "single_hit"   // a moderation window with one hit: its alert said it all, no summary
	ReasonReplyCap    = "reply_cap"    // the group's daily budget of replies through a bridge
	// owner_changed: a customer group's task withdrawn because the group
	// has a new owner; made again for them (while claimed).
	ReasonOwnerChanged = "owner_changed"
	// unknown: an unconfirmed WeCom task could not be withdrawn (cancel
	// refused or unanswered, or its outcome unreadable) in time; the owner
	// may still post it.
	ReasonWithdrawFailed = "withdraw_failed"
)

// DeliveryClass is what a delivery is for (docs/deliveries.md). Classes do
// not compete: each draws from its own budget, so SOP content can never
// use up what a session needs, while the platform's limits (WeCom's
// monthly cap per customer group, the OA 48-hour window) bind them all.
type DeliveryClass string

const (
	ClassAlert   DeliveryClass = "alert"   // moderation alerts and push's own alerts: never capped, ignore quiet hours
	ClassStaff   DeliveryClass = "staff"   // messages to hosts, owners, moderators: never capped
	ClassSession DeliveryClass = "session" // a host session's announcements and recap: own budget, no health flag holds them
	ClassWelcome DeliveryClass = "welcome" // welcomes and journey steps to one member
	ClassReply   DeliveryClass = "reply"   // a keyword or check-in answer posted through a bridge: its own budget, at once
	ClassContent DeliveryClass = "content" // SOP plan slots and other campaign messages: the daily cap, health flags
)

// Sources of delivery requests that push classifies by name.
const (
	SourceSession = "session"
	SourceContest = "contest"
	// SourceReply: the callback's answer to a member's group message that
	// no passive reply can carry (a relay group's keyword or check-in).
	SourceReply = "reply"
)

// TagInternal marks a WeCom group as an internal group the app created:
// push reaches it through appchat/send rather than a customer-group task.
const TagInternal = "internal"

// Default limits of the push policies.
const (
	DefaultMemberDailyMax = 2  // 1:1 messages per member per day (fatigue)
	CSWindowHours         = 48 // OA customer-service window after a user message
	CSWindowMax           = 5  // messages per window
	MaxTaskReminders      = 3  // WeCom remind_groupmsg_send per task in 24 h
	// DefaultReplyMax: replies a group gets through a bridge a local day,
	// enough for every member of a full punch-card group to check in.
	DefaultReplyMax = 200
)

// Final reports whether no further transition can happen from s.
func (s DeliveryState) Final() bool {
	switch s {
	case DeliverySent, DeliveryNotSent, DeliveryExpired, DeliverySkipped, DeliveryFailed, DeliveryUnknown:
		return true
	}
	return false
}

// DeliveryFinished is the detail of a DeliveryFinished event, published once
// a delivery reaches a final state. ID is the delivery id.
type DeliveryFinished struct {
	ID         string        `json:"id"`
	Source     string        `json:"source"`
	Slot       string        `json:"slot,omitempty"`
	TargetKind TargetKind    `json:"targetKind"`
	TargetID   string        `json:"target"`
	GroupID    string        `json:"group,omitempty"`
	ContentID  string        `json:"content,omitempty"`
	State      DeliveryState `json:"state"`
	Reason     string        `json:"reason,omitempty"`
}

// Cap counters: a delivery reserves a place in each counter that limits
// it (Delivery.Caps lists them by name); the store keeps one item per
// counter, named by the counter.

// CapCounter names one counter item.
type CapCounter struct{ PK, SK string }

// String encodes the counter for Delivery.Caps.
func (c CapCounter) String() string { return c.PK + "|" + c.SK }

// ParseCapCounter reverses String.
func ParseCapCounter(s string) (CapCounter, bool) {
	pk, sk, ok := strings.Cut(s, "|")
	return CapCounter{pk, sk}, ok && pk != "" && sk != ""
}

// GroupDayCap counts pushes to a group on its local date.
func GroupDayCap(groupID, localDate string) CapCounter {
	return CapCounter{"GROUP#" + groupID, "CAP#" + localDate}
}

// GroupSessionDayCap counts session messages to a group on its local date:
// their own budget, apart from the SOP content of GroupDayCap.
func GroupSessionDayCap(groupID, localDate string) CapCounter {
	return CapCounter{"GROUP#" + groupID, "CAP#" + localDate + "#session"}
}

// GroupReplyDayCap counts replies posted to a group through a bridge on
// its local date: a budget of their own, which also ends a loop of a bot
// answering its own posts.
func GroupReplyDayCap(groupID, localDate string) CapCounter {
	return CapCounter{"GROUP#" + groupID, "CAP#" + localDate + "#reply"}
}

// GroupMonthCap counts customer-group tasks in the group's local month.
func GroupMonthCap(groupID, localMonth string) CapCounter {
	return CapCounter{"GROUP#" + groupID, "CAP#" + localMonth}
}

// MemberDayCap counts 1:1 messages to a person on a date (fatigue).
func MemberDayCap(memberID, date string) CapCounter {
	return CapCounter{"PERSON#" + memberID, "CAP#" + date}
}

// CSWindowCap counts customer-service messages in the 48 h window opened by
// the person's last message (keyed by its time, so a new message opens a new
// counter).
func CSWindowCap(memberID string, lastMessage time.Time) CapCounter {
	return CapCounter{"PERSON#" + memberID, fmt.Sprintf("CSWIN#%013d", lastMessage.UnixMilli())}
}

// DeliveryRecord is a delivery as stored: with its version (every
// transition is conditional on it), the content a request carried inline
// and the template variables it carried (e.g. a member name).
type DeliveryRecord struct {
	Delivery
	Version int64             `dynamodbav:"version"`
	Inline  *Content          `dynamodbav:"inline,omitempty"`
	Data    map[string]string `dynamodbav:"data,omitempty"`
}

// DeliveryDate is the UTC date that keys a delivery: the date of its slot.
func DeliveryDate(d Delivery) string { return d.At.UTC().Format(time.DateOnly) }

// TaskPollMinute is the minute of every ten (0–9) at which an open WeCom
// task is polled, from its delivery id: the polls of one plan slot's tasks
// spread over ten minutes, and the store files each open task under its
// minute, so a tick reads only the tasks due for polling.
func TaskPollMinute(deliveryID string) int {
	h := fnv.New32a()
	h.Write([]byte(deliveryID))
	return int(h.Sum32() % 10)
}
