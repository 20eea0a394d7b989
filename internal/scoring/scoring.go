// Package scoring judges groups by the value their members get (获得感), not
// by how much they chat, and members by what they contribute (DESIGN.md §7).
//
// From one group's recorded local day (GroupDay: messages, membership events,
// deliveries, link opens, check-ins, sessions and their questions) it derives
// the day's facts and then:
//   - a value score 0–100 from four dimensions (timely information, answers,
//     connections, benefits), weighted by the group's purpose; a dimension
//     without evidence that day adds 0 and says so (what a purpose does not
//     owe, such as a shelf group's conversation, weighs 0 instead);
//   - activity beside the score, never inside it;
//   - noise and health flags, each with its numbers;
//   - Orbit-style member levels with Discourse-style hysteresis, leader
//     candidates, tiers for push targeting and tags.
//
// Score is a pure function of its input so a night can be re-run with the
// same result. Reading the table and writing results is Night's job
// (night.go), through its Stores; which run scores which date and
// the fan-out by shard are in runs.go, the daily report in report.go.
//
// It must not send anything to WeChat or change what push decided; its only
// effect on other areas is the Noisy flag on a group (which, per the group's
// OnNoisy, may thin its SOP content and nothing else) and the tier and tags
// it writes onto members.
package scoring

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// GroupDay is everything recorded about one group for one local day.
type GroupDay struct {
	Group qunyun.Group
	Date  string    // the group's local date, YYYY-MM-DD
	Start time.Time // local midnight of Date
	End   time.Time // the next local midnight
	// Members are the group's members (staff roles included).
	Members []qunyun.Member
	// Log holds the group-day log items from Start to End, plus the
	// deliveries of the 24 h before (for leaves after a push).
	Log DayLog
	// Sessions of the group that started during the day or ran into it
	// (facts count a session on its start day, a question on its own).
	Sessions []SessionDay
	// Contents by id (for the Benefit flag and content tags).
	Contents map[string]qunyun.Content
	// Rules of the group's account: keyword→tag and check-in rewards.
	KeywordRules []qunyun.KeywordRule
	CheckinRules []qunyun.CheckinRule
	// History are the group's stored scores of earlier dates (at most the
	// 27 before Date), oldest first.
	History []qunyun.GroupScore
	// Levels are the members' stored levels, by member id.
	Levels map[string]qunyun.MemberLevel
	// Prizes counts the contest prizes won by each member (by id) in
	// contests that ended during the day.
	Prizes map[string]int
	// Corpus is the words of the groups scored with this one (nil: this
	// group alone); tags pass over words most groups use.
	Corpus *Corpus
}

// DayLog are the items of a group-day log.
type DayLog = qunyun.GroupLog

// SessionDay is one session with its questions.
type SessionDay struct {
	Session   qunyun.Session
	Questions []qunyun.Question
}

// Result is what scoring one group-day produces.
type Result struct {
	Score qunyun.GroupScore
	// Levels are the member levels to store: only those that changed or
	// gained a day (a silent member at the lowest level is not written).
	Levels  []qunyun.MemberLevel
	Leaders []qunyun.LeaderCandidate
	// AllLevels counts every scored member per level name.
	AllLevels map[string]int
}

// Scorer scores group-days. Create it with New or NewLoading.
type Scorer struct {
	texts *Texts
	seg   func() (Segmenter, error) // loads once
}

// New returns a Scorer that tags with seg (nil: the built-in bigram cutter).
func New(seg Segmenter) (*Scorer, error) {
	if seg == nil {
		seg = Bigrams{}
	}
	return NewLoading(func() (Segmenter, error) { return seg, nil })
}

// NewLoading returns a Scorer that calls load for its segmenter once, when
// it first scores a group, not at start-up: gse's dictionaries take one to
// two seconds to load, and most hourly runs score no group
// (docs/performance.md).
func NewLoading(load func() (Segmenter, error)) (*Scorer, error) {
	t, err := LoadTexts()
	if err != nil {
		return nil, err
	}
	return &Scorer{texts: t, seg: sync.OnceValues(load)}, nil
}

// Ready loads the segmenter if it is not loaded yet, and reports whether it
// could be: Night calls it before scoring a group so a failed load fails the
// group, instead of Score tagging with bigrams.
func (s *Scorer) Ready() error {
	if _, err := s.seg(); err != nil {
		return fmt.Errorf("load the word segmenter: %w", err)
	}
	return nil
}

// segmenter is the loaded segmenter, or the built-in bigram cutter when it
// could not load (Night reports that through Ready and scores nothing).
func (s *Scorer) segmenter() Segmenter {
	seg, err := s.seg()
	if err != nil {
		return Bigrams{}
	}
	return seg
}

// Score scores one group-day. It is deterministic: the same day gives the
// same result. It loads the segmenter if needed; if that fails (see Ready)
// it tags with the built-in bigram cutter.
func (s *Scorer) Score(d GroupDay) Result {
	f := s.facts(d)
	score := qunyun.GroupScore{
		GroupID:    d.Group.ID,
		Name:       d.Group.Name,
		Purpose:    purposeOf(d.Group),
		Date:       d.Date,
		Activity:   f.activity,
		Deliveries: f.deliveryStates,
		Heat:       qunyun.Heat{Opens: f.opens, Readers: f.readers, Shares: f.shares},
	}
	score.Dimensions = s.dimensions(score.Purpose, f)
	score.Value = weighted(score.Dimensions)
	score.Value7, score.Value28 = rolling(d.History, d.Date, score.Value)
	score.Flags = s.flags(d, f, score.Value)
	for _, fl := range score.Flags {
		if fl.Kind == qunyun.FlagVolume || fl.Kind == qunyun.FlagAds {
			score.Noisy, score.OnNoisy = true, d.Group.NoisyAction()
		}
	}
	score.Why = render(s.texts.value, map[string]float64{"value": score.Value,
		"messages": float64(f.activity.Messages), "speakers": float64(f.activity.Speakers)},
		map[string]string{"purposeName": s.texts.purposeName(string(score.Purpose)), "size": s.size(f)})
	memberTags, groupTags := s.tags(d, f)
	score.Tags = groupTags
	levels, all, leaders := s.levels(d, f, memberTags)
	score.Leaders, score.Levels = leaders, all
	return Result{Score: score, Levels: levels, Leaders: leaders, AllLevels: all}
}

// size says how big the group is and how we know.
func (s *Scorer) size(f *facts) string {
	kind := "recorded"
	switch {
	case f.members == 0:
		kind = "unknown"
	case f.membersSeen > 0:
		kind = "seen"
	}
	return render(s.texts.size[kind], map[string]float64{"members": float64(f.members), "seen": float64(f.membersSeen)}, nil)
}

func purposeOf(g qunyun.Group) qunyun.Purpose {
	if g.Purpose.Valid() {
		return g.Purpose
	}
	return qunyun.PurposeGeneral
}

// round1 keeps one decimal, so stored scores compare equal across runs and
// read well.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }
