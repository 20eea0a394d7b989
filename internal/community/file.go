package community

import (
	"cmp"
	"sort"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

// File is community.yaml as written. Where a domain type already has the
// right shape it is used as is (its yaml tags are the file's field names);
// the schema (community.schema.json) says which fields are allowed.
type File struct {
	Version      int                            `yaml:"version,omitempty"`
	Accounts     []AccountRef                   `yaml:"accounts,omitempty"`
	Defaults     Defaults                       `yaml:"defaults,omitempty"`
	Purposes     map[qunyun.Purpose]PurposeSpec `yaml:"purposes,omitempty"`
	Groups       []GroupSpec                    `yaml:"groups,omitempty"`
	Contents     []qunyun.Content               `yaml:"contents,omitempty"`
	Plans        []PlanSpec                     `yaml:"plans,omitempty"`
	Hosts        []qunyun.Host                  `yaml:"hosts,omitempty"`
	Sessions     SessionsSpec                   `yaml:"sessions,omitempty"`
	KeywordRules []qunyun.KeywordRule           `yaml:"keywordRules,omitempty"`
	CheckinRules []qunyun.CheckinRule           `yaml:"checkinRules,omitempty"`
	Contests     []qunyun.Contest               `yaml:"contests,omitempty"`
	Staff        []qunyun.Staff                 `yaml:"staff,omitempty"`
	Members      *MembersSpec                   `yaml:"members,omitempty"`
	// Moderation are each account's moderation lists; an account without
	// an entry (or a list left out) uses the built-in defaults.
	Moderation []qunyun.ModerationRules `yaml:"moderation,omitempty"`
	// Texts are each account's own replies (welcome, bot welcome, repeat
	// check-in); a text left out uses the built-in default.
	Texts []qunyun.AccountTexts `yaml:"texts,omitempty"`

	people []Person // the members file's lines, read by check
}

// MembersSpec names the CSV file of imported members (group, id, name,
// tier, tags), relative to community.yaml.
type MembersSpec struct {
	File string `yaml:"file"`
}

// AccountRef names an account and where its secrets live; the secrets
// themselves stay in SSM (or the local accounts file).
type AccountRef struct {
	ID   string         `yaml:"id" json:"id"`
	Kind qunyun.Channel `yaml:"kind" json:"kind"`
	Name string         `yaml:"name,omitempty" json:"name,omitempty"`
	SSM  string         `yaml:"ssm,omitempty" json:"ssm,omitempty"`
}

// Defaults fill what a group leaves out.
type Defaults struct {
	TimeZone string             `yaml:"timeZone,omitempty"`
	SizeCap  int                `yaml:"sizeCap,omitempty"`
	Caps     qunyun.Caps        `yaml:"caps,omitempty"`
	OnNoisy  qunyun.NoisyAction `yaml:"onNoisy,omitempty"`
}

// PurposeSpec holds what groups of one purpose share.
type PurposeSpec struct {
	// OnNoisy: a fan group may be lively by nature, a shelf group not.
	OnNoisy qunyun.NoisyAction `yaml:"onNoisy,omitempty"`
}

// GroupSpec is a group as the operator describes it.
type GroupSpec struct {
	qunyun.Group `yaml:",inline"`
	// Paused stops every push to the group (GroupState paused).
	Paused bool `yaml:"paused,omitempty"`
}

// PlanSpec is a plan; start and end are written as RFC 3339 times.
type PlanSpec struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name,omitempty"`
	Contents []string `yaml:"contents,omitempty"`
	// ContentTags picks contents by tag, contributions included.
	ContentTags []string             `yaml:"contentTags,omitempty"`
	Select      qunyun.GroupSelector `yaml:"select,omitempty"`
	Cron        string               `yaml:"cron,omitempty"`
	Journey     []qunyun.JourneyStep `yaml:"journey,omitempty"`
	Start       string               `yaml:"start,omitempty"`
	End         string               `yaml:"end,omitempty"`
	Paused      bool                 `yaml:"paused,omitempty"`
}

// SessionsSpec holds the weekly targets and the sessions booked by hand.
type SessionsSpec struct {
	Targets []qunyun.SessionTarget `yaml:"targets,omitempty"`
	Manual  []ManualSession        `yaml:"manual,omitempty"`
	// MinMinutes and MaxMinutes widen the 30–60 minute bounds of a session's
	// length (session.DefaultMinMinutes, DefaultMaxMinutes).
	MinMinutes int `yaml:"minMinutes,omitempty"`
	MaxMinutes int `yaml:"maxMinutes,omitempty"`
}

