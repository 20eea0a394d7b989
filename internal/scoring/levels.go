package scoring

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Contribution weights (Orbit-style, reference/community-anchors.md §4.3):
// answering others counts more than sharing content, sharing more than
// asking, asking more than chatting. Reading is presence worth a point.
const (
	weightAnswer = 6
	// An approved contribution is content made for the whole community,
	// reviewed by staff: it weighs like an answer.
	weightContributed = 6
	weightShare       = 4
	weightQuestion    = 3
	weightChat        = 1
	weightRead        = 1
	// A day's chat counts at most this many messages, and a day at most
	// dayCap points, so a flood of chatter never makes a leader.
	chatCap = 8
	dayCap  = 24.0
	// windowDays is the look-back of a level; GraceDays how long a member
	// keeps a level their recent days no longer earn (Discourse: 14 days).
	windowDays = 28
	GraceDays  = 14
)

// Points weighs one day's contributions.
func Points(c qunyun.Contributions) float64 {
	p := float64(weightAnswer*c.Answers + weightContributed*c.Contributed + weightShare*c.Shares + weightQuestion*c.Questions +
		weightChat*min(c.Chats, chatCap) + weightRead*c.Reads)
	return math.Min(p, dayCap)
}

// RawLevel places a member by the window's presence (active days) and
// contributions, before hysteresis.
func RawLevel(presence int, points float64, w qunyun.Contributions) qunyun.Level {
	switch {
	case presence >= 10 && w.Answers >= 5 && points >= 80:
		return qunyun.LevelLeading
	case presence >= 5 && w.Answers+w.Shares+w.Contributed >= 3 && points >= 30:
		return qunyun.LevelContributing
	case presence >= 2 && points >= 4:
		return qunyun.LevelParticipating
	}
	return qunyun.LevelExploring
}

// Hysteresis applies Discourse-style stickiness: a member is promoted at
// once, but demoted only once their raw level has stayed below the held one
// for GraceDays days in a row; one good day resets the count. belowSince is
// the first date of the current run below ("" for none).
func Hysteresis(held qunyun.Level, belowSince string, raw qunyun.Level, date string) (qunyun.Level, string) {
	if raw >= held {
		return raw, ""
	}
	if belowSince == "" {
		belowSince = date
	}
	if daysBetween(belowSince, date) >= GraceDays {
		return raw, ""
	}
	return held, belowSince
}

// Tier is the push-targeting tier of a level.
func Tier(l qunyun.Level) string {
	switch {
	case l >= qunyun.LevelContributing:
		return qunyun.TierCore
	case l == qunyun.LevelParticipating:
		return qunyun.TierActive
	}
	return qunyun.TierQuiet
}

func daysBetween(from, to string) int {
	a, err1 := time.Parse(time.DateOnly, from)
	b, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return 0
	}
	return int(math.Round(b.Sub(a).Hours() / 24))
}

// levels updates the members' levels with the day. It returns the levels to
// store, the count per level of every member scored and the leader
// candidates.
func (s *Scorer) levels(d GroupDay, f *facts, tags map[string][]string) ([]qunyun.MemberLevel, map[string]int, []qunyun.LeaderCandidate) {
	staff := map[string]bool{}
	ids := map[string]bool{}
	for _, m := range d.Members {
		if m.Role.Staff() {
			staff[m.ID] = true
		}
		if inGroupAt(m, d.End) {
			ids[m.ID] = true
		}
	}
	for id := range f.contrib {
		ids[id] = true
	}
	for id := range d.Levels {
		ids[id] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)

	counts := map[string]int{}
	var out []qunyun.MemberLevel
	var leaders []qunyun.LeaderCandidate
	for _, id := range sorted {
		prev, stored := d.Levels[id]
		today := qunyun.Contributions{}
		if c := f.contrib[id]; c != nil {
			today = *c
		}
		lv, changed := s.memberLevel(d.Group.ID, id, d.Date, prev, stored, today, tags[id])
		if n := f.names[id]; n != "" {
			lv.Name = n
		} else if lv.Name == "" {
			lv.Name = prev.Name
		}
		counts[lv.Level.String()]++
		if changed {
			out = append(out, lv)
		}
		if !staff[id] {
			if c, ok := s.leader(lv); ok {
				leaders = append(leaders, c)
			}
		}
	}
	return out, counts, leaders
}

