package qunyun

import (
	"fmt"
	"strings"
	"time"
)

// The four dimensions of 获得感 (sense of gain) a group's value is made of
// (DESIGN.md §7), in the order reports show them.
const (
	DimensionInformation = "information" // timely information: content delivered and opened, sessions held
	DimensionAnswers     = "answers"     // questions answered, time to first response
	DimensionConnections = "connections" // member-to-member replies, reach
	DimensionBenefits    = "benefits"    // offers opened, prizes, check-in rewards
)

// Dimensions lists the value dimensions in a stable order.
var Dimensions = []string{DimensionInformation, DimensionAnswers, DimensionConnections, DimensionBenefits}

// DimensionScore is one dimension of a group's value for a day, with the
// numbers behind it. A dimension without Evidence that day (nothing was
// delivered, asked, said or offered) scores 0 and still weighs: a group is
// never lifted by what it did not show (docs/scoring.md, Missing evidence).
type DimensionScore struct {
	Name     string             `json:"name" dynamodbav:"name"`
	Score    float64            `json:"score" dynamodbav:"score"`   // 0–100
	Weight   float64            `json:"weight" dynamodbav:"weight"` // from the group's purpose
	Evidence bool               `json:"evidence" dynamodbav:"evidence"`
	Numbers  map[string]float64 `json:"numbers,omitempty" dynamodbav:"numbers,omitempty"`
	Why      string             `json:"why" dynamodbav:"why"` // rendered explanation
}

// Activity is how much a group chatted: reported beside its value, never
// counted in it.
type Activity struct {
	Messages int `json:"messages" dynamodbav:"messages"`
	Speakers int `json:"speakers" dynamodbav:"speakers"`
	// Members is the group's size at the day's end: its recorded members
	// plus those seen in it whom no record lists (a bot-only group has only
	// these, so its size is a floor). 0 means unknown.
	Members int `json:"members" dynamodbav:"members"`
	// MembersSeen counts the members of Members known only from being seen.
	MembersSeen       int     `json:"membersSeen,omitempty" dynamodbav:"membersSeen,omitempty"`
	MessagesPerMember float64 `json:"messagesPerMember" dynamodbav:"messagesPerMember"`
	Joins             int     `json:"joins" dynamodbav:"joins"`
	Leaves            int     `json:"leaves" dynamodbav:"leaves"`
}

// Flag kinds: noise and health signals about a group.
const (
	FlagVolume        = "volume"        // more messages than the group's purpose and size allow
	FlagConcentration = "concentration" // one member writes ≥40 % of the messages
	FlagAds           = "ads"           // share of ads and spam
	FlagPushLeaves    = "push-leaves"   // members left within 24 h after a push
	FlagDormant       = "dormant"       // no value for 14 days
	FlagRenewal       = "renewal"       // a yearly core/VIP group is due for renewal
	FlagPopupExpired  = "popup-expired" // a pop-up group outlived its window
)

// Flag is one noise or health finding, explaining itself with its numbers.
type Flag struct {
	Kind    string             `json:"kind" dynamodbav:"kind"`
	Numbers map[string]float64 `json:"numbers,omitempty" dynamodbav:"numbers,omitempty"`
	Why     string             `json:"why" dynamodbav:"why"`
}