// minutes is the allowed range of a session's length, defaults filled in.
func (s SessionsSpec) minutes() (lo, hi int) {
	return cmp.Or(s.MinMinutes, session.DefaultMinMinutes), cmp.Or(s.MaxMinutes, session.DefaultMaxMinutes)
}

// ManualSession is a host session the operator books (or cancels) by hand.
type ManualSession struct {
	ID        string `yaml:"id"`
	Group     string `yaml:"group"`
	Host      string `yaml:"host"`
	Topic     string `yaml:"topic,omitempty"`
	Start     string `yaml:"start"`
	Minutes   int    `yaml:"minutes"`
	Cancelled bool   `yaml:"cancelled,omitempty"`
	// Override says why this booking may break the planner's rules (the
	// host agreed to an extra hour, a demo): apply books it and lists what
	// it breaks as notes instead of refusing it.
	Override string `yaml:"override,omitempty"`
}

// Community is a loaded, valid file in domain terms, defaults filled in:
// what apply makes the table hold.
type Community struct {
	Accounts       []AccountRef
	Groups         []Group
	Contents       []qunyun.Content
	Plans          []qunyun.Plan
	Hosts          []qunyun.Host
	SessionTargets []qunyun.SessionTarget
	Sessions       []qunyun.Session
	// MinSessionMinutes and MaxSessionMinutes bound a session's length.
	MinSessionMinutes, MaxSessionMinutes int
	KeywordRules                         []qunyun.KeywordRule
	CheckinRules                         []qunyun.CheckinRule
	Contests                             []qunyun.Contest
	Staff                                []qunyun.Staff
	Moderation                           []qunyun.ModerationRules
	Texts                                []qunyun.AccountTexts
	// Members is what the file says about members, by group and id: the
	// roles staff have in the groups they serve, and the imported members
	// with their names, tags and VIP tier. Who is in a group otherwise is
	// WeChat's to say: apply never removes a member.
	Members []qunyun.Member

	// at places a problem with a manual session's field in the file (Parse
	// sets it), so apply's table checks point at a line too.
	at func(id, field, msg string) Problem
	// overrides are the manual sessions booked despite the rules, by id,
	// with the operator's reason.
	overrides map[string]string
}

// Group is a group with the operator's pause switch, which maps onto
// GroupState without touching the states WeChat reports.
type Group struct {
	qunyun.Group
	Paused bool
}

// community converts a checked file; check has verified every time and
// reference, so conversion cannot fail.
func (f *File) community() *Community {
	c := &Community{
		Accounts:       f.Accounts,
		Contents:       f.Contents,
		Hosts:          f.Hosts,
		SessionTargets: f.Sessions.Targets,
		KeywordRules:   f.KeywordRules,
		CheckinRules:   f.CheckinRules,
		Contests:       f.Contests,
		Staff:          f.Staff,
		Moderation:     f.Moderation,
		Texts:          trimTexts(f.Texts),
		Members:        f.members(),
		Sessions:       f.Sessions.sessions(),
		overrides:      f.Sessions.overrides(),
	}
	c.MinSessionMinutes, c.MaxSessionMinutes = f.Sessions.minutes()
	for _, gs := range f.Groups {
		c.Groups = append(c.Groups, Group{Group: f.group(gs.Group), Paused: gs.Paused})
	}
	for _, ps := range f.Plans {
		c.Plans = append(c.Plans, ps.plan())
	}
	for i := range c.KeywordRules {
		if c.KeywordRules[i].Match == "" {
			c.KeywordRules[i].Match = "contains"
		}
	}
	for i := range c.CheckinRules {
		if len(c.CheckinRules[i].Keywords) == 0 {
			c.CheckinRules[i].Keywords = []string{"打卡"}
		}
	}
	for i := range c.SessionTargets {
		if c.SessionTargets[i].Minutes == 0 {
			c.SessionTargets[i].Minutes = qunyun.DefaultSessionMinutes
		}
	}
	return c
}

