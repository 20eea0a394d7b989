package session

import (
	"fmt"
	"slices"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Session length bounds (seed 000: sessions are time-boxed to 30–60
// minutes). community.yaml's sessions.minMinutes and maxMinutes widen them.
const (
	DefaultMinMinutes = 30
	DefaultMaxMinutes = 60
)

// Booking is a session booked by hand and what it is checked against.
type Booking struct {
	Session qunyun.Session
	Group   qunyun.Group
	Host    qunyun.Host
	// Others are the sessions around it (in the table or booked beside it);
	// cancelled ones and the session itself are ignored.
	Others                 []qunyun.Session
	MinMinutes, MaxMinutes int // 0: DefaultMinMinutes, DefaultMaxMinutes
}

// BookingProblem is one rule a booking breaks, and the field it is about:
// "start", "minutes" or "host".
type BookingProblem struct {
	Field  string
	Reason string
}

// CheckBooking holds a session booked by hand to the rules PlanWeek
// follows, so a manual booking cannot over-commit a host or land where the
// planner never would: inside the length bounds, a host who may serve the
// group, inside the host's availability, under their weekly limit (the
// planning week, Monday to Monday Asia/Shanghai), clear of their other
// sessions and rest time, clear of the group's other sessions and outside
// the group's quiet hours.
func CheckBooking(b Booking) []BookingProblem {
	var out []BookingProblem
	add := func(field, format string, args ...any) {
		out = append(out, BookingProblem{field, fmt.Sprintf(format, args...)})
	}
	s, h, g := b.Session, b.Host, b.Group
	lo, hi := b.MinMinutes, b.MaxMinutes
	if lo <= 0 {
		lo = DefaultMinMinutes
	}
	if hi <= 0 {
		hi = DefaultMaxMinutes
	}
	if m := int(s.End.Sub(s.Start) / time.Minute); m < lo || m > hi {
		add("minutes", "%d minutes; expected %d–%d (sessions.minMinutes/maxMinutes widen it)", m, lo, hi)
	}
	if !eligible(h, g) {
		add("host", "host %s may not serve group %s (tier %s); expected a host whose groups or tiers include it", h.ID, g.ID, groupTier(g))
	}

	week := WeekStart(s.Start)
	wk := span(week, week.Add(7*24*time.Hour))
	iv := span(s.Start, s.End)
	available, _ := availability(h, wk)
	if !slices.ContainsFunc(available, func(a interval) bool { return a.start <= iv.start && iv.end <= a.end }) {
		add("start", "host %s is not available then; expected a time inside their availability", h.ID)
	}
	if quietCheck(g, wk)(iv) {
		add("start", "touches group %s's quiet hours, when its announcement would be held back", g.ID)
	}
	hostState := &hostState{rest: int64(h.MinRestHours * 3600)}
	load := 1
	for _, o := range b.Others {
		if o.ID == s.ID || o.State == qunyun.SessionCancelled {
			continue
		}
		ov := span(o.Start, o.End)
		if o.HostID == h.ID {
			if wk.contains(o.Start) {
				load++
			}
			if hostState.widen(ov).overlaps(iv) {
				add("start", "host %s has session %s at %s (with %g hours of rest around it); a host holds one session at a time", h.ID, o.ID, o.Start.In(g.Location()).Format("01-02 15:04"), h.MinRestHours)
			}
		}
		if o.GroupID == g.ID && ov.overlaps(iv) {
			add("start", "group %s already has session %s then; a group holds one session at a time", g.ID, o.ID)
		}
	}
	limit := h.MaxPerWeek
	if limit <= 0 {
		limit = DefaultMaxPerWeek
	}
	if load > limit {
		add("host", "host %s would have %d sessions in the week of %s; their limit is %d", h.ID, load, week.Format(time.DateOnly), limit)
	}
	return out
}

// rescheduleWeeks is how far ahead a no-show's reschedule slot is looked for.
const rescheduleWeeks = 2

// nextFreeSlot is the earliest start from after on where the host could
// hold sess again in its group: the first start on the planner's grid
// inside the host's availability that CheckBooking accepts against others,
// looking rescheduleWeeks ahead. It is what a no-show offers.
func nextFreeSlot(sess qunyun.Session, g qunyun.Group, h qunyun.Host, others []qunyun.Session, after time.Time) (time.Time, bool) {
	dur := sess.End.Sub(sess.Start)
	minutes := int(dur / time.Minute)
	step := int64(DefaultStep / time.Second)
	for w := range rescheduleWeeks + 1 {
		week := WeekStart(after).AddDate(0, 0, 7*w)
		available, _ := availability(h, span(week, week.AddDate(0, 0, 7)))
		for _, av := range available {
			for start := av.start; start+int64(minutes)*60 <= av.end; start += step {
				at := time.Unix(start, 0).UTC()
				if at.Before(after) {
					continue
				}
				moved := sess
				moved.Start, moved.End = at, at.Add(dur)
				if len(CheckBooking(Booking{Session: moved, Group: g, Host: h, Others: others, MinMinutes: minutes, MaxMinutes: minutes})) == 0 {
					return at, true
				}
			}
		}
	}
	return time.Time{}, false
}