// GroupScore is a group's value for one local day 获得感评分, rolling over 7
// and 28 days, with activity and flags beside it.
type GroupScore struct {
	GroupID    string           `json:"group" dynamodbav:"group"`
	Name       string           `json:"name,omitempty" dynamodbav:"name,omitempty"`
	Purpose    Purpose          `json:"purpose" dynamodbav:"purpose"`
	Date       string           `json:"date" dynamodbav:"date"` // the group's local date
	Value      float64          `json:"value" dynamodbav:"value"`
	Value7     float64          `json:"value7" dynamodbav:"value7"`
	Value28    float64          `json:"value28" dynamodbav:"value28"`
	Dimensions []DimensionScore `json:"dimensions" dynamodbav:"dimensions"`
	Activity   Activity         `json:"activity" dynamodbav:"activity"`
	Flags      []Flag           `json:"flags,omitempty" dynamodbav:"flags,omitempty"`
	// Noisy is what push acts on; OnNoisy is what it does then (to SOP
	// content only), as configured when the group was scored.
	Noisy   bool        `json:"noisy,omitempty" dynamodbav:"noisy,omitempty"`
	OnNoisy NoisyAction `json:"onNoisy,omitempty" dynamodbav:"onNoisy,omitempty"`
	// Why is the one-line explanation of Value.
	Why string `json:"why" dynamodbav:"why"`
	// Deliveries counts the day's deliveries to the group by state.
	Deliveries map[string]int `json:"deliveries,omitempty" dynamodbav:"deliveries,omitempty"`
	// Heat is how the day's delivered content was read.
	Heat Heat `json:"heat" dynamodbav:"heat"`
	// Tags are the group's top topics of the day.
	Tags []string `json:"tags,omitempty" dynamodbav:"tags,omitempty"`
	// Leaders are the members who stand out, as of this day.
	Leaders []LeaderCandidate `json:"leaders,omitempty" dynamodbav:"leaders,omitempty"`
	// Levels counts the group's members per level name, as of this day.
	Levels map[string]int `json:"levels,omitempty" dynamodbav:"levels,omitempty"`
}

// Level is a member's Orbit-style level in a group, from least to most involved.
type Level int

const (
	LevelExploring     Level = 1
	LevelParticipating Level = 2
	LevelContributing  Level = 3
	LevelLeading       Level = 4
)

var levelNames = map[Level]string{LevelExploring: "exploring", LevelParticipating: "participating",
	LevelContributing: "contributing", LevelLeading: "leading"}

func (l Level) String() string {
	if n, ok := levelNames[l]; ok {
		return n
	}
	return "unknown"
}

// Member tiers scoring writes onto members so push can target by them.
const (
	TierCore   = "core"   // contributing or leading
	TierActive = "active" // participating
	TierQuiet  = "quiet"  // exploring
)

// Contributions counts what a member did, weighted in that order: answering
// others > sharing content > asking > chatting.
type Contributions struct {
	Answers   int `json:"answers" dynamodbav:"answers"`
	Shares    int `json:"shares" dynamodbav:"shares"`
	Questions int `json:"questions" dynamodbav:"questions"`
	// Contributed counts the member's contributions staff approved.
	Contributed int `json:"contributed,omitempty" dynamodbav:"contributed,omitempty"`
	Chats       int `json:"chats" dynamodbav:"chats"`
	// Reads are opens of delivered content: presence, not contribution.
	Reads int `json:"reads" dynamodbav:"reads"`
}

// MemberDay is one member's contributions on one local day.
type MemberDay struct {
	Date string `json:"date" dynamodbav:"date"`
	Contributions
	// Raw is the level the window ending this day earned, Level the level
	// held after hysteresis.
	Raw        Level  `json:"raw" dynamodbav:"raw"`
	Level      Level  `json:"level" dynamodbav:"level"`
	BelowSince string `json:"belowSince,omitempty" dynamodbav:"belowSince,omitempty"`
}

// MemberLevel is a member's standing in one group 成员等级, with the recent
// days it rests on (so hysteresis and re-runs need no other history).
type MemberLevel struct {
	GroupID  string `json:"group" dynamodbav:"group"`
	MemberID string `json:"member" dynamodbav:"member"`
	Name     string `json:"name,omitempty" dynamodbav:"name,omitempty"`
	Date     string `json:"date" dynamodbav:"date"` // last local date computed
	Level    Level  `json:"level" dynamodbav:"level"`
	Tier     string `json:"tier" dynamodbav:"tier"`
	// BelowSince is the first local date of the current run of days whose
	// raw level was below Level ("" when none): demotion waits 14 days.
	BelowSince string        `json:"belowSince,omitempty" dynamodbav:"belowSince,omitempty"`
	Presence   int           `json:"presence" dynamodbav:"presence"` // active days in the 28-day window
	Points     float64       `json:"points" dynamodbav:"points"`     // weighted contributions in the window
	Window     Contributions `json:"window" dynamodbav:"window"`
	Days       []MemberDay   `json:"days,omitempty" dynamodbav:"days,omitempty"`
	Tags       []string      `json:"tags,omitempty" dynamodbav:"tags,omitempty"`
	Why        string        `json:"why" dynamodbav:"why"`
}

