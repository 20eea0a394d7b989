package qunyun

// Window is a weekly availability window in the host's time zone.
type Window struct {
	Day   string `json:"day" yaml:"day" dynamodbav:"day"`       // MON..SUN
	Start string `json:"start" yaml:"start" dynamodbav:"start"` // "19:00"
	End   string `json:"end" yaml:"end" dynamodbav:"end"`       // "21:00"
}

// Exception removes (or, with Available, adds) a date range for a host.
type Exception struct {
	From      string `json:"from" yaml:"from" dynamodbav:"from"` // YYYY-MM-DD, inclusive
	To        string `json:"to" yaml:"to" dynamodbav:"to"`       // YYYY-MM-DD, inclusive
	Available bool   `json:"available,omitempty" yaml:"available,omitempty" dynamodbav:"available,omitempty"`
	Reason    string `json:"reason,omitempty" yaml:"reason,omitempty" dynamodbav:"reason,omitempty"`
}

// Host is a guest or speaker 嘉宾/主理人 who runs sessions in groups.
type Host struct {
	ID           string      `json:"id" yaml:"id" dynamodbav:"id"`
	Name         string      `json:"name" yaml:"name" dynamodbav:"name"`
	Profile      string      `json:"profile,omitempty" yaml:"profile,omitempty" dynamodbav:"profile,omitempty"`
	Topics       []string    `json:"topics,omitempty" yaml:"topics,omitempty" dynamodbav:"topics,omitempty"`
	TimeZone     string      `json:"timeZone,omitempty" yaml:"timeZone,omitempty" dynamodbav:"timeZone,omitempty"`
	Availability []Window    `json:"availability,omitempty" yaml:"availability,omitempty" dynamodbav:"availability,omitempty"`
	Exceptions   []Exception `json:"exceptions,omitempty" yaml:"exceptions,omitempty" dynamodbav:"exceptions,omitempty"`
	MaxPerWeek   int         `json:"maxPerWeek,omitempty" yaml:"maxPerWeek,omitempty" dynamodbav:"maxPerWeek,omitempty"`
	MinRestHours float64     `json:"minRestHours,omitempty" yaml:"minRestHours,omitempty" dynamodbav:"minRestHours,omitempty"`
	// Tiers and Groups limit where the host may serve; empty means anywhere.
	Tiers  []string `json:"tiers,omitempty" yaml:"tiers,omitempty" dynamodbav:"tiers,omitempty"`
	Groups []string `json:"groups,omitempty" yaml:"groups,omitempty" dynamodbav:"groups,omitempty"`
	// WeComUserID is where reminders go (a WeCom app message to staff).
	WeComUserID string `json:"wecomUserId,omitempty" yaml:"wecomUserId,omitempty" dynamodbav:"wecomUserId,omitempty"`
	// MemberID is the host's id as it appears in group messages.
	MemberID string `json:"memberId,omitempty" yaml:"memberId,omitempty" dynamodbav:"memberId,omitempty"`
}
