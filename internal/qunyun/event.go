package qunyun

import "time"

// Event detail-types on the bus (DESIGN.md §5): source "qunyun", detail-type
// in PascalCase, detail carrying an id usable as an idempotency key.
const (
	EventSource = "qunyun"

	EventMessageReceived   = "MessageReceived"
	EventMemberJoined      = "MemberJoined"
	EventMemberLeft        = "MemberLeft"
	EventGroupCreated      = "GroupCreated"
	EventGroupDismissed    = "GroupDismissed"
	EventGroupRenamed      = "GroupRenamed"
	EventSubscribed        = "Subscribed"
	EventUnsubscribed      = "Unsubscribed"
	EventMenuClicked       = "MenuClicked"
	EventQuestionAsked     = "QuestionAsked"
	EventModerationHit     = "ModerationHit"
	EventSessionOpened     = "SessionOpened"
	EventSessionClosed     = "SessionClosed"
	EventDeliveryRequested = "DeliveryRequested"
	EventDeliveryFinished  = "DeliveryFinished"
	EventScoresComputed    = "ScoresComputed"
	EventLinkOpened        = "LinkOpened"
	// EventGroupSyncRequested asks push to read a WeCom customer group from
	// WeChat (groupchat/get): the callback learns of it, or of a change the
	// event does not describe, and cannot call WeChat itself.
	EventGroupSyncRequested = "GroupSyncRequested"
)

// DeliveryRequest is the detail of a DeliveryRequested event: anything that
// wants a message sent asks PushFunction through it.
type DeliveryRequest struct {
	ID         string     `json:"id"` // idempotency key; becomes the Delivery id
	Source     string     `json:"source"`
	TargetKind TargetKind `json:"targetKind"`
	TargetID   string     `json:"target"`
	GroupID    string     `json:"group,omitempty"`
	AccountID  string     `json:"account,omitempty"`
	ContentID  string     `json:"content,omitempty"` // stored content, or inline:
	Content    *Content   `json:"inline,omitempty"`
	// Urgent deliveries (moderation alerts to staff) ignore quiet hours.
	Urgent bool `json:"urgent,omitempty"`
	// Deadline is when the message stops being worth sending (a session
	// notice: the session's end); zero lets push derive it from the class.
	Deadline time.Time `json:"deadline,omitzero"`
	// Mentions and ReplyTo make a group message a reply: the members it
	// @s and the id of the message it answers (a bridge quotes it).
	Mentions []string `json:"mentions,omitempty"`
	ReplyTo  string   `json:"replyTo,omitempty"`
}

// GroupSyncRequest is the detail of a GroupSyncRequested event. ID is the
// callback record's; Why says what the callback saw (Sync*).
type GroupSyncRequest struct {
	ID        string `json:"id"`
	AccountID string `json:"account"`
	GroupID   string `json:"group"`
	Why       string `json:"why"`
}

// Why a group is read from WeChat.
const (
	SyncCreated = "created" // a new group
	SyncOwner   = "owner"   // its owner changed: the event does not say to whom
	SyncRenamed = "renamed" // renamed: the event does not say to what
	SyncJoined  = "joined"  // a member joined a group whose name or owner is unknown
)