// LeaderCandidate is a member who stands out enough to be asked to become a
// moderator or content editor (seed 002), with the evidence.
type LeaderCandidate struct {
	GroupID  string             `json:"group" dynamodbav:"group"`
	MemberID string             `json:"member" dynamodbav:"member"`
	Name     string             `json:"name,omitempty" dynamodbav:"name,omitempty"`
	Role     Role               `json:"role" dynamodbav:"role"` // moderator or editor
	Numbers  map[string]float64 `json:"numbers" dynamodbav:"numbers"`
	Why      string             `json:"why" dynamodbav:"why"`
	// Promote is the one-line command that makes the candidate what they
	// were found to be (PromoteCommand), for the report to show.
	Promote string `json:"promote,omitempty" dynamodbav:"promote,omitempty"`
}

// PromoteCommand is the operator command that promotes the candidate, with
// the numbers that found them as the audit reason.
func (c LeaderCandidate) PromoteCommand() string {
	return fmt.Sprintf("qunyun promote %s --group %s --to %s --reason %s",
		shellWord(c.MemberID), shellWord(c.GroupID), c.Role, shellWord(c.Why))
}

// shellWord quotes s for a POSIX shell unless it is a plain word, so a
// copied command runs as shown whatever the id or reason holds.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:@/", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TagCount is a tag and how strongly it showed.
type TagCount struct {
	Tag   string  `json:"tag" dynamodbav:"tag"`
	Score float64 `json:"score" dynamodbav:"score"`
}

// Report is the daily report 日报 over every group, stored per date and
// rendered as the dashboard.
type Report struct {
	Date       string            `json:"date" dynamodbav:"date"`
	Groups     []GroupScore      `json:"groups" dynamodbav:"groups"`
	Trend      []TrendPoint      `json:"trend,omitempty" dynamodbav:"trend,omitempty"`
	Levels     map[string]int    `json:"levels,omitempty" dynamodbav:"levels,omitempty"` // members per level name
	Leaders    []LeaderCandidate `json:"leaders,omitempty" dynamodbav:"leaders,omitempty"`
	Tags       []TagCount        `json:"tags,omitempty" dynamodbav:"tags,omitempty"`
	Recaps     []Recap           `json:"recaps,omitempty" dynamodbav:"recaps,omitempty"`
	Deliveries map[string]int    `json:"deliveries,omitempty" dynamodbav:"deliveries,omitempty"`
	// Skips counts the day's skipped deliveries, every target kind's, by
	// reason (Delivery.Reason; "" when none was recorded).
	Skips map[string]int `json:"skips,omitempty" dynamodbav:"skips,omitempty"`
	// Contests are the OA comment contests running in the week ending with
	// the date, with their best ranked entries.
	Contests []ContestStanding `json:"contests,omitempty" dynamodbav:"contests,omitempty"`
	// Heat is how content was read on the date (its local day in the
	// default zone), most opened first.
	Heat []ContentHeat `json:"heat,omitempty" dynamodbav:"heat,omitempty"`
	// Moderation are the moderation alert windows of the week ending with
	// the date, newest first.
	Moderation  []ModerationBurst `json:"moderation,omitempty" dynamodbav:"moderation,omitempty"`
	GeneratedAt time.Time         `json:"generatedAt" dynamodbav:"generatedAt"`
}