// memberLevel folds today into a member's stored level. It only looks at
// days up to date, so re-running an earlier night gives the same answer.
// changed is false when nothing worth a write happened.
func (s *Scorer) memberLevel(group, id, date string, prev qunyun.MemberLevel, stored bool, today qunyun.Contributions, tags []string) (qunyun.MemberLevel, bool) {
	var before *qunyun.MemberDay // the latest stored day before date
	days := make([]qunyun.MemberDay, 0, len(prev.Days)+1)
	for _, md := range prev.Days {
		if md.Date == date {
			continue
		}
		if md.Date < date && (before == nil || md.Date > before.Date) {
			b := md
			before = &b
		}
		days = append(days, md)
	}
	held, belowSince := qunyun.LevelExploring, ""
	if before != nil {
		held, belowSince = before.Level, before.BelowSince
	}
	var window qunyun.Contributions
	presence, points := 0, 0.0
	addDay := func(c qunyun.Contributions) {
		if c != (qunyun.Contributions{}) {
			presence++
		}
		points += Points(c)
		window.Answers += c.Answers
		window.Shares += c.Shares
		window.Contributed += c.Contributed
		window.Questions += c.Questions
		window.Chats += c.Chats
		window.Reads += c.Reads
	}
	for _, md := range days {
		if md.Date < date && daysBetween(md.Date, date) < windowDays {
			addDay(md.Contributions)
		}
	}
	addDay(today)
	raw := RawLevel(presence, points, window)
	level, below := Hysteresis(held, belowSince, raw, date)

	worth := today != (qunyun.Contributions{}) || before == nil && level > qunyun.LevelExploring ||
		before != nil && (before.Raw != raw || before.Level != level || before.BelowSince != below)
	if !worth && !stored {
		return qunyun.MemberLevel{GroupID: group, MemberID: id, Level: level}, false
	}
	if !worth {
		// Nothing new: the stored item still tells the truth.
		return prev, false
	}
	days = append(days, qunyun.MemberDay{Date: date, Contributions: today, Raw: raw, Level: level, BelowSince: below})
	sort.Slice(days, func(i, j int) bool { return days[i].Date < days[j].Date })
	// Keep the window, plus the latest day before it (it carries the state).
	newest := days[len(days)-1].Date
	keep := days[:0]
	for i, md := range days {
		if daysBetween(md.Date, newest) < windowDays || i == len(days)-1 {
			keep = append(keep, md)
		}
	}
	lv := qunyun.MemberLevel{GroupID: group, MemberID: id, Name: prev.Name, Days: keep,
		Presence: presence, Points: round1(points), Window: window, Tags: mergeTags(tags, prev.Tags)}
	// The headline fields follow the newest day, so re-running an older
	// night never rolls them back.
	last := keep[len(keep)-1]
	lv.Date, lv.Level, lv.BelowSince = last.Date, last.Level, last.BelowSince
	if last.Date != date {
		lv.Presence, lv.Points, lv.Window, lv.Tags = prev.Presence, prev.Points, prev.Window, prev.Tags
	}
	lv.Tier = Tier(lv.Level)
	nums := map[string]float64{"presence": float64(lv.Presence), "points": lv.Points,
		"answers": float64(lv.Window.Answers), "shares": float64(lv.Window.Shares),
		"questions": float64(lv.Window.Questions), "chats": float64(lv.Window.Chats), "reads": float64(lv.Window.Reads),
		"contributed": float64(lv.Window.Contributed)}
	lv.Why = render(s.texts.level, nums, nil)
	if lv.BelowSince != "" {
		lv.Why += render(s.texts.levelHeld, map[string]float64{"belowDays": float64(daysBetween(lv.BelowSince, lv.Date))}, nil)
	}
	return lv, true
}

// mergeTags keeps today's tags first, then the earlier ones, at most 8.
func mergeTags(today, before []string) []string {
	var out []string
	for _, t := range append(slices.Clone(today), before...) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
		if len(out) == 8 {
			break
		}
	}
	return out
}

// Leader thresholds over the 28-day window (seed 002: find the members who
// stand out and make them moderators or content editors).
const (
	leaderAnswers  = 5
	leaderShares   = 5
	leaderPresence = 8
)

func (s *Scorer) leader(lv qunyun.MemberLevel) (qunyun.LeaderCandidate, bool) {
	if lv.Level < qunyun.LevelContributing || lv.Presence < leaderPresence {
		return qunyun.LeaderCandidate{}, false
	}
	nums := map[string]float64{"answers": float64(lv.Window.Answers), "shares": float64(lv.Window.Shares),
		"presence": float64(lv.Presence), "points": lv.Points}
	role := qunyun.Role("")
	switch {
	case lv.Window.Answers >= leaderAnswers && lv.Window.Answers >= lv.Window.Shares:
		role = qunyun.RoleModerator
	case lv.Window.Shares >= leaderShares:
		role = qunyun.RoleEditor
	default:
		return qunyun.LeaderCandidate{}, false
	}
	c := qunyun.LeaderCandidate{GroupID: lv.GroupID, MemberID: lv.MemberID, Name: lv.Name, Role: role,
		Numbers: nums, Why: render(s.texts.leaders[string(role)], nums, nil)}
	c.Promote = c.PromoteCommand()
	return c, true
}
