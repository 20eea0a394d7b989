package session

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

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
	off, on, exceptionNotes := exceptionDays(h)
	windows, windowNotes := weeklyWindows(h)
	notes = append(append(notes, exceptionNotes...), windowNotes...)

	var out []interval
	add := func(from, to time.Time) {
		iv := span(from, to)
		iv.start, iv.end = max(iv.start, week.start), min(iv.end, week.end)
		if iv.start < iv.end {
			out = append(out, iv)
		}
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
		if on.has(date) {
			add(at(int(ExceptionDayStart/time.Minute)), at(int(ExceptionDayEnd/time.Minute)))
		}
		if off.has(date) {
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

// dayRange is a range of dates, YYYY-MM-DD, both ends included.
type dayRange struct{ from, to string }

type dayRanges []dayRange

func (rs dayRanges) has(date string) bool {
	for _, r := range rs {
		if date >= r.from && date <= r.to {
			return true
		}
	}
	return false
}

// exceptionDays reads a host's exceptions: the days they are off, and the
// days they are available beyond their weekly windows.
func exceptionDays(h qunyun.Host) (off, on dayRanges, notes []string) {
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
	return off, on, notes
}

// window is a weekly availability window in minutes of the host's day.
type window struct {
	day        time.Weekday
	start, end int
}

// weeklyWindows reads a host's weekly windows.
func weeklyWindows(h qunyun.Host) ([]window, []string) {
	var windows []window
	var notes []string
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
	return windows, notes
}
