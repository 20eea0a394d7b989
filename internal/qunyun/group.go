package qunyun

import "time"

// Purpose says what a group is for, and so whether it should be active at all
// (seed 001): scoring weighs value and noise by it, push targets by it.
type Purpose string

const (
	PurposeShelf         Purpose = "shelf"          // good-things / shelf group: quiet by design
	PurposeResourcePopup Purpose = "resource-popup" // dissolves after minutes
	PurposeFan           Purpose = "fan"
	PurposeLearning      Purpose = "learning"
	PurposePunchCard     Purpose = "punch-card"
	PurposeIndustry      Purpose = "industry"
	PurposeVIP           Purpose = "vip"
	PurposeGeneral       Purpose = "general"
)

// Purposes lists every valid purpose, in a stable order.
var Purposes = []Purpose{PurposeShelf, PurposeResourcePopup, PurposeFan, PurposeLearning,
	PurposePunchCard, PurposeIndustry, PurposeVIP, PurposeGeneral}

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool {
	for _, q := range Purposes {
		if p == q {
			return true
		}
	}
	return false
}

// GroupState is where a group is in its life.
type GroupState string

const (
	GroupActive    GroupState = "active"
	GroupPaused    GroupState = "paused"    // the operator stopped pushes
	GroupDismissed GroupState = "dismissed" // WeChat says it is gone
)

// Lifecycle describes how a group is born and renewed (seed 001).
type Lifecycle struct {
	// Kind is "created" (lives until dismissed), "yearly" (core/VIP groups
	// re-formed once a year) or "popup" (expires after PopupMinutes).
	Kind         string `json:"kind,omitempty" yaml:"kind,omitempty" dynamodbav:"kind,omitempty"`
	RenewOn      string `json:"renewOn,omitempty" yaml:"renewOn,omitempty" dynamodbav:"renewOn,omitempty"` // MM-DD for yearly
	PopupMinutes int    `json:"popupMinutes,omitempty" yaml:"popupMinutes,omitempty" dynamodbav:"popupMinutes,omitempty"`
}

// Caps are the operator's limits on what reaches a group. DailyMax is the
// budget of SOP content; session messages have their own, SessionMax, so
// content can never use up what a session needs.
type Caps struct {
	DailyMax   int    `json:"dailyMax,omitempty" yaml:"dailyMax,omitempty" dynamodbav:"dailyMax,omitempty"`       // default 3
	SessionMax int    `json:"sessionMax,omitempty" yaml:"sessionMax,omitempty" dynamodbav:"sessionMax,omitempty"` // default 8
	QuietStart string `json:"quietStart,omitempty" yaml:"quietStart,omitempty" dynamodbav:"quietStart,omitempty"` // "22:00"
	QuietEnd   string `json:"quietEnd,omitempty" yaml:"quietEnd,omitempty" dynamodbav:"quietEnd,omitempty"`       // "08:00"
}

// Defaults for a group that says nothing.
const (
	DefaultTimeZone = "Asia/Shanghai"
	DefaultSizeCap  = 50
	DefaultDailyMax = 3
	// DefaultSessionMax: two sessions a day, each with an opening, a
	// closing notice and a recap, and room for a cancellation notice or two.
	DefaultSessionMax = 8
	DefaultQuietStart = "22:00"
	DefaultQuietEnd   = "08:00"
)

