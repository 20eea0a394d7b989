package qunyun

import "time"

// ContentKind is the shape of a Content item.
type ContentKind string

const (
	ContentText        ContentKind = "text"
	ContentLink        ContentKind = "link" // link / news card
	ContentImage       ContentKind = "image"
	ContentMiniProgram ContentKind = "miniprogram"
)

// Content is one piece of material 素材. Text and Title are Chinese
// templates with member and group variables.
type Content struct {
	ID       string      `json:"id" yaml:"id" dynamodbav:"id"`
	Kind     ContentKind `json:"kind" yaml:"kind" dynamodbav:"kind"`
	Title    string      `json:"title,omitempty" yaml:"title,omitempty" dynamodbav:"title,omitempty"`
	Text     string      `json:"text,omitempty" yaml:"text,omitempty" dynamodbav:"text,omitempty"`
	URL      string      `json:"url,omitempty" yaml:"url,omitempty" dynamodbav:"url,omitempty"`
	PicURL   string      `json:"picUrl,omitempty" yaml:"picUrl,omitempty" dynamodbav:"picUrl,omitempty"`
	MediaID  string      `json:"mediaId,omitempty" yaml:"mediaId,omitempty" dynamodbav:"mediaId,omitempty"`
	AppID    string      `json:"appId,omitempty" yaml:"appId,omitempty" dynamodbav:"appId,omitempty"`
	PagePath string      `json:"pagePath,omitempty" yaml:"pagePath,omitempty" dynamodbav:"pagePath,omitempty"`
	Tags     []string    `json:"tags,omitempty" yaml:"tags,omitempty" dynamodbav:"tags,omitempty"`
	// Benefit marks an offer or prize: opening it counts as a benefit in scoring.
	Benefit bool `json:"benefit,omitempty" yaml:"benefit,omitempty" dynamodbav:"benefit,omitempty"`
	// Contribution is set on content a member submitted from WeChat; the
	// operator's own content (community.yaml) has none.
	Contribution *Contribution `json:"contribution,omitempty" yaml:"-" dynamodbav:"contribution,omitempty"`
}

// ContentState is where a member's contribution stands in review.
type ContentState string

const (
	ContentDraft    ContentState = "draft"    // submitted, waiting for staff
	ContentApproved ContentState = "approved" // plans may pick it
	ContentRejected ContentState = "rejected"
)

// Contribution is who submitted a piece of content and how its review went.
// Text and URL are the member's: data, never a template (DESIGN.md §5).
type Contribution struct {
	State       ContentState `json:"state" dynamodbav:"state"`
	MemberID    string       `json:"member" dynamodbav:"member"`
	MemberName  string       `json:"memberName,omitempty" dynamodbav:"memberName,omitempty"`
	GroupID     string       `json:"group,omitempty" dynamodbav:"group,omitempty"` // where they are editor
	AccountID   string       `json:"account" dynamodbav:"account"`
	Channel     Channel      `json:"channel" dynamodbav:"channel"`
	MessageID   string       `json:"message" dynamodbav:"message"` // the submission
	SubmittedAt time.Time    `json:"submittedAt" dynamodbav:"submittedAt"`
	ReviewedBy  string       `json:"reviewedBy,omitempty" dynamodbav:"reviewedBy,omitempty"`
	ReviewedAt  time.Time    `json:"reviewedAt,omitzero" dynamodbav:"reviewedAt,omitempty"`
	Reason      string       `json:"reason,omitempty" dynamodbav:"reason,omitempty"` // why rejected
	// MemberID is their id in GroupID, who is credited; From the id they
	// submitted under in AccountID when it is not (an editor of relay
	// groups writing to the WeCom app or the Official Account): where
	// they are told.
	From string `json:"from,omitempty" dynamodbav:"from,omitempty"`
}

// Pickable reports whether plans may send c: operator content, or a
// contribution staff approved.
func (c Content) Pickable() bool {
	return c.Contribution == nil || c.Contribution.State == ContentApproved
}

// GroupSelector picks the groups a Plan targets; empty fields match all.
type GroupSelector struct {
	Groups     []string  `json:"groups,omitempty" yaml:"groups,omitempty" dynamodbav:"groups,omitempty"`
	Tags       []string  `json:"tags,omitempty" yaml:"tags,omitempty" dynamodbav:"tags,omitempty"` // any of
	Purposes   []Purpose `json:"purposes,omitempty" yaml:"purposes,omitempty" dynamodbav:"purposes,omitempty"`
	MinSize    int       `json:"minSize,omitempty" yaml:"minSize,omitempty" dynamodbav:"minSize,omitempty"`
	MaxSize    int       `json:"maxSize,omitempty" yaml:"maxSize,omitempty" dynamodbav:"maxSize,omitempty"`
	MinAgeDays int       `json:"minAgeDays,omitempty" yaml:"minAgeDays,omitempty" dynamodbav:"minAgeDays,omitempty"`
	MaxAgeDays int       `json:"maxAgeDays,omitempty" yaml:"maxAgeDays,omitempty" dynamodbav:"maxAgeDays,omitempty"`
}

// JourneyStep sends content to a member a number of days after they joined.
type JourneyStep struct {
	Day     int    `json:"day" yaml:"day" dynamodbav:"day"`
	At      string `json:"at,omitempty" yaml:"at,omitempty" dynamodbav:"at,omitempty"` // "10:00" local; default join time
	Content string `json:"content" yaml:"content" dynamodbav:"content"`
}

// Plan is an SOP: which content goes to which groups (or members) when.
type Plan struct {
	ID       string   `json:"id" yaml:"id" dynamodbav:"id"`
	Name     string   `json:"name,omitempty" yaml:"name,omitempty" dynamodbav:"name,omitempty"`
	Contents []string `json:"contents,omitempty" yaml:"contents,omitempty" dynamodbav:"contents,omitempty"` // rotated per slot
	// ContentTags adds every pickable content with any of these tags
	// ("*": all), members' approved contributions included.
	ContentTags []string      `json:"contentTags,omitempty" yaml:"contentTags,omitempty" dynamodbav:"contentTags,omitempty"`
	Select      GroupSelector `json:"select,omitempty" yaml:"select,omitempty" dynamodbav:"select,omitempty"`
	// Cron is an AWS-style cron (six fields) in each group's time zone.
	Cron    string        `json:"cron,omitempty" yaml:"cron,omitempty" dynamodbav:"cron,omitempty"`
	Journey []JourneyStep `json:"journey,omitempty" yaml:"journey,omitempty" dynamodbav:"journey,omitempty"`
	Start   time.Time     `json:"start,omitzero" yaml:"start,omitempty" dynamodbav:"start,omitempty"`
	End     time.Time     `json:"end,omitzero" yaml:"end,omitempty" dynamodbav:"end,omitempty"`
	Paused  bool          `json:"paused,omitempty" yaml:"paused,omitempty" dynamodbav:"paused,omitempty"`
}

// Active reports whether the plan runs at t: not paused, and inside its
// start (inclusive) and end (exclusive).
func (p Plan) Active(t time.Time) bool {
	return !p.Paused && (p.Start.IsZero() || !t.Before(p.Start)) && (p.End.IsZero() || t.Before(p.End))
}
