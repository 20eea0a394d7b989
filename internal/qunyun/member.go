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
	JoinedAt  time.Time `json:"joinedAt,omitzero" dynamodbav:"joinedAt,omitempty"`
	JoinScene int       `json:"joinScene,omitempty" dynamodbav:"joinScene,omitempty"`
	LeftAt    time.Time `json:"leftAt,omitzero" dynamodbav:"leftAt,omitempty"`
	QuitScene int       `json:"quitScene,omitempty" dynamodbav:"quitScene,omitempty"`
	// AutoTags are the tags scoring found (what the member says and opens,
	// and the keyword rules they match); scoring also sets Tier.
	AutoTags []string `json:"autoTags,omitempty" dynamodbav:"autoTags,omitempty"`
	// VIP is the operator's word (community.yaml members, tier vip): what
	// the member paid for. Tier is scoring's, how engaged they are.
	VIP bool `json:"vip,omitempty" dynamodbav:"vip,omitempty"`
	// WeComUserID is where a staff member's alerts go when their id in the
	// group is not a WeCom userid (a relay bridge's id, say).
	WeComUserID string `json:"wecomUserId,omitempty" dynamodbav:"wecomUserId,omitempty"`
}

// Active reports whether the member is still in the group.
func (m Member) Active() bool { return m.LeftAt.IsZero() || m.LeftAt.Before(m.JoinedAt) }

// AlertTargets returns whom a group's alerts (moderation hits, a host's
// no-show, a delivery that may or may not have gone out) reach: its active
// moderators and owners by role, each at their WeCom userid, else the
// group's owner. One rule, so every alert reaches the same people.
func AlertTargets(g Group, members []Member) []string {
	var ids []string
	for _, m := range members {
		if m.Active() && (m.Role == RoleModerator || m.Role == RoleOwner) {
			id := m.WeComUserID
			if id == "" {
				id = m.ID
			}
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && g.OwnerID != "" {
		ids = append(ids, g.OwnerID)
	}
	return ids
}

// Staff is a person who works the community for the operator
// (community.yaml staff): their role, the groups they serve and their id
// in each account, since WeChat gives one person a different id per
// account (a WeCom userid, an Official Account openid, a bridge's id).
type Staff struct {
	ID   string `json:"id" yaml:"id" dynamodbav:"id"`
	Name string `json:"name,omitempty" yaml:"name,omitempty" dynamodbav:"name,omitempty"`
	Role Role   `json:"role" yaml:"role" dynamodbav:"role"`
	// IDs maps an account id to this person's id in it.
	IDs map[string]string `json:"ids" yaml:"ids" dynamodbav:"ids"`
	// Groups are where they have their role.
	Groups []string `json:"groups,omitempty" yaml:"groups,omitempty" dynamodbav:"groups,omitempty"`
	// WeComUserID is where their alerts go (a WeCom app message).
	WeComUserID string `json:"wecomUserId,omitempty" yaml:"wecomUserId,omitempty" dynamodbav:"wecomUserId,omitempty"`
}

// Memberships returns the member records the staff entry implies, one per
// group it serves; account gives a group's account. A group whose account
// has no id for them is skipped (the community file rejects that).
func (s Staff) Memberships(account func(groupID string) string) []Member {
	var out []Member
	for _, g := range s.Groups {
		id := s.IDs[account(g)]
		if id == "" {
			continue
		}
		out = append(out, Member{GroupID: g, ID: id, Name: s.Name, Role: s.Role, WeComUserID: s.WeComUserID})
	}
	return out
}

// RoleChange is one promotion or demotion an operator made, kept as an
// audit record: who, when and why.
type RoleChange struct {
	GroupID  string    `json:"group" dynamodbav:"group"`
	MemberID string    `json:"member" dynamodbav:"member"`
	From     Role      `json:"from" dynamodbav:"from"`
	To       Role      `json:"to" dynamodbav:"to"`
	By       string    `json:"by" dynamodbav:"by"`
	At       time.Time `json:"at" dynamodbav:"at"`
	Reason   string    `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
}

// CheckRoleChange says whether an operator may move a member from one role
// to another by hand. Leaders found among members become moderators or
// editors and go back to member; owners and hosts are the community file's
// staff, changed there, so a command cannot silently undo the file.
func CheckRoleChange(from, to Role) error {
	if from == RoleOwner || from == RoleHost {
		return Errorf(EINVALID, "the member is %s by community.yaml staff: change it there", from)
	}
	switch to {
	case RoleModerator, RoleEditor, RoleMember:
	default:
		return Errorf(EINVALID, "role %q: expected moderator or editor (or member, to demote)", to)
	}
	if from == to || (from == "" && to == RoleMember) {
		return Errorf(ECONFLICT, "the member is already %s", to)
	}
	return nil
}
