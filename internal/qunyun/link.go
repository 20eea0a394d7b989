package qunyun

import "time"

// Link is a tracked link: push rewrites every link in pushed content to
// ${PUBLIC_BASE_URL}/r/<Code>; the callback serves the redirect and records
// a LinkOpen, which feeds reading heat and the share map.
type Link struct {
	Code       string    `json:"code" dynamodbav:"code"`
	URL        string    `json:"url" dynamodbav:"url"`
	GroupID    string    `json:"group,omitempty" dynamodbav:"group,omitempty"`
	ContentID  string    `json:"content,omitempty" dynamodbav:"content,omitempty"`
	DeliveryID string    `json:"delivery,omitempty" dynamodbav:"delivery,omitempty"`
	Source     string    `json:"source,omitempty" dynamodbav:"source,omitempty"`
	MemberID   string    `json:"member,omitempty" dynamodbav:"member,omitempty"` // the recipient of a 1:1 delivery
	AccountID  string    `json:"account,omitempty" dynamodbav:"account,omitempty"`
	CreatedAt  time.Time `json:"createdAt,omitempty" dynamodbav:"createdAt,omitempty"`
}

// LinkOpen is one open of a tracked link, as the callback records it in the
// group-day log. From is set when the opener is not the recipient (a share).
type LinkOpen struct {
	GroupID    string    `json:"group,omitempty" dynamodbav:"group,omitempty"`
	ContentID  string    `json:"content,omitempty" dynamodbav:"content,omitempty"`
	DeliveryID string    `json:"delivery,omitempty" dynamodbav:"delivery,omitempty"`
	MemberID   string    `json:"member,omitempty" dynamodbav:"member,omitempty"`
	From       string    `json:"from,omitempty" dynamodbav:"from,omitempty"`
	At         time.Time `json:"at,omitempty" dynamodbav:"at,omitempty"`
}

// Heat is how much a content item or a group was read: opens, distinct
// openers and shares (opens with From set).
type Heat struct {
	Opens   int `json:"opens"`
	Readers int `json:"readers"`
	Shares  int `json:"shares"`
}
