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
	CreatedAt  time.Time `json:"createdAt,omitzero" dynamodbav:"createdAt,omitempty"`
}

// LinkOpen is one open of a tracked link, as the callback records it in the
// group-day log. MemberID is the link's recipient (set for a 1:1 delivery,
// whose links are the member's own); From is WeChat's share signal
// ("singlemessage", "groupmessage", "timeline"), set when the link was
// opened from where someone shared it, so a 1:1 link opened with From set
// was shared onward by MemberID.
type LinkOpen struct {
	GroupID    string    `json:"group,omitempty" dynamodbav:"group,omitempty"`
	ContentID  string    `json:"content,omitempty" dynamodbav:"content,omitempty"`
	DeliveryID string    `json:"delivery,omitempty" dynamodbav:"delivery,omitempty"`
	MemberID   string    `json:"member,omitempty" dynamodbav:"member,omitempty"`
	From       string    `json:"from,omitempty" dynamodbav:"from,omitempty"`
	At         time.Time `json:"at,omitzero" dynamodbav:"at,omitempty"`
}

// Heat is how much a content item or a group was read: opens, distinct
// openers and shares (opens with From set).
type Heat struct {
	Opens   int `json:"opens"`
	Readers int `json:"readers"`
	Shares  int `json:"shares"`
}

// ContentHeat is how one content item was read over a span 阅读热度: the
// deliveries that carried it, its opens, and the same per group (a 1:1
// delivery outside any group counts under group ""). SharedBy is the share
// map: the members whose own 1:1 link was opened from a share, with how
// many opens each share brought.
type ContentHeat struct {
	ContentID  string      `json:"content" dynamodbav:"content"`
	Title      string      `json:"title,omitempty" dynamodbav:"title,omitempty"`
	Deliveries int         `json:"deliveries" dynamodbav:"deliveries"`
	Heat       Heat        `json:"heat" dynamodbav:"heat"`
	Groups     []GroupHeat `json:"groups" dynamodbav:"groups"`
	SharedBy   []Sharer    `json:"sharedBy" dynamodbav:"sharedBy"`
}

// GroupHeat is one group's part of a ContentHeat.
type GroupHeat struct {
	GroupID    string `json:"group" dynamodbav:"group"`
	Name       string `json:"name,omitempty" dynamodbav:"name,omitempty"`
	Deliveries int    `json:"deliveries" dynamodbav:"deliveries"`
	Heat       Heat   `json:"heat" dynamodbav:"heat"`
}

// Sharer is one edge of the share map: a member and the opens their
// shares of one content item brought.
type Sharer struct {
	MemberID string `json:"member" dynamodbav:"member"`
	Opens    int    `json:"opens" dynamodbav:"opens"`
}
