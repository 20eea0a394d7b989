package simulate

import (
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Persona is how a simulated member behaves.
type Persona string

const (
	Lurker    Persona = "lurker"    // reads, almost never writes
	Chatterer Persona = "chatterer" // many small messages of little value
	Asker     Persona = "asker"     // asks questions
	Expert    Persona = "expert"    // answers other members' questions
	HostP     Persona = "host"      // a host 嘉宾: talks in sessions
	Spammer   Persona = "spammer"   // posts ads and links until removed
	Newcomer  Persona = "newcomer"  // joins during the run, greets, asks, fades
)

// Personas in a stable order.
var Personas = []Persona{Lurker, Chatterer, Asker, Expert, HostP, Spammer, Newcomer}

// traits are a persona's daily habits in a group of activity 1.
type traits struct {
	perDay  float64 // messages a day
	ask     float64 // share of messages that are questions
	answer  float64 // share that answer an open question
	spam    float64 // share that are ads
	checkin float64 // chance of a daily check-in in a punch-card group
	leave   float64 // chance of leaving on a given day
	oa      float64 // chance of a 1:1 message to the Official Account on a given day
}

var personaTraits = map[Persona]traits{
	Lurker:    {perDay: 0.05, checkin: 0.25, leave: 0.004, oa: 0.01},
	Chatterer: {perDay: 3, ask: 0.05, answer: 0.05, checkin: 0.6, leave: 0.002, oa: 0.03},
	Asker:     {perDay: 1, ask: 0.7, checkin: 0.5, leave: 0.003, oa: 0.05},
	Expert:    {perDay: 1.2, ask: 0.05, answer: 0.8, checkin: 0.5, leave: 0.001, oa: 0.02},
	HostP:     {perDay: 0.3, answer: 0.7},
	Spammer:   {perDay: 1, spam: 0.9, leave: 0.02},
	Newcomer:  {perDay: 1, ask: 0.5, checkin: 0.4, leave: 0.01, oa: 0.08},
}

// A group of 50 holds about this many of each persona (the host persona
// comes from the community's hosts, not from this table).
var personaShare = []struct {
	p     Persona
	share float64
}{
	{Lurker, 0.50}, {Chatterer, 0.10}, {Asker, 0.14}, {Expert, 0.06}, {Spammer, 0.02}, {Newcomer, 0.18},
}

// profile is a group's character, from its purpose. Activity is tuned
// against scoring's volume limit (80 messages a day for 50 members, the
// top of a healthy chat group's 30–80; half that for a shelf group, 1.5
// times for a fan group): at activity 1 a group of 50 writes about 37.
// The fan group is meant to be noisy (about 150), the others lively but
// within it.
type profile struct {
	activity float64 // multiplies the personas' message rates
	decay    float64 // daily factor on activity; below 1 for a dying group
	leave    float64 // multiplies the personas' leave chances
	checkins bool    // members check in (punch-card groups)
}

func profileFor(p qunyun.Purpose) profile {
	switch p {
	case qunyun.PurposeShelf:
		return profile{activity: 0.08, decay: 1, leave: 0.5} // quiet by design
	case qunyun.PurposeResourcePopup:
		return profile{activity: 3, decay: 1, leave: 1}
	case qunyun.PurposeFan:
		return profile{activity: 4, decay: 1, leave: 1} // noisy chat
	case qunyun.PurposePunchCard:
		return profile{activity: 0.3, decay: 1, leave: 1, checkins: true} // check-ins are most of it
	case qunyun.PurposeLearning:
		return profile{activity: 0.5, decay: 1, leave: 1}
	case qunyun.PurposeIndustry:
		return profile{activity: 0.6, decay: 1, leave: 0.7}
	case qunyun.PurposeVIP:
		return profile{activity: 0.8, decay: 1, leave: 0.3}
	}
	return profile{activity: 0.8, decay: 1, leave: 1}
}

// dyingProfile is a group losing its members and its voice.
var dyingProfile = profile{activity: 0.9, decay: 0.85, leave: 6}

// Group is a simulated group: the community's group, how its events reach
// Qunyun, and its members.
type Group struct {
	qunyun.Group
	Profile profile
	Dying   bool
	// Membership is the account whose callbacks carry joins and leaves
	// (WeCom change_external_chat or the relay bridge); zero when no channel
	// tells Qunyun about them (a smart-bot-only group).
	Membership qunyun.Account
	// Chat carries messages: the relay bridge sees every message; a group
	// with only the smart bot is heard only when someone @-mentions it.
	Chat    qunyun.Account
	Bot     qunyun.Account // zero when there is no smart bot
	Members []*Member
}

// Member is one simulated person in one group.
type Member struct {
	ID      string
	Name    string
	Persona Persona
	JoinDay int // -1: in the group from the start
}

// Accounts are the stack's accounts by kind; the simulator uses the first of
// each kind for channels a group's own account cannot carry.
type Accounts map[qunyun.Channel]qunyun.Account

// NewAccounts indexes a list by kind, keeping the first of each.
func NewAccounts(list []qunyun.Account) Accounts {
	out := Accounts{}
	sorted := append([]qunyun.Account(nil), list...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, a := range sorted {
		if _, ok := out[a.Kind]; !ok {
			out[a.Kind] = a
		}
	}
	return out
}

// HostMember names the member id a host speaks under in which groups.
type HostMember struct {
	MemberID string
	Name     string
	Groups   []string // empty: any group of Tiers
	Tiers    []string // empty: any tier
}

// HostMembers are the hosts of a community that have a member id.
func HostMembers(hosts []qunyun.Host) []HostMember {
	var out []HostMember
	for _, h := range hosts {
		if h.MemberID != "" {
			out = append(out, HostMember{MemberID: h.MemberID, Name: h.Name, Groups: h.Groups, Tiers: h.Tiers})
		}
	}
	return out
}

// World is everyone the simulation plays.
type World struct {
	Groups []*Group
	OA     qunyun.Account // zero when there is none
}

// NewWorld populates groups from the community with about size members
// each, personas drawn from rnd. The last general-purpose group (or, when
// there is none, the last group that is not quiet by design) is the dying
// one, so every run has a group to show decline.
func NewWorld(rnd *rand.Rand, groups []qunyun.Group, hosts []HostMember, accts Accounts, size int) (*World, error) {
	if textsErr != nil {
		return nil, textsErr
	}
	w := &World{OA: accts[qunyun.ChannelOA]}
	sorted := append([]qunyun.Group(nil), groups...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	byID := map[string]qunyun.Account{}
	for _, a := range accts {
		byID[a.ID] = a
	}
	for _, g := range sorted {
		sg := &Group{Group: g, Profile: profileFor(g.Purpose), Bot: accts[qunyun.ChannelWeComBot]}
		own, ok := byID[g.AccountID]
		if !ok {
			own = accts[qunyun.ChannelRelay]
		}
		switch own.Kind {
		case qunyun.ChannelWeCom:
			sg.Membership, sg.Chat = own, accts[qunyun.ChannelRelay]
		case qunyun.ChannelRelay:
			sg.Membership, sg.Chat = own, own
		case qunyun.ChannelWeComBot:
			sg.Bot = own
		}
		if sg.Chat.ID == "" && sg.Bot.ID == "" {
			return nil, fmt.Errorf("group %s: no relay or smart-bot account can carry its messages", g.ID)
		}
		w.Groups = append(w.Groups, sg)
	}
	if len(w.Groups) == 0 {
		return nil, fmt.Errorf("no groups to simulate")
	}
	// The dying group.
	for i := len(w.Groups) - 1; i >= 0; i-- {
		if g := w.Groups[i]; g.Purpose == qunyun.PurposeGeneral && len(w.Groups) > 1 {
			g.Dying, g.Profile = true, dyingProfile
			break
		}
	}
	for _, g := range w.Groups {
		n := size
		if g.SizeCap > 0 && g.SizeCap < n {
			n = g.SizeCap
		}
		seq := 0
		for _, ps := range personaShare {
			count := int(math.Round(ps.share * float64(n)))
			if ps.p == Spammer && g.Purpose == qunyun.PurposeVIP {
				count = 0 // VIP groups are vetted
			}
			for range count {
				seq++
				m := &Member{
					ID:      fmt.Sprintf("sim-%s-%03d", g.ID, seq),
					Name:    texts.name(rnd),
					Persona: ps.p,
					JoinDay: -1,
				}
				if ps.p == Newcomer {
					m.JoinDay = 0 // given a day when the plan knows how long the run is
				}
				g.Members = append(g.Members, m)
			}
		}
		if g.OwnerID != "" {
			g.Members = append(g.Members, &Member{ID: g.OwnerID, Name: "群主", Persona: Expert, JoinDay: -1})
		}
		for _, h := range hosts {
			if hostServes(h, g) {
				g.Members = append(g.Members, &Member{ID: h.MemberID, Name: h.Name, Persona: HostP, JoinDay: -1})
			}
		}
	}
	return w, nil
}

func hostServes(h HostMember, g *Group) bool {
	if h.MemberID == "" {
		return false
	}
	if len(h.Groups) > 0 {
		return slices.Contains(h.Groups, g.ID)
	}
	return len(h.Tiers) == 0 || slices.Contains(h.Tiers, g.Tier)
}

// MemberCount is the number of simulated members over all groups.
func (w *World) MemberCount() int {
	n := 0
	for _, g := range w.Groups {
		n += len(g.Members)
	}
	return n
}

//go:embed texts.yaml
var textsYAML []byte

// lines are what members say (texts.yaml).
type lines struct {
	Chatter    []string `yaml:"chatter"`
	Greetings  []string `yaml:"greetings"`
	Questions  []string `yaml:"questions"`
	Answers    []string `yaml:"answers"`
	Thanks     []string `yaml:"thanks"`
	Spam       []string `yaml:"spam"`
	HostTalk   []string `yaml:"hostTalk"`
	Checkin    []string `yaml:"checkin"`
	BotAsks    []string `yaml:"botAsks"`
	OA         []string `yaml:"oa"`
	Votes      []string `yaml:"votes"`
	BotMention string   `yaml:"botMention"`
	Surnames   []string `yaml:"surnames"`
	GivenNames []string `yaml:"givenNames"`
}

// texts is decoded once; NewWorld reports textsErr, so a broken file stops
// a run before it starts (and fails every test).
var texts, textsErr = loadLines()

func loadLines() (lines, error) {
	var l lines
	if err := yaml.Unmarshal(textsYAML, &l); err != nil {
		return l, fmt.Errorf("simulate: texts.yaml: %w", err)
	}
	for name, list := range map[string][]string{"chatter": l.Chatter, "greetings": l.Greetings, "questions": l.Questions,
		"answers": l.Answers, "thanks": l.Thanks, "spam": l.Spam, "hostTalk": l.HostTalk, "checkin": l.Checkin,
		"botAsks": l.BotAsks, "oa": l.OA, "votes": l.Votes, "surnames": l.Surnames, "givenNames": l.GivenNames} {
		if len(list) == 0 {
			return l, fmt.Errorf("simulate: texts.yaml: %s is empty", name)
		}
	}
	return l, nil
}

func (l lines) pick(rnd *rand.Rand, list []string, n int) string {
	s := list[rnd.IntN(len(list))]
	return strings.ReplaceAll(s, "{n}", strconv.Itoa(n))
}

func (l lines) name(rnd *rand.Rand) string {
	return l.Surnames[rnd.IntN(len(l.Surnames))] + l.GivenNames[rnd.IntN(len(l.GivenNames))]
}
