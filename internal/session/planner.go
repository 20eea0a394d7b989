package session

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Planner defaults.
const (
	// DefaultMaxPerWeek applies to a host whose maxPerWeek is 0 (unset):
	// hosts are busy people, so an unset limit is a small one, not none.
	DefaultMaxPerWeek = 3
	// DefaultStep is the grid session starts sit on inside a window.
	DefaultStep = 30 * time.Minute
	// ExceptionDayStart and ExceptionDayEnd bound the extra availability an
	// exception with Available=true adds on its dates (host's local time).
	ExceptionDayStart = 9 * time.Hour
	ExceptionDayEnd   = 21 * time.Hour
	// rotationLookback is how far back past sessions count for rotation.
	rotationLookback = 8 * 7 * 24 * time.Hour
)

// PlanInput is everything the weekly planner looks at. It is plain data, so
// the planner is a pure function: the same input gives the same plan,
// whatever the order of the slices.
type PlanInput struct {
	// WeekStart is the first instant of the week to plan (the tick uses
	// Monday 00:00 Asia/Shanghai); the week is [WeekStart, WeekStart+7d).
	WeekStart time.Time
	Groups    []qunyun.Group
	Hosts     []qunyun.Host
	Targets   []qunyun.SessionTarget
	// Sessions are the sessions already booked around this week and in the
	// weeks before it: they count towards limits, block their hosts and
	// groups, and tell rotation who each group has already seen.
	Sessions []qunyun.Session
	Step     time.Duration // default DefaultStep
	// NotBefore keeps every new session from starting earlier (planning a
	// week already under way must not book the past or the next minutes).
	NotBefore time.Time
}

// Plan is the planner's answer: new sessions to create and every demand it
// could not meet, with the reason.
type Plan struct {
	WeekStart time.Time
	Sessions  []qunyun.Session
	Unmet     []Unmet
	// Notes are input problems the planner worked around (a malformed
	// window, an unknown time zone), so an operator can fix them.
	Notes []string
	// Loads is every host's week, by host id: never over-commit a host is
	// the rule an operator checks first.
	Loads []HostLoad
}

// HostLoad is one host's sessions in the planned week.
type HostLoad struct {
	HostID  string `json:"host"`
	Booked  int    `json:"booked"`  // already in the table (manual or planned before)
	Planned int    `json:"planned"` // added by this plan
	Limit   int    `json:"limit"`   // maxPerWeek, default filled in
}

// Unmet is a group's demand the plan falls short of.
type Unmet struct {
	GroupID string `json:"group"`
	Wanted  int    `json:"wanted"`  // sessions still wanted this week
	Planned int    `json:"planned"` // of those, how many the plan found
	Reason  string `json:"reason"`
}

func (u Unmet) String() string {
	return fmt.Sprintf("group %s: planned %d of %d: %s", u.GroupID, u.Planned, u.Wanted, u.Reason)
}

// interval is a half-open span of absolute time in Unix seconds: the
// planner compares millions of them, and integers compare fast.
type interval struct{ start, end int64 }

func span(a, b time.Time) interval { return interval{a.Unix(), b.Unix()} }

func (a interval) overlaps(b interval) bool { return a.start < b.end && b.start < a.end }

// hostState is a host during planning.
type hostState struct {
	host      qunyun.Host
	max       int
	rest      int64      // seconds
	available []interval // this week's availability, sorted
	busy      []interval // booked sessions (past and planned), widened by rest on both sides
	load      int        // sessions in this week
	booked    int        // of load, those booked before this plan
	topicNext int
}

// groupState is a group during planning.
type groupState struct {
	group    qunyun.Group
	target   qunyun.SessionTarget
	quiet    func(interval) bool
	booked   []interval       // this week's sessions in the group
	seen     map[string]int   // host id → sessions with this host (lookback + plan)
	thisWeek map[string]int   // host id → sessions with this host in the week
	lastSaw  map[string]int64 // Unix seconds; 0 = never
	wanted   int
	planned  int
	used     map[string]bool // session ids already taken
	nextN    int
	reason   string
}

