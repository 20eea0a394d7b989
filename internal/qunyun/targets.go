package qunyun

// DefaultSessionMinutes is how long a planned host session lasts when a
// target does not say (seed 000: sessions are time-boxed to 30–60 minutes).
const DefaultSessionMinutes = 45

// SessionTarget asks for host sessions every week, either in one group or in
// every group of a tier (VIP groups get more high-touch sessions). Exactly
// one of GroupID and Tier is set; a group's own target wins over its tier's.
type SessionTarget struct {
	GroupID string `json:"group,omitempty" yaml:"group,omitempty" dynamodbav:"group,omitempty"`
	Tier    string `json:"tier,omitempty" yaml:"tier,omitempty" dynamodbav:"tier,omitempty"`
	PerWeek int    `json:"perWeek" yaml:"perWeek" dynamodbav:"perWeek"`
	Minutes int    `json:"minutes,omitempty" yaml:"minutes,omitempty" dynamodbav:"minutes,omitempty"` // default DefaultSessionMinutes
}

// Key names the target among the others: "group:<gid>" or "tier:<tier>".
func (t SessionTarget) Key() string {
	if t.GroupID != "" {
		return "group:" + t.GroupID
	}
	return "tier:" + t.Tier
}

// SessionMinutes returns the session length with the default filled in.
func (t SessionTarget) SessionMinutes() int {
	if t.Minutes > 0 {
		return t.Minutes
	}
	return DefaultSessionMinutes
}