// Group is a WeChat group 群 the operators run.
type Group struct {
	ID        string     `json:"id" yaml:"id" dynamodbav:"id"`
	AccountID string     `json:"account,omitempty" yaml:"account,omitempty" dynamodbav:"account,omitempty"`
	Name      string     `json:"name,omitempty" yaml:"name,omitempty" dynamodbav:"name,omitempty"`
	Purpose   Purpose    `json:"purpose,omitempty" yaml:"purpose,omitempty" dynamodbav:"purpose,omitempty"`
	Tags      []string   `json:"tags,omitempty" yaml:"tags,omitempty" dynamodbav:"tags,omitempty"`
	Tier      string     `json:"tier,omitempty" yaml:"tier,omitempty" dynamodbav:"tier,omitempty"` // "vip" or "regular"
	OwnerID   string     `json:"owner,omitempty" yaml:"owner,omitempty" dynamodbav:"owner,omitempty"`
	TimeZone  string     `json:"timeZone,omitempty" yaml:"timeZone,omitempty" dynamodbav:"timeZone,omitempty"`
	SizeCap   int        `json:"sizeCap,omitempty" yaml:"sizeCap,omitempty" dynamodbav:"sizeCap,omitempty"`
	Lifecycle Lifecycle  `json:"lifecycle,omitempty" yaml:"lifecycle,omitempty" dynamodbav:"lifecycle,omitempty"`
	Caps      Caps       `json:"caps,omitempty" yaml:"caps,omitempty" dynamodbav:"caps,omitempty"`
	State     GroupState `json:"state,omitempty" yaml:"state,omitempty" dynamodbav:"state,omitempty"`
	// Noisy is set by scoring; OnNoisy (from community.yaml, by purpose)
	// says what it does to the group's SOP content, and to nothing else.
	Noisy       bool        `json:"noisy,omitempty" yaml:"-" dynamodbav:"noisy,omitempty"`
	OnNoisy     NoisyAction `json:"onNoisy,omitempty" yaml:"onNoisy,omitempty" dynamodbav:"onNoisy,omitempty"`
	MemberCount int         `json:"memberCount,omitempty" yaml:"-" dynamodbav:"memberCount,omitempty"`
	CreatedAt   time.Time   `json:"createdAt,omitzero" yaml:"createdAt,omitempty" dynamodbav:"createdAt,omitempty"`
	UpdatedAt   time.Time   `json:"updatedAt,omitzero" yaml:"-" dynamodbav:"updatedAt,omitempty"`
	// Webhook names the group robot that posts into this group (a group of
	// a wecom-bot account): the robot's URL and key are in the account's
	// sending half (Account.Webhooks), never in the table or the file.
	Webhook string `json:"webhook,omitempty" yaml:"webhook,omitempty" dynamodbav:"webhook,omitempty"`
	// SyncedAt is when WeChat last described the group (WeCom groupchat/get):
	// from then on its name, owner and members are WeChat's.
	SyncedAt time.Time `json:"syncedAt,omitzero" yaml:"-" dynamodbav:"syncedAt,omitempty"`
}

// NoisyAction is what scoring's noisy flag does to a group's SOP content.
// A flag advises: sessions, alerts, staff messages and welcomes are never
// held back by it.
type NoisyAction string

const (
	NoisyAdvise NoisyAction = "advise" // shown in get groups and the report; pushes go on
	NoisyHalve  NoisyAction = "halve"  // SOP content on every other local day
	NoisyPause  NoisyAction = "pause"  // no SOP content while the flag stands
)

// DefaultNoisyAction applies when community.yaml says nothing.
const DefaultNoisyAction = NoisyHalve

// NoisyActions lists the valid actions.
var NoisyActions = []NoisyAction{NoisyAdvise, NoisyHalve, NoisyPause}

// NoisyAction returns what the noisy flag does to g, the default when unset.
func (g Group) NoisyAction() NoisyAction {
	if g.OnNoisy == "" {
		return DefaultNoisyAction
	}
	return g.OnNoisy
}

// Location returns the group's time zone, Asia/Shanghai when unset or unknown.
func (g Group) Location() *time.Location {
	return LoadLocation(g.TimeZone)
}

// LoadLocation loads an IANA zone, falling back to Asia/Shanghai (and to a
// fixed +08:00 when the zone database is missing).
func LoadLocation(name string) *time.Location {
	if name == "" {
		name = DefaultTimeZone
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	if loc, err := time.LoadLocation(DefaultTimeZone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// EffectiveCaps returns the group's caps with defaults filled in.
func (g Group) EffectiveCaps() Caps {
	c := g.Caps
	if c.DailyMax == 0 {
		c.DailyMax = DefaultDailyMax
	}
	if c.SessionMax == 0 {
		c.SessionMax = DefaultSessionMax
	}
	if c.QuietStart == "" && c.QuietEnd == "" {
		c.QuietStart, c.QuietEnd = DefaultQuietStart, DefaultQuietEnd
	}
	return c
}
