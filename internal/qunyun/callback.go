package qunyun

import "time"

// GroupEvent is a membership or group change the callback learned of
// (MemberJoined, MemberLeft, GroupCreated, GroupRenamed, GroupDismissed, …).
// It is written once into the group-day log at EVT#<ms>#<ID>; ID is its
// idempotency key (DESIGN.md §5). The item's "type" attribute is Type.
type GroupEvent struct {
	ID         string    `json:"id" dynamodbav:"id"`
	Type       string    `json:"type" dynamodbav:"-"` // Event* detail-type; stored as the item's type
	AccountID  string    `json:"account" dynamodbav:"account"`
	Channel    Channel   `json:"channel" dynamodbav:"channel"`
	GroupID    string    `json:"group" dynamodbav:"group"`
	MemberID   string    `json:"member,omitempty" dynamodbav:"member,omitempty"` // who joined or left
	MemberName string    `json:"name,omitempty" dynamodbav:"name,omitempty"`
	ActorID    string    `json:"actor,omitempty" dynamodbav:"actor,omitempty"` // inviter, remover, renamer, new owner
	Scene      int       `json:"scene,omitempty" dynamodbav:"scene,omitempty"` // JoinScene / QuitScene
	GroupName  string    `json:"groupName,omitempty" dynamodbav:"groupName,omitempty"`
	At         time.Time `json:"at" dynamodbav:"at"`
}

// AccountEvent is an OA 1:1 event (Subscribed, Unsubscribed, MenuClicked, …),
// written once into the account-day log at EVT#<ms>#<ID>.
type AccountEvent struct {
	ID        string    `json:"id" dynamodbav:"id"`
	Type      string    `json:"type" dynamodbav:"-"`
	AccountID string    `json:"account" dynamodbav:"account"`
	Channel   Channel   `json:"channel" dynamodbav:"channel"`
	MemberID  string    `json:"member" dynamodbav:"member"`               // the user's openid / userid
	Key       string    `json:"key,omitempty" dynamodbav:"key,omitempty"` // menu key, QR scene, URL
	At        time.Time `json:"at" dynamodbav:"at"`
}

// Account event types the callback records besides the Event* bus names.
const (
	EventQRScanned     = "QRScanned"
	EventMenuViewed    = "MenuViewed"
	EventSendFinished  = "SendFinished" // TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH
	EventContactChange = "ContactChanged"
	EventOther         = "OtherEvent"
)

// CheckinStreak is a member's check-in 打卡 record in one group: Last is the
// last local date (YYYY-MM-DD, group time zone) they checked in.
type CheckinStreak struct {
	Last   string `json:"last" dynamodbav:"last"`
	Streak int    `json:"streak" dynamodbav:"streak"`
	Total  int    `json:"total" dynamodbav:"total"`
}
