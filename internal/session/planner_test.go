package session_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

var shanghai = qunyun.LoadLocation("Asia/Shanghai")

// monday is the week the tests plan: Monday 23 Nov 2026, 00:00 Shanghai.
var monday = time.Date(2026, 11, 23, 0, 0, 0, 0, shanghai)

func evenings(days ...string) []qunyun.Window {
	var ws []qunyun.Window
	for _, d := range days {
		ws = append(ws, qunyun.Window{Day: d, Start: "19:00", End: "21:00"})
	}
	return ws
}

func tenGroupsFourHosts() session.PlanInput {
	in := session.PlanInput{WeekStart: monday}
	for i := 1; i <= 10; i++ {
		g := qunyun.Group{ID: fmt.Sprintf("g%02d", i), Tier: "regular", AccountID: "wecom1"}
		if i <= 2 {
			g.Tier = "vip"
		}
		in.Groups = append(in.Groups, g)
	}
	in.Targets = []qunyun.SessionTarget{{Tier: "regular", PerWeek: 2}, {Tier: "vip", PerWeek: 3, Minutes: 60}}
	in.Hosts = []qunyun.Host{
		{ID: "founder", TimeZone: "Asia/Shanghai", MaxPerWeek: 4, MinRestHours: 20, Availability: evenings("MON", "WED", "FRI", "SUN"), Tiers: []string{"vip"}},
		{ID: "expert-a", TimeZone: "Asia/Shanghai", MaxPerWeek: 6, MinRestHours: 0.5, Availability: append(evenings("TUE", "THU"), qunyun.Window{Day: "SAT", Start: "10:00", End: "16:00"})},
		// In Europe: her 13:00–15:00 is Shanghai's 20:00–22:00 (quiet hours begin at 22:00).
		{ID: "expert-b", TimeZone: "Europe/Berlin", MaxPerWeek: 6, MinRestHours: 2, Availability: []qunyun.Window{
			{Day: "MON", Start: "12:00", End: "15:00"}, {Day: "WED", Start: "12:00", End: "15:00"}, {Day: "FRI", Start: "12:00", End: "15:00"},
			{Day: "SAT", Start: "05:00", End: "09:00"}, {Day: "SUN", Start: "05:00", End: "09:00"}},
			Exceptions: []qunyun.Exception{{From: "2026-11-25", To: "2026-11-25", Reason: "travel"}}},
		{ID: "coach", TimeZone: "Asia/Shanghai", MaxPerWeek: 12, Availability: []qunyun.Window{
			{Day: "MON", Start: "12:00", End: "14:00"}, {Day: "TUE", Start: "12:00", End: "14:00"}, {Day: "WED", Start: "12:00", End: "14:00"},
			{Day: "THU", Start: "12:00", End: "14:00"}, {Day: "FRI", Start: "12:00", End: "14:00"}, {Day: "SAT", Start: "20:00", End: "21:30"}}},
	}
	return in
}

func TestPlanTenGroupsFourHosts(t *testing.T) {
	in := tenGroupsFourHosts()
	plan := session.PlanWeek(in)
	checkPlan(t, in, plan)
	for _, u := range plan.Unmet {
		t.Logf("unmet: %s", u)
	}
	if len(plan.Unmet) != 0 {
		t.Fatalf("expected a full plan, got %d unmet", len(plan.Unmet))
	}
	if len(plan.Sessions) != 8*2+2*3 {
		t.Fatalf("planned %d sessions, want 22", len(plan.Sessions))
	}
	// Rotation within the week: no group sees a host twice while others could serve it.
	for g, hosts := range hostsByGroup(plan.Sessions) {
		if dup := firstDuplicate(hosts); dup != "" {
			t.Errorf("group %s sees host %s twice in one week: %v", g, dup, hosts)
		}
	}
	// VIP groups got the founder (only VIP groups may have her).
	for _, s := range plan.Sessions {
		if s.HostID == "founder" && s.GroupID != "g01" && s.GroupID != "g02" {
			t.Errorf("founder planned in non-VIP group %s", s.GroupID)
		}
	}

	// Rotation over time: plan the next week with this one as history; no
	// regular group gets the same pair of hosts again.
	next := in
	next.WeekStart = monday.AddDate(0, 0, 7)
	next.Sessions = plan.Sessions
	plan2 := session.PlanWeek(next)
	checkPlan(t, next, plan2)
	first, second := hostsByGroup(plan.Sessions), hostsByGroup(plan2.Sessions)
	same := 0
	for g := range second {
		a, b := slices.Sorted(slices.Values(first[g])), slices.Sorted(slices.Values(second[g]))
		if slices.Equal(a, b) {
			same++
		}
	}
	if same > 2 {
		t.Errorf("%d of 10 groups got the same hosts two weeks running: %v / %v", same, first, second)
	}
	t.Logf("week 1: %v", first)
	t.Logf("week 2: %v", second)

	// Spread: two sessions of one group are never on the same local day.
	for g, ss := range sessionsByGroup(plan.Sessions) {
		days := map[string]bool{}
		for _, s := range ss {
			d := s.Start.In(shanghai).Format(time.DateOnly)
			if days[d] {
				t.Errorf("group %s has two sessions on %s", g, d)
			}
			days[d] = true
		}
	}
}

