package qunyun

import "time"

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
	UpdatedAt  time.Time     `json:"updatedAt,omitempty" dynamodbav:"updatedAt,omitempty"`
}