// PlanWeek plans one week. It never books a host outside their availability,
// over maxPerWeek, closer than minRestHours to another of their sessions or
// twice at once; never puts two sessions of one group at once or in the
// group's quiet hours; and for each group explains any shortfall.
func PlanWeek(in PlanInput) Plan {
	step := in.Step
	if step <= 0 {
		step = DefaultStep
	}
	week := span(in.WeekStart, in.WeekStart.Add(7*24*time.Hour))
	plan := Plan{WeekStart: in.WeekStart}

	hosts := slices.Clone(in.Hosts)
	slices.SortFunc(hosts, func(a, b qunyun.Host) int { return cmp.Compare(a.ID, b.ID) })
	hs, notes := hostStates(hosts, week)
	plan.Notes = notes
	groups := resolveTargets(in.Groups, in.Targets, week)
	gs := make(map[string]*groupState, len(groups))
	for _, g := range groups {
		gs[g.group.ID] = g
	}
	countBooked(in.Sessions, in.WeekStart, week, hs, gs)
	plan.Sessions = bookRounds(groups, hosts, hs, step, week, in.NotBefore)

	for _, h := range hosts {
		st := hs[h.ID]
		plan.Loads = append(plan.Loads, HostLoad{HostID: h.ID, Booked: st.booked, Planned: st.load - st.booked, Limit: st.max})
	}
	for _, g := range groups {
		if g.wanted > 0 && g.planned < g.wanted {
			plan.Unmet = append(plan.Unmet, Unmet{GroupID: g.group.ID, Wanted: g.wanted, Planned: g.planned, Reason: g.reason})
		}
	}
	slices.SortFunc(plan.Sessions, func(a, b qunyun.Session) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID))
	})
	return plan
}

// hostStates sets up every host for planning the week: limit, rest and
// availability; notes are the host records' problems it worked around.
func hostStates(hosts []qunyun.Host, week interval) (map[string]*hostState, []string) {
	var notes []string
	hs := make(map[string]*hostState, len(hosts))
	for _, h := range hosts {
		st := &hostState{host: h, max: h.MaxPerWeek, rest: int64(h.MinRestHours * 3600)}
		if st.max <= 0 {
			st.max = DefaultMaxPerWeek
		}
		var hostNotes []string
		st.available, hostNotes = availability(h, week)
		notes = append(notes, hostNotes...)
		hs[h.ID] = st
	}
	return hs, notes
}

// countBooked counts the sessions already booked against the hosts' limits
// and rest and the groups' wants, and notes who each group has seen for
// rotation.
func countBooked(sessions []qunyun.Session, weekStart time.Time, week interval, hs map[string]*hostState, gs map[string]*groupState) {
	past := slices.Clone(sessions)
	slices.SortFunc(past, func(a, b qunyun.Session) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID))
	})
	for _, s := range past {
		if s.State == qunyun.SessionCancelled {
			// A cancelled planned session still holds its id and its place in
			// the count, so re-planning never silently replaces it.
			if g := gs[s.GroupID]; g != nil && !s.Manual && week.contains(s.Start) {
				g.used[s.ID] = true
				g.wanted--
			}
			continue
		}
		iv := span(s.Start, s.End)
		if h := hs[s.HostID]; h != nil {
			h.busy = append(h.busy, h.widen(iv))
			if week.contains(s.Start) {
				h.load++
			}
		}
		g := gs[s.GroupID]
		if g == nil {
			continue
		}
		if s.Start.After(weekStart.Add(-rotationLookback)) {
			g.seen[s.HostID]++
			g.lastSaw[s.HostID] = s.Start.Unix()
		}
		if week.contains(s.Start) {
			g.thisWeek[s.HostID]++
			g.booked = append(g.booked, iv)
			g.used[s.ID] = true
			g.wanted--
		}
	}
	for _, h := range hs {
		h.booked = h.load
	}
}

