package qunyun

import "time"

// Role is what a member does in a group.
type Role string

const (
	RoleOwner     Role = "owner"
	RoleHost      Role = "host"
	RoleModerator Role = "moderator"
	RoleEditor    Role = "editor"
	RoleMember    Role = "member"
)

// Staff reports whether the role speaks for the operators (owners, hosts,
// moderators, editors): staff are exempt from moderation and count as
// responders, not askers.
func (r Role) Staff() bool {
	return r == RoleOwner || r == RoleHost || r == RoleModerator || r == RoleEditor
}

// Member is one person in one group 群成员. The same person in two groups is
// two Members with the same ID.
type Member struct {
	GroupID   string    `json:"group" dynamodbav:"group"`
	ID        string    `json:"id" dynamodbav:"id"` // userid / external userid / openid / bridge id
	Name      string    `json:"name,omitempty" dynamodbav:"name,omitempty"`
	Role      Role      `json:"role,omitempty" dynamodbav:"role,omitempty"`
	Tier      string    `json:"tier,omitempty" dynamodbav:"tier,omitempty"`
	Tags      []string  `json:"tags,omitempty" dynamodbav:"tags,omitempty"`
	JoinedAt  time.Time `json:"joinedAt,omitempty" dynamodbav:"joinedAt,omitempty"`
	JoinScene int       `json:"joinScene,omitempty" dynamodbav:"joinScene,omitempty"`
	LeftAt    time.Time `json:"leftAt,omitempty" dynamodbav:"leftAt,omitempty"`
	QuitScene int       `json:"quitScene,omitempty" dynamodbav:"quitScene,omitempty"`
	// AutoTags are the tags scoring found (what the member says and opens,
	// and the keyword rules they match); scoring also sets Tier.
	AutoTags []string `json:"autoTags,omitempty" dynamodbav:"autoTags,omitempty"`
}

// Active reports whether the member is still in the group.
func (m Member) Active() bool { return m.LeftAt.IsZero() || m.LeftAt.Before(m.JoinedAt) }
