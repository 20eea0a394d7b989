package session

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
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
	past := slices.Clone(in.Sessions)
	slices.SortFunc(past, func(a, b qunyun.Session) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID))
	})

	hs := make(map[string]*hostState, len(hosts))
	for _, h := range hosts {
		st := &hostState{host: h, max: h.MaxPerWeek, rest: int64(h.MinRestHours * 3600)}
		if st.max <= 0 {
			st.max = DefaultMaxPerWeek
		}
		var notes []string
		st.available, notes = availability(h, week)
		plan.Notes = append(plan.Notes, notes...)
		hs[h.ID] = st
	}

	groups := resolveTargets(in.Groups, in.Targets, week)
	gs := make(map[string]*groupState, len(groups))
	for _, g := range groups {
		gs[g.group.ID] = g
	}

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
		if s.Start.After(in.WeekStart.Add(-rotationLookback)) {
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

	// Rounds: every group gets its first session before any gets its
	// second, VIP groups first within a round, so scarce hosts are shared
	// and VIP groups are served first when supply runs out.
	order := slices.Clone(groups)
	slices.SortStableFunc(order, func(a, b *groupState) int {
		return cmp.Or(cmp.Compare(tierRank(a.group), tierRank(b.group)), cmp.Compare(a.group.ID, b.group.ID))
	})
	maxWanted := 0
	for _, g := range order {
		maxWanted = max(maxWanted, g.wanted)
	}
	for round := 0; round < maxWanted; round++ {
		for _, g := range order {
			// A group that found no slot once will not find one later:
			// every booking only narrows the choice.
			if g.planned >= g.wanted || g.reason != "" {
				continue
			}
			s, ok, why := bestSlot(g, hosts, hs, step, week, in.NotBefore)
			if !ok {
				g.reason = why
				continue
			}
			plan.Sessions = append(plan.Sessions, s)
			g.planned++
		}
	}

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

// quietCheck reports whether a session would touch the group's quiet hours,
// when push would hold its announcement back. The quiet spans of the week
// are computed once, so the check is a few comparisons: the planner asks it
// for every candidate slot.
func quietCheck(g qunyun.Group, week interval) func(interval) bool {
	caps := g.EffectiveCaps()
	qs, err1 := clockMinutes(caps.QuietStart)
	qe, err2 := clockMinutes(caps.QuietEnd)
	if err1 != nil || err2 != nil || qs == qe {
		return func(interval) bool { return false }
	}
	loc := g.Location()
	first := time.Unix(week.start, 0).In(loc)
	var quiet []interval
	for i := -1; i <= 7; i++ {
		day := time.Date(first.Year(), first.Month(), first.Day()+i, 0, 0, 0, 0, loc)
		at := func(dayOffset, min int) time.Time {
			return time.Date(day.Year(), day.Month(), day.Day()+dayOffset, min/60, min%60, 0, 0, loc)
		}
		if qs < qe {
			quiet = append(quiet, span(at(0, qs), at(0, qe)))
		} else {
			quiet = append(quiet, span(at(0, qs), at(1, qe)))
		}
	}
	return func(iv interval) bool { return clashes(iv, quiet) }
}

// clockMinutes parses "HH:MM" into minutes after midnight.
func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

var weekdays = map[string]time.Weekday{
	"MON": time.Monday, "TUE": time.Tuesday, "WED": time.Wednesday, "THU": time.Thursday,
	"FRI": time.Friday, "SAT": time.Saturday, "SUN": time.Sunday,
}

// availability turns a host's weekly windows (in their own zone) and
// exceptions into absolute intervals inside the week.
func availability(h qunyun.Host, week interval) ([]interval, []string) {
	var notes []string
	loc, err := time.LoadLocation(cmp.Or(h.TimeZone, qunyun.DefaultTimeZone))
	if err != nil {
		notes = append(notes, fmt.Sprintf("host %s: time zone %q unknown, using %s", h.ID, h.TimeZone, qunyun.DefaultTimeZone))
		loc = qunyun.LoadLocation("")
	}
	type dayRange struct{ from, to string }
	var off, on []dayRange
	for _, e := range h.Exceptions {
		if _, err1 := time.Parse(time.DateOnly, e.From); err1 != nil {
			notes = append(notes, fmt.Sprintf("host %s: exception from %q is not YYYY-MM-DD; ignored", h.ID, e.From))
			continue
		}
		to := cmp.Or(e.To, e.From)
		if _, err2 := time.Parse(time.DateOnly, to); err2 != nil {
			notes = append(notes, fmt.Sprintf("host %s: exception to %q is not YYYY-MM-DD; ignored", h.ID, e.To))
			continue
		}
		if e.Available {
			on = append(on, dayRange{e.From, to})
		} else {
			off = append(off, dayRange{e.From, to})
		}
	}
	in := func(rs []dayRange, date string) bool {
		for _, r := range rs {
			if date >= r.from && date <= r.to {
				return true
			}
		}
		return false
	}

	var out []interval
	add := func(from, to time.Time) {
		iv := span(from, to)
		iv.start, iv.end = max(iv.start, week.start), min(iv.end, week.end)
		if iv.start < iv.end {
			out = append(out, iv)
		}
	}
	type window struct {
		day        time.Weekday
		start, end int
	}
	var windows []window
	for _, w := range h.Availability {
		d, ok := weekdays[strings.ToUpper(w.Day)]
		s, err1 := clockMinutes(w.Start)
		e, err2 := clockMinutes(w.End)
		if w.End == "24:00" {
			e, err2 = 24*60, nil
		}
		if !ok || err1 != nil || err2 != nil || e <= s {
			notes = append(notes, fmt.Sprintf("host %s: window %s %s-%s is not a day MON..SUN with start before end; ignored", h.ID, w.Day, w.Start, w.End))
			continue
		}
		windows = append(windows, window{d, s, e})
	}
	// Walk the host's local days that overlap the week (a day either side
	// covers any zone offset).
	first := time.Unix(week.start, 0).In(loc)
	day0 := time.Date(first.Year(), first.Month(), first.Day()-1, 0, 0, 0, 0, loc)
	for i := 0; i < 9; i++ {
		day := time.Date(day0.Year(), day0.Month(), day0.Day()+i, 0, 0, 0, 0, loc)
		date := day.Format(time.DateOnly)
		at := func(min int) time.Time {
			return time.Date(day.Year(), day.Month(), day.Day(), min/60, min%60, 0, 0, loc)
		}
		if in(on, date) {
			add(at(int(ExceptionDayStart/time.Minute)), at(int(ExceptionDayEnd/time.Minute)))
		}
		if in(off, date) {
			continue
		}
		for _, w := range windows {
			if w.day == day.Weekday() {
				add(at(w.start), at(w.end))
			}
		}
	}
	slices.SortFunc(out, func(a, b interval) int { return cmp.Compare(a.start, b.start) })
	return out, notes
}

// eligible reports whether the host may serve the group.
func eligible(h qunyun.Host, g qunyun.Group) bool {
	if len(h.Groups) == 0 && len(h.Tiers) == 0 {
		return true
	}
	return slices.Contains(h.Groups, g.ID) || slices.Contains(h.Tiers, groupTier(g))
}

// candidate is a possible booking, with the scores that rank it.
type candidate struct {
	host     *hostState
	iv       interval
	tooClose bool  // nearer than half the ideal spacing to the group's other sessions
	again    int   // sessions the group already has with this host this week
	seen     int   // how often the group has had this host lately
	gap      int64 // seconds to the group's nearest session, capped at the ideal
	lastSaw  int64 // when the group last had this host (Unix seconds, 0 = never)
}

// better ranks candidates: a host new to the group this week first, then
// spread (no bunching), then rotation over time (the host the group has seen
// least, longest ago), then the larger gap, the less loaded host, the
// earlier start and the host id, so ties are deterministic.
func (c candidate) better(o candidate) bool {
	if c.again != o.again {
		return c.again < o.again
	}
	if c.tooClose != o.tooClose {
		return !c.tooClose
	}
	if c.seen != o.seen {
		return c.seen < o.seen
	}
	if c.gap != o.gap {
		return c.gap > o.gap
	}
	if c.lastSaw != o.lastSaw {
		return c.lastSaw < o.lastSaw
	}
	if c.host.load != o.host.load {
		return c.host.load < o.host.load
	}
	if c.iv.start != o.iv.start {
		return c.iv.start < o.iv.start
	}
	return c.host.host.ID < o.host.host.ID
}

// bestSlot finds the best booking for one more session in g, books it and
// returns it; or says why there is none.
func bestSlot(g *groupState, hosts []qunyun.Host, hs map[string]*hostState, step time.Duration, week interval, notBefore time.Time) (qunyun.Session, bool, string) {
	minutes := g.target.SessionMinutes()
	dur := int64(minutes) * 60
	ideal := int64(7*24*3600) / int64(max(g.target.PerWeek, 1))
	stepS, notBeforeS := int64(step/time.Second), notBefore.Unix()
	var best candidate
	found := false
	var nEligible, nCapacity, nWindows, nQuietOnly int
	for _, h := range hosts {
		st := hs[h.ID]
		if !eligible(h, g.group) {
			continue
		}
		nEligible++
		if st.load >= st.max {
			continue
		}
		nCapacity++
		if found && best.again < g.thisWeek[h.ID] {
			// Cannot beat the best: it is a host new to the group this week.
			continue
		}
		hasWindow, notQuiet := false, false
		for _, av := range st.available {
			for start := av.start; start+dur <= av.end; start += stepS {
				if start < notBeforeS {
					continue
				}
				iv := interval{start, start + dur}
				hasWindow = true
				if g.quiet(iv) {
					continue
				}
				notQuiet = true
				if clashes(iv, st.busy) || clashes(iv, g.booked) {
					continue
				}
				c := candidate{host: st, iv: iv, again: g.thisWeek[h.ID], seen: g.seen[h.ID], lastSaw: g.lastSaw[h.ID], gap: ideal}
				for _, b := range g.booked {
					d := min(abs(iv.start-b.start), ideal)
					c.gap = min(c.gap, d)
				}
				c.tooClose = c.gap < ideal/2
				if !found || c.better(best) {
					best, found = c, true
				}
			}
		}
		if hasWindow {
			nWindows++
		}
		if hasWindow && !notQuiet {
			nQuietOnly++
		}
	}
	if !found {
		switch {
		case nEligible == 0:
			return qunyun.Session{}, false, fmt.Sprintf("no host may serve this group (tier %s)", groupTier(g.group))
		case nCapacity == 0:
			return qunyun.Session{}, false, fmt.Sprintf("all %d eligible hosts are at their weekly limit", nEligible)
		case nWindows == 0:
			return qunyun.Session{}, false, fmt.Sprintf("none of the %d eligible hosts with capacity has a %d-minute window this week", nCapacity, minutes)
		case nQuietOnly == nWindows:
			return qunyun.Session{}, false, "the eligible hosts are only available in the group's quiet hours"
		default:
			return qunyun.Session{}, false, "every free window of the eligible hosts clashes with their other sessions, their rest time or this group's sessions"
		}
	}

	h := best.host
	h.busy = append(h.busy, h.widen(best.iv))
	h.load++
	g.booked = append(g.booked, best.iv)
	g.seen[h.host.ID]++
	g.thisWeek[h.host.ID]++
	g.lastSaw[h.host.ID] = best.iv.start
	topic := ""
	if n := len(h.host.Topics); n > 0 {
		topic = h.host.Topics[h.topicNext%n]
		h.topicNext++
	}
	return qunyun.Session{
		ID:        g.nextID(time.Unix(week.start, 0)),
		GroupID:   g.group.ID,
		HostID:    h.host.ID,
		Topic:     topic,
		Start:     time.Unix(best.iv.start, 0).UTC(),
		End:       time.Unix(best.iv.end, 0).UTC(),
		State:     qunyun.SessionScheduled,
		AccountID: g.group.AccountID,
	}, true, ""
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

// clashes reports whether iv overlaps any of busy.
func clashes(iv interval, busy []interval) bool {
	for _, b := range busy {
		if iv.overlaps(b) {
			return true
		}
	}
	return false
}

// widen grows a booking by the host's rest time on both sides, so one
// overlap test covers both double-booking and rest.
func (h *hostState) widen(iv interval) interval {
	return interval{iv.start - h.rest, iv.end + h.rest}
}

func abs(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}