// bookRounds books the groups' wanted sessions in rounds: every group gets
// its first session before any gets its second, VIP groups first within a
// round, so scarce hosts are shared and VIP groups are served first when
// supply runs out.
func bookRounds(groups []*groupState, hosts []qunyun.Host, hs map[string]*hostState, step time.Duration, week interval, notBefore time.Time) []qunyun.Session {
	order := slices.Clone(groups)
	slices.SortStableFunc(order, func(a, b *groupState) int {
		return cmp.Or(cmp.Compare(tierRank(a.group), tierRank(b.group)), cmp.Compare(a.group.ID, b.group.ID))
	})
	maxWanted := 0
	for _, g := range order {
		maxWanted = max(maxWanted, g.wanted)
	}
	var sessions []qunyun.Session
	for round := 0; round < maxWanted; round++ {
		for _, g := range order {
			// A group that found no slot once will not find one later:
			// every booking only narrows the choice.
			if g.planned >= g.wanted || g.reason != "" {
				continue
			}
			s, ok, why := bestSlot(g, hosts, hs, step, week, notBefore)
			if !ok {
				g.reason = why
				continue
			}
			sessions = append(sessions, s)
			g.planned++
		}
	}
	return sessions
}

func (w interval) contains(t time.Time) bool { return t.Unix() >= w.start && t.Unix() < w.end }

func tierRank(g qunyun.Group) int {
	if g.Tier == "vip" || g.Purpose == qunyun.PurposeVIP {
		return 0
	}
	return 1
}

func groupTier(g qunyun.Group) string {
	if g.Tier == "" {
		return "regular"
	}
	return g.Tier
}

// resolveTargets pairs every live group with its target: its own, else its
// tier's.
func resolveTargets(groups []qunyun.Group, targets []qunyun.SessionTarget, week interval) []*groupState {
	byKey := make(map[string]qunyun.SessionTarget, len(targets))
	for _, t := range targets {
		byKey[t.Key()] = t
	}
	sorted := slices.Clone(groups)
	slices.SortFunc(sorted, func(a, b qunyun.Group) int { return cmp.Compare(a.ID, b.ID) })
	var out []*groupState
	for _, g := range sorted {
		t, ok := byKey["group:"+g.ID]
		if !ok {
			t, ok = byKey["tier:"+groupTier(g)]
		}
		if !ok || t.PerWeek <= 0 || g.State == qunyun.GroupDismissed {
			continue
		}
		st := &groupState{
			group: g, target: t, wanted: t.PerWeek,
			seen: map[string]int{}, thisWeek: map[string]int{}, lastSaw: map[string]int64{}, used: map[string]bool{},
			quiet: quietCheck(g, week),
		}
		if g.State == qunyun.GroupPaused {
			st.reason = "the group is paused"
		}
		out = append(out, st)
	}
	return out
}

// eligible reports whether the host may serve the group.
func eligible(h qunyun.Host, g qunyun.Group) bool {
	if len(h.Groups) == 0 && len(h.Tiers) == 0 {
		return true
	}
	return slices.Contains(h.Groups, g.ID) || slices.Contains(h.Tiers, groupTier(g))
}

// nextID gives the group's next planned session id for the week: stable, so
// planning the same week again finds the sessions it already created.
func (g *groupState) nextID(weekStart time.Time) string {
	for {
		g.nextN++
		id := PlannedSessionID(weekStart, g.group.ID, g.nextN)
		if !g.used[id] {
			g.used[id] = true
			return id
		}
	}
}

// PlannedSessionID is the id of the n-th planned session of a group in the
// week starting at weekStart.
func PlannedSessionID(weekStart time.Time, groupID string, n int) string {
	return fmt.Sprintf("w%s-%s-%d", weekStart.In(qunyun.LoadLocation("")).Format("20060102"), groupID, n)
}

// widen grows a booking by the host's rest time on both sides, so one
// overlap test covers both double-booking and rest.
func (h *hostState) widen(iv interval) interval {
	return interval{iv.start - h.rest, iv.end + h.rest}
}