// group fills in what g leaves out from the file's defaults, then the
// system's.
func (f *File) group(g qunyun.Group) qunyun.Group {
	if g.TimeZone == "" {
		g.TimeZone = f.Defaults.TimeZone
	}
	if g.TimeZone == "" {
		g.TimeZone = qunyun.DefaultTimeZone
	}
	if g.SizeCap == 0 {
		g.SizeCap = f.Defaults.SizeCap
	}
	if g.SizeCap == 0 {
		g.SizeCap = qunyun.DefaultSizeCap
	}
	if g.Caps.DailyMax == 0 {
		g.Caps.DailyMax = f.Defaults.Caps.DailyMax
	}
	if g.Caps.SessionMax == 0 {
		g.Caps.SessionMax = f.Defaults.Caps.SessionMax
	}
	if g.Caps.QuietStart == "" && g.Caps.QuietEnd == "" {
		g.Caps.QuietStart, g.Caps.QuietEnd = f.Defaults.Caps.QuietStart, f.Defaults.Caps.QuietEnd
	}
	if g.Lifecycle.Kind == "" {
		g.Lifecycle.Kind = "created"
	}
	// Stored resolved, so push, get groups and the report all read
	// the same action from the group.
	g.OnNoisy = cmp.Or(g.OnNoisy, f.Purposes[g.Purpose].OnNoisy, f.Defaults.OnNoisy, qunyun.DefaultNoisyAction)
	g.CreatedAt = g.CreatedAt.UTC()
	return g
}

func (ps PlanSpec) plan() qunyun.Plan {
	p := qunyun.Plan{ID: ps.ID, Name: ps.Name, Contents: ps.Contents, ContentTags: ps.ContentTags, Select: ps.Select,
		Cron: cronExpr(ps.Cron), Journey: ps.Journey, Paused: ps.Paused}
	p.Start, _ = parseTime(ps.Start)
	p.End, _ = parseTime(ps.End)
	return p
}

// sessions are the sessions booked by hand.
func (s SessionsSpec) sessions() []qunyun.Session {
	var out []qunyun.Session
	for _, ms := range s.Manual {
		start, _ := parseTime(ms.Start)
		booked := qunyun.Session{ID: ms.ID, GroupID: ms.Group, HostID: ms.Host, Topic: ms.Topic,
			Start: start, End: start.Add(time.Duration(ms.Minutes) * time.Minute),
			State: qunyun.SessionScheduled, Manual: true}
		if ms.Cancelled {
			booked.State = qunyun.SessionCancelled
		}
		out = append(out, booked)
	}
	return out
}

// overrides are the operator's reasons for the sessions booked despite
// the rules, by id; nil when there are none.
func (s SessionsSpec) overrides() map[string]string {
	var out map[string]string
	for _, ms := range s.Manual {
		if ms.Override != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[ms.ID] = ms.Override
		}
	}
	return out
}

// parseTime reads an RFC 3339 time (stored in UTC so a round trip through
// the table compares equal); "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// cronExpr writes a plan's cron the one way the table holds it,
// cron(fields), accepting the six fields alone too.
func cronExpr(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "cron(") || strings.HasPrefix(s, "rate(") {
		return s
	}
	return "cron(" + s + ")"
}

// members merges the imported members with the staff's memberships: a
// person on both lists keeps their line's name, tags and tier and takes the
// staff role.
func (f *File) members() []qunyun.Member {
	accounts := map[string]string{}
	for _, g := range f.Groups {
		accounts[g.ID] = g.AccountID
	}
	var out []qunyun.Member
	at := map[[2]string]int{}
	for _, p := range f.people {
		at[[2]string{p.Group, p.ID}] = len(out)
		out = append(out, qunyun.Member{GroupID: p.Group, ID: p.ID, Name: p.Name, Tags: p.Tags,
			VIP: strings.EqualFold(p.Tier, "vip")})
	}
	for _, s := range f.Staff {
		for _, m := range s.Memberships(func(g string) string { return accounts[g] }) {
			i, listed := at[[2]string{m.GroupID, m.ID}]
			if !listed {
				at[[2]string{m.GroupID, m.ID}] = len(out)
				out = append(out, m)
				continue
			}
			out[i].Role, out[i].WeComUserID = m.Role, m.WeComUserID
			if out[i].Name == "" {
				out[i].Name = m.Name
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].GroupID < out[j].GroupID || out[i].GroupID == out[j].GroupID && out[i].ID < out[j].ID
	})
	return out
}