func TestPlanIdempotentAgainstBookedSessions(t *testing.T) {
	in := tenGroupsFourHosts()
	plan := session.PlanWeek(in)
	again := in
	again.Sessions = plan.Sessions
	plan2 := session.PlanWeek(again)
	if len(plan2.Sessions) != 0 || len(plan2.Unmet) != 0 {
		t.Fatalf("re-planning a planned week added %d sessions, %d unmet", len(plan2.Sessions), len(plan2.Unmet))
	}
	// A cancelled planned session is not silently replaced.
	again.Sessions = slices.Clone(plan.Sessions)
	again.Sessions[0].State = qunyun.SessionCancelled
	if p := session.PlanWeek(again); len(p.Sessions) != 0 {
		t.Fatalf("a cancelled session was re-planned: %+v", p.Sessions)
	}
	// Losing one booked session (say, a crash mid-write) plans exactly one more, with a fresh id.
	again.Sessions = slices.Clone(plan.Sessions[1:])
	p := session.PlanWeek(again)
	if len(p.Sessions) != 1 || p.Sessions[0].GroupID != plan.Sessions[0].GroupID {
		t.Fatalf("re-plan after a lost session: %+v", p.Sessions)
	}
	for _, s := range again.Sessions {
		if s.ID == p.Sessions[0].ID && s.GroupID == p.Sessions[0].GroupID {
			t.Fatalf("id %s reused", s.ID)
		}
	}
}

func TestPlanAdversarial(t *testing.T) {
	groups := []qunyun.Group{{ID: "a"}, {ID: "b"}, {ID: "c", Tier: "vip"}}
	target := []qunyun.SessionTarget{{Tier: "regular", PerWeek: 2}, {Tier: "vip", PerWeek: 3}}
	cases := []struct {
		name      string
		hosts     []qunyun.Host
		groups    []qunyun.Group
		wantPlan  int
		wantWhy   string
		wantUnmet int
	}{
		{name: "no hosts", wantWhy: "no host may serve", wantUnmet: 3},
		{name: "one host, no availability", hosts: []qunyun.Host{{ID: "h", MaxPerWeek: 5}}, wantWhy: "has a 45-minute window", wantUnmet: 3},
		{name: "one host, demand greater than supply",
			hosts:    []qunyun.Host{{ID: "h", MaxPerWeek: 2, Availability: evenings("MON", "TUE", "WED", "THU", "FRI")}},
			wantPlan: 2, wantWhy: "weekly limit", wantUnmet: 3},
		{name: "host only for vip",
			hosts:    []qunyun.Host{{ID: "h", MaxPerWeek: 9, Tiers: []string{"vip"}, Availability: evenings("MON", "TUE", "WED", "THU", "FRI")}},
			wantPlan: 3, wantWhy: "no host may serve this group (tier regular)", wantUnmet: 2},
		{name: "only quiet hours",
			hosts:   []qunyun.Host{{ID: "h", MaxPerWeek: 9, Availability: []qunyun.Window{{Day: "MON", Start: "23:00", End: "23:59"}, {Day: "TUE", Start: "06:00", End: "07:30"}}}},
			wantWhy: "quiet hours", wantUnmet: 3},
		{name: "window too short", hosts: []qunyun.Host{{ID: "h", MaxPerWeek: 9, Availability: []qunyun.Window{{Day: "MON", Start: "19:00", End: "19:30"}}}},
			wantWhy: "45-minute window", wantUnmet: 3},
		{name: "all week off",
			hosts:   []qunyun.Host{{ID: "h", MaxPerWeek: 9, Availability: evenings("MON", "WED"), Exceptions: []qunyun.Exception{{From: "2026-11-20", To: "2026-12-01"}}}},
			wantWhy: "window this week", wantUnmet: 3},
		{name: "one window, rest blocks the rest",
			hosts:    []qunyun.Host{{ID: "h", MaxPerWeek: 9, MinRestHours: 200, Availability: evenings("MON", "TUE", "WED")}},
			wantPlan: 1, wantWhy: "clashes", wantUnmet: 3},
		{name: "paused group", groups: []qunyun.Group{{ID: "p", State: qunyun.GroupPaused}},
			hosts:   []qunyun.Host{{ID: "h", MaxPerWeek: 9, Availability: evenings("MON", "TUE", "WED")}},
			wantWhy: "paused", wantUnmet: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := session.PlanInput{WeekStart: monday, Groups: groups, Hosts: tc.hosts, Targets: target}
			if tc.groups != nil {
				in.Groups = tc.groups
			}
			plan := session.PlanWeek(in)
			checkPlan(t, in, plan)
			if len(plan.Sessions) != tc.wantPlan {
				t.Errorf("planned %d, want %d: %+v", len(plan.Sessions), tc.wantPlan, plan.Sessions)
			}
			if len(plan.Unmet) != tc.wantUnmet {
				t.Errorf("unmet %d, want %d: %v", len(plan.Unmet), tc.wantUnmet, plan.Unmet)
			}
			found := false
			for _, u := range plan.Unmet {
				found = found || strings.Contains(u.Reason, tc.wantWhy)
			}
			if !found {
				t.Errorf("no unmet reason mentions %q: %v", tc.wantWhy, plan.Unmet)
			}
		})
	}
}