// ModerationBurst is one group's moderation alert window as the report
// shows it: its hits per signal, the senders' names and the decisions on
// its case codes, each By a name too (the members' text left out: the
// report travels by mail and chat).
type ModerationBurst struct {
	GroupID string         `json:"group" dynamodbav:"group"`
	Window  time.Time      `json:"window" dynamodbav:"window"`
	Hits    int            `json:"hits" dynamodbav:"hits"`
	Signals map[string]int `json:"signals,omitempty" dynamodbav:"signals,omitempty"`
	Members []string       `json:"members,omitempty" dynamodbav:"members,omitempty"`
	Cases   []BurstCase    `json:"cases,omitempty" dynamodbav:"cases,omitempty"`
}

// BurstCase is a case of a burst: its code, the sender's name and the
// decisions, oldest first (none: undecided).
type BurstCase struct {
	Code      string               `json:"code" dynamodbav:"code"`
	Member    string               `json:"member" dynamodbav:"member"`
	Decisions []ModerationDecision `json:"decisions,omitempty" dynamodbav:"decisions,omitempty"`
}

// ContestStanding is a contest as the report shows it: its title and
// window, and its top entries by rank (commenters' openids left out: the
// report travels by mail and chat).
type ContestStanding struct {
	ContestID string         `json:"contest" dynamodbav:"contest"`
	Title     string         `json:"title,omitempty" dynamodbav:"title,omitempty"`
	Start     string         `json:"start" dynamodbav:"start"`
	End       string         `json:"end" dynamodbav:"end"`
	Entries   []ContestEntry `json:"entries" dynamodbav:"entries"`
}

// TrendPoint is one group's value on one past date, for the trend chart.
type TrendPoint struct {
	GroupID string  `json:"group" dynamodbav:"group"`
	Date    string  `json:"date" dynamodbav:"date"`
	Value   float64 `json:"value" dynamodbav:"value"`
}

// Scoring events on the bus.
const (
	EventScoringShardRequested = "ScoringShardRequested"
)

// ScoringShard is the detail of a ScoringShardRequested event: score the
// groups of one shard for one date. Run, when set, is the scheduled time
// (RFC 3339) of the hourly run that fanned out: the shard then scores only
// the groups whose night that run was (scoring.DueDate). ID is date#shard,
// or date@run#shard.
type ScoringShard struct {
	ID     string `json:"id"`
	Date   string `json:"date"`
	Run    string `json:"run,omitempty"`
	Shard  int    `json:"shard"`
	Shards int    `json:"shards"`
}

// ScoresComputed is the detail of a ScoresComputed event. ID is the date,
// or date@run for a scheduled run: groups in different time zones finish
// the same date at different runs, each run adds its groups to the date's
// report and says so once.
type ScoresComputed struct {
	ID     string `json:"id"`
	Date   string `json:"date"`
	Groups int    `json:"groups"`
	Noisy  int    `json:"noisy"`
}

// GroupLog is what a group's day logs hold (the callback's and push's
// records), as scoring reads them.
type GroupLog struct {
	Messages      []Message
	Events        []GroupEvent
	Deliveries    []Delivery
	Opens         []LinkOpen
	Checkins      []Checkin
	Contributions []Contributed
}

// Contributed is a member's contribution staff approved, as the group-day
// log holds it: it counts toward the member's level.
type Contributed struct {
	GroupID   string    `json:"group" dynamodbav:"group"`
	MemberID  string    `json:"member" dynamodbav:"member"`
	ContentID string    `json:"content" dynamodbav:"content"`
	At        time.Time `json:"at" dynamodbav:"at"`
}

// Checkin is one counted check-in 打卡 as the group-day log holds it.
type Checkin struct {
	GroupID  string    `json:"group" dynamodbav:"group"`
	MemberID string    `json:"member" dynamodbav:"member"`
	Date     string    `json:"date" dynamodbav:"date"` // local date
	Streak   int       `json:"streak" dynamodbav:"streak"`
	At       time.Time `json:"at" dynamodbav:"at"`
}