func TestPlanNotesBadInput(t *testing.T) {
	in := session.PlanInput{WeekStart: monday, Groups: []qunyun.Group{{ID: "a"}},
		Targets: []qunyun.SessionTarget{{GroupID: "a", PerWeek: 1}},
		Hosts: []qunyun.Host{{ID: "h", TimeZone: "Mars/Base", Availability: []qunyun.Window{{Day: "XYZ", Start: "19:00", End: "20:00"}, {Day: "MON", Start: "21:00", End: "20:00"}, {Day: "TUE", Start: "19:00", End: "21:00"}},
			Exceptions: []qunyun.Exception{{From: "soon"}}}}}
	plan := session.PlanWeek(in)
	checkPlan(t, in, plan)
	if len(plan.Notes) != 4 || len(plan.Sessions) != 1 {
		t.Fatalf("notes %q, sessions %d", plan.Notes, len(plan.Sessions))
	}
}

// TestPlanProperties checks every invariant on random inputs, and that
// the plan does not depend on the order of the input slices.
func TestPlanProperties(t *testing.T) {
	zones := []string{"Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Tokyo", ""}
	days := []string{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}
	for seed := int64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewSource(seed))
		in := session.PlanInput{WeekStart: monday}
		if r.Intn(4) == 0 { // planning a week already under way
			in.NotBefore = monday.Add(time.Duration(r.Intn(7*24)) * time.Hour)
		}
		for i := 0; i < 1+r.Intn(25); i++ {
			g := qunyun.Group{ID: fmt.Sprintf("g%d", i), Tier: []string{"", "regular", "vip"}[r.Intn(3)], TimeZone: zones[r.Intn(len(zones))]}
			if r.Intn(10) == 0 {
				g.Caps = qunyun.Caps{QuietStart: "23:30", QuietEnd: "07:00"}
			}
			in.Groups = append(in.Groups, g)
			if r.Intn(4) == 0 {
				in.Targets = append(in.Targets, qunyun.SessionTarget{GroupID: g.ID, PerWeek: r.Intn(5), Minutes: 30 + 15*r.Intn(3)})
			}
		}
		in.Targets = append(in.Targets, qunyun.SessionTarget{Tier: "regular", PerWeek: 1 + r.Intn(3)}, qunyun.SessionTarget{Tier: "vip", PerWeek: 2 + r.Intn(3), Minutes: 60})
		for i := 0; i < r.Intn(8); i++ {
			h := qunyun.Host{ID: fmt.Sprintf("h%d", i), TimeZone: zones[r.Intn(len(zones))], MaxPerWeek: r.Intn(7), MinRestHours: float64(r.Intn(30))}
			for j := 0; j < r.Intn(8); j++ {
				s := 6 + r.Intn(16)
				h.Availability = append(h.Availability, qunyun.Window{Day: days[r.Intn(7)], Start: fmt.Sprintf("%02d:%02d", s, 30*r.Intn(2)), End: fmt.Sprintf("%02d:00", min(s+1+r.Intn(4), 23))})
			}
			if r.Intn(3) == 0 {
				d := monday.AddDate(0, 0, r.Intn(7))
				h.Exceptions = append(h.Exceptions, qunyun.Exception{From: d.Format(time.DateOnly), To: d.AddDate(0, 0, r.Intn(3)).Format(time.DateOnly), Available: r.Intn(2) == 0})
			}
			if r.Intn(3) == 0 {
				h.Tiers = []string{[]string{"vip", "regular"}[r.Intn(2)]}
			}
			if r.Intn(5) == 0 && len(in.Groups) > 0 {
				h.Groups = []string{in.Groups[r.Intn(len(in.Groups))].ID}
			}
			in.Hosts = append(in.Hosts, h)
		}
		// Some history: last week's sessions and one already booked this week.
		for i := 0; i < r.Intn(6) && len(in.Hosts) > 0; i++ {
			start := monday.Add(time.Duration(r.Intn(14*24)-7*24) * time.Hour)
			in.Sessions = append(in.Sessions, qunyun.Session{ID: fmt.Sprintf("old%d", i), GroupID: in.Groups[r.Intn(len(in.Groups))].ID,
				HostID: in.Hosts[r.Intn(len(in.Hosts))].ID, Start: start, End: start.Add(45 * time.Minute), State: qunyun.SessionClosed, Manual: true})
		}

		plan := session.PlanWeek(in)
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { checkPlan(t, in, plan) })

		shuffled := in
		shuffled.Groups, shuffled.Hosts, shuffled.Targets, shuffled.Sessions = shuffle(r, in.Groups), shuffle(r, in.Hosts), shuffle(r, in.Targets), shuffle(r, in.Sessions)
		if again := session.PlanWeek(shuffled); !reflect.DeepEqual(plan, again) {
			t.Fatalf("seed %d: the plan depends on input order", seed)
		}
	}
}

func shuffle[T any](r *rand.Rand, s []T) []T {
	out := slices.Clone(s)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// checkPlan verifies every promise PlanWeek makes.
func checkPlan(t *testing.T, in session.PlanInput, plan session.Plan) {
	t.Helper()
	weekEnd := in.WeekStart.AddDate(0, 0, 7)
	hosts := map[string]qunyun.Host{}
	for _, h := range in.Hosts {
		hosts[h.ID] = h
	}
	groups := map[string]qunyun.Group{}
	for _, g := range in.Groups {
		groups[g.ID] = g
	}
	target := func(g qunyun.Group) (qunyun.SessionTarget, bool) {
		tier := g.Tier
		if tier == "" {
			tier = "regular"
		}
		var byTier qunyun.SessionTarget
		found := false
		for _, tg := range in.Targets {
			if tg.GroupID == g.ID {
				return tg, true
			}
			if tg.GroupID == "" && tg.Tier == tier {
				byTier, found = tg, true
			}
		}
		return byTier, found
	}
	all := append(slices.Clone(in.Sessions), plan.Sessions...)
	ids := map[string]bool{}
	for _, s := range in.Sessions {
		ids[s.ID] = true
	}
	load := map[string]int{}
	for _, s := range in.Sessions {
		if s.State != qunyun.SessionCancelled && !s.Start.Before(in.WeekStart) && s.Start.Before(weekEnd) {
			load[s.HostID]++
		}
	}
	for _, s := range plan.Sessions {
		h, ok := hosts[s.HostID]
		g, gok := groups[s.GroupID]
		if !ok || !gok {
			t.Fatalf("session %s: unknown host %s or group %s", s.ID, s.HostID, s.GroupID)
		}
		if ids[s.ID] || s.ID == "" || strings.Contains(s.ID, "#") {
			t.Errorf("session id %q is empty, has '#' or is a duplicate", s.ID)
		}
		ids[s.ID] = true
		if s.Start.Before(in.NotBefore) {
			t.Errorf("session %s starts %v, before %v", s.ID, s.Start, in.NotBefore)
		}
		if s.Start.Before(in.WeekStart) || !s.Start.Before(weekEnd) {
			t.Errorf("session %s starts %v outside the week", s.ID, s.Start)
		}
		tg, _ := target(g)
		if s.End.Sub(s.Start) != time.Duration(tg.SessionMinutes())*time.Minute {
			t.Errorf("session %s lasts %v, want %d min", s.ID, s.End.Sub(s.Start), tg.SessionMinutes())
		}
		if len(h.Groups)+len(h.Tiers) > 0 {
			tier := g.Tier
			if tier == "" {
				tier = "regular"
			}
			if !slices.Contains(h.Groups, g.ID) && !slices.Contains(h.Tiers, tier) {
				t.Errorf("session %s: host %s may not serve group %s (tier %s)", s.ID, h.ID, g.ID, tier)
			}
		}
		if !insideAvailability(h, s) {
			t.Errorf("session %s %v–%v is outside host %s's availability", s.ID, s.Start, s.End, h.ID)
		}
		if inQuiet(g, s) {
			t.Errorf("session %s touches group %s's quiet hours", s.ID, g.ID)
		}
		load[s.HostID]++
	}
	for id, n := range load {
		if _, planned := hosts[id]; !planned {
			continue
		}
		max := hosts[id].MaxPerWeek
		if max <= 0 {
			max = session.DefaultMaxPerWeek
		}
		if n > max && slices.ContainsFunc(plan.Sessions, func(s qunyun.Session) bool { return s.HostID == id }) {
			t.Errorf("host %s has %d sessions, limit %d", id, n, max)
		}
	}
	// No double booking, rest respected, no overlaps within a group.
	for i, a := range plan.Sessions {
		for j, b := range all {
			if j == i || b.State == qunyun.SessionCancelled || a.ID == b.ID {
				continue
			}
			if a.HostID == b.HostID {
				rest := time.Duration(hosts[a.HostID].MinRestHours * float64(time.Hour))
				if a.Start.Before(b.End.Add(rest)) && b.Start.Before(a.End.Add(rest)) {
					t.Errorf("host %s: %s and %s are closer than %v", a.HostID, a.ID, b.ID, rest)
				}
			}
			if a.GroupID == b.GroupID && a.Start.Before(b.End) && b.Start.Before(a.End) {
				t.Errorf("group %s: %s and %s overlap", a.GroupID, a.ID, b.ID)
			}
		}
	}
	// Every demand is met or explained, and no group gets more than it asked.
	perGroup := map[string]int{}
	for _, s := range all {
		if !s.Start.Before(in.WeekStart) && s.Start.Before(weekEnd) && (s.State != qunyun.SessionCancelled || !s.Manual) {
			perGroup[s.GroupID]++
		}
	}
	unmet := map[string]session.Unmet{}
	for _, u := range plan.Unmet {
		if u.Reason == "" {
			t.Errorf("unmet demand without a reason: %+v", u)
		}
		unmet[u.GroupID] = u
	}
	for _, g := range in.Groups {
		tg, ok := target(g)
		if !ok || tg.PerWeek <= 0 || g.State == qunyun.GroupDismissed {
			if perGroup[g.ID] > 0 && slices.ContainsFunc(plan.Sessions, func(s qunyun.Session) bool { return s.GroupID == g.ID }) {
				t.Errorf("group %s has no demand but got sessions", g.ID)
			}
			continue
		}
		got := perGroup[g.ID]
		if got > tg.PerWeek && slices.ContainsFunc(plan.Sessions, func(s qunyun.Session) bool { return s.GroupID == g.ID }) {
			t.Errorf("group %s got %d sessions, target %d", g.ID, got, tg.PerWeek)
		}
		if got < tg.PerWeek {
			u, ok := unmet[g.ID]
			if !ok {
				t.Errorf("group %s got %d of %d sessions and nothing explains why", g.ID, got, tg.PerWeek)
			} else if u.Wanted-u.Planned != tg.PerWeek-got {
				t.Errorf("group %s: unmet %+v does not add up to %d missing", g.ID, u, tg.PerWeek-got)
			}
		}
	}
}

var dayNames = map[time.Weekday]string{time.Monday: "MON", time.Tuesday: "TUE", time.Wednesday: "WED", time.Thursday: "THU", time.Friday: "FRI", time.Saturday: "SAT", time.Sunday: "SUN"}

// insideAvailability recomputes, independently of the planner, whether the
// session lies in one of the host's windows (or an added exception day) on
// a day that is not excepted.
func insideAvailability(h qunyun.Host, s qunyun.Session) bool {
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil || h.TimeZone == "" {
		loc = shanghai
	}
	start, end := s.Start.In(loc), s.End.In(loc)
	if start.Format(time.DateOnly) != end.Add(-time.Nanosecond).Format(time.DateOnly) {
		return false
	}
	date := start.Format(time.DateOnly)
	hm := func(t time.Time) string { return t.Format("15:04") }
	for _, e := range h.Exceptions {
		to := e.To
		if to == "" {
			to = e.From
		}
		if date >= e.From && date <= to {
			if e.Available && hm(start) >= "09:00" && hm(end) <= "21:00" {
				return true
			}
			if !e.Available {
				return false
			}
		}
	}
	for _, w := range h.Availability {
		if w.Day == dayNames[start.Weekday()] && hm(start) >= w.Start && hm(end) <= w.End && w.Start < w.End {
			return true
		}
	}
	return false
}

func inQuiet(g qunyun.Group, s qunyun.Session) bool {
	caps := g.EffectiveCaps()
	loc := g.Location()
	for t := s.Start; t.Before(s.End); t = t.Add(time.Minute) {
		hm := t.In(loc).Format("15:04")
		if caps.QuietStart > caps.QuietEnd && (hm >= caps.QuietStart || hm < caps.QuietEnd) ||
			caps.QuietStart < caps.QuietEnd && hm >= caps.QuietStart && hm < caps.QuietEnd {
			return true
		}
	}
	return false
}

func hostsByGroup(ss []qunyun.Session) map[string][]string {
	out := map[string][]string{}
	for _, s := range ss {
		out[s.GroupID] = append(out[s.GroupID], s.HostID)
	}
	return out
}

func sessionsByGroup(ss []qunyun.Session) map[string][]qunyun.Session {
	out := map[string][]qunyun.Session{}
	for _, s := range ss {
		out[s.GroupID] = append(out[s.GroupID], s)
	}
	return out
}

func firstDuplicate(xs []string) string {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

// BenchmarkPlanWeek plans a week for 1,000 groups and 100 hosts.
func BenchmarkPlanWeek(b *testing.B) {
	r := rand.New(rand.NewSource(42))
	in := session.PlanInput{WeekStart: monday,
		Targets: []qunyun.SessionTarget{{Tier: "regular", PerWeek: 2}, {Tier: "vip", PerWeek: 3, Minutes: 60}}}
	for i := 0; i < 1000; i++ {
		tier := "regular"
		if i%10 == 0 {
			tier = "vip"
		}
		in.Groups = append(in.Groups, qunyun.Group{ID: fmt.Sprintf("g%04d", i), Tier: tier})
	}
	days := []string{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}
	for i := 0; i < 100; i++ {
		h := qunyun.Host{ID: fmt.Sprintf("h%03d", i), MaxPerWeek: 20 + r.Intn(15), MinRestHours: float64(r.Intn(2))}
		for _, d := range days {
			if r.Intn(3) > 0 {
				s := 9 + r.Intn(8)
				h.Availability = append(h.Availability, qunyun.Window{Day: d, Start: fmt.Sprintf("%02d:00", s), End: fmt.Sprintf("%02d:00", s+3+r.Intn(3))})
			}
		}
		in.Hosts = append(in.Hosts, h)
	}
	b.ResetTimer()
	var plan session.Plan
	for b.Loop() {
		plan = session.PlanWeek(in)
	}
	b.ReportMetric(float64(len(plan.Sessions)), "sessions")
	b.ReportMetric(float64(len(plan.Unmet)), "unmet-groups")
}

func TestPlanWeekUnderWay(t *testing.T) {
	in := tenGroupsFourHosts()
	in.NotBefore = monday.Add(4*24*time.Hour + 12*time.Hour) // Friday noon
	plan := session.PlanWeek(in)
	checkPlan(t, in, plan)
	if len(plan.Sessions) == 0 || len(plan.Unmet) == 0 {
		t.Fatalf("half a week: %d sessions, %d unmet", len(plan.Sessions), len(plan.Unmet))
	}
}
