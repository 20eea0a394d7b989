package awscron

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	minYear = 1970
	maxYear = 2199
)

// cronSpec is a parsed cron(...) body. Day-of-week values are kept in AWS
// numbering (1 = SUN ... 7 = SAT) and converted only when matching.
type cronSpec struct {
	minutes, hours, months, years valueSet
	dom                           domField
	dow                           dowField
}

// valueSet holds the allowed values of a field, indexed by value.
type valueSet []bool

func (s valueSet) has(v int) bool { return v >= 0 && v < len(s) && s[v] }

// domField is the day-of-month field.
type domField struct {
	any         bool     // ?
	days        valueSet // values, ranges, lists, *
	last        bool     // L
	lastWeekday bool     // LW
	nearest     int      // nW: the weekday nearest day n (0 = unused)
}

// dowField is the day-of-week field, in AWS numbering.
type dowField struct {
	any    bool     // ?
	days   valueSet // values, ranges, lists, *, bare L (= 7, SAT)
	lastOf int      // nL: the last weekday n of the month (0 = unused)
	nth    int      // n#k: weekday n ...
	nthK   int      // ... k-th of the month
}

type fieldSpec struct {
	pos      int
	name     string
	min, max int
	names    []string // names[i] is value min+i
	slash    bool
}

var (
	minuteField = fieldSpec{pos: 1, name: "minutes", min: 0, max: 59, slash: true}
	hourField   = fieldSpec{pos: 2, name: "hours", min: 0, max: 23, slash: true}
	domSpec     = fieldSpec{pos: 3, name: "day-of-month", min: 1, max: 31, slash: true}
	monthField  = fieldSpec{pos: 4, name: "month", min: 1, max: 12, slash: true,
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowSpec = fieldSpec{pos: 5, name: "day-of-week", min: 1, max: 7,
		names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	yearField = fieldSpec{pos: 6, name: "year", min: minYear, max: maxYear, slash: true}
)

// errorf formats an error with the field's position and name, as in
// "field 5 (day-of-week): ...".
func (f fieldSpec) errorf(format string, args ...any) error {
	return fmt.Errorf("field %d (%s): %s", f.pos, f.name, fmt.Sprintf(format, args...))
}

func parseCron(body string) (*cronSpec, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("has %d fields, want 6 (minutes hours day-of-month month day-of-week year)", len(f))
	}
	var c cronSpec
	var err error
	if c.minutes, err = minuteField.parseList(f[0]); err != nil {
		return nil, err
	}
	if c.hours, err = hourField.parseList(f[1]); err != nil {
		return nil, err
	}
	if c.dom, err = parseDOM(f[2]); err != nil {
		return nil, err
	}
	if c.months, err = monthField.parseList(f[3]); err != nil {
		return nil, err
	}
	if c.dow, err = parseDOW(f[4]); err != nil {
		return nil, err
	}
	if c.years, err = yearField.parseList(f[5]); err != nil {
		return nil, err
	}
	if c.dom.any == c.dow.any {
		return nil, errors.New("fields 3 and 5: exactly one of day-of-month and day-of-week must be ?")
	}
	return &c, nil
}

func parseDOM(s string) (domField, error) {
	switch {
	case s == "?":
		return domField{any: true}, nil
	case s == "L":
		return domField{last: true}, nil
	case s == "LW":
		return domField{lastWeekday: true}, nil
	case strings.HasSuffix(s, "W"):
		n, err := domSpec.value(strings.TrimSuffix(s, "W"))
		if err != nil {
			return domField{}, err
		}
		return domField{nearest: n}, nil
	case strings.ContainsAny(s, "?LW"):
		return domField{}, domSpec.errorf("%q: ?, L, LW and nW must stand alone", s)
	}
	days, err := domSpec.parseList(s)
	return domField{days: days}, err
}

func parseDOW(s string) (dowField, error) {
	switch {
	case s == "?":
		return dowField{any: true}, nil
	case s == "L":
		days := make(valueSet, dowSpec.max+1)
		days[7] = true // the last day of the week: SAT
		return dowField{days: days}, nil
	case strings.Contains(s, "#"):
		day, k, ok := strings.Cut(s, "#")
		if strings.Contains(k, "#") || strings.Contains(s, ",") {
			return dowField{}, dowSpec.errorf("%q: only one # expression is allowed", s)
		}
		n, err := dowSpec.value(day)
		if err != nil {
			return dowField{}, err
		}
		kth, err := strconv.Atoi(k)
		if !ok || err != nil || kth < 1 || kth > 5 {
			return dowField{}, dowSpec.errorf("%q: the instance after # must be 1-5", s)
		}
		return dowField{nth: n, nthK: kth}, nil
	case strings.HasSuffix(s, "L"):
		n, err := dowSpec.value(strings.TrimSuffix(s, "L"))
		if err != nil {
			return dowField{}, err
		}
		return dowField{lastOf: n}, nil
	case strings.ContainsAny(s, "?"):
		return dowField{}, dowSpec.errorf("%q: ? must stand alone", s)
	}
	days, err := dowSpec.parseList(s)
	return dowField{days: days}, err
}

// parseList parses a comma-separated list of *, n, a-b, with optional /step.
func (f fieldSpec) parseList(s string) (valueSet, error) {
	set := make(valueSet, f.max+1)
	for item := range strings.SplitSeq(s, ",") {
		if err := f.addItem(set, item); err != nil {
			return nil, err
		}
	}
	return set, nil
}

func (f fieldSpec) addItem(set valueSet, item string) error {
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		if !f.slash {
			return f.errorf("%q: / is not allowed in this field", item)
		}
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 || n > f.max-f.min+1 {
			return f.errorf("%q: increment must be 1-%d", item, f.max-f.min+1)
		}
		step = n
	}
	lo, hi := f.min, f.max
	switch {
	case rng == "*":
	case strings.Contains(rng, "-"):
		a, b, _ := strings.Cut(rng, "-")
		var err error
		if lo, err = f.value(a); err != nil {
			return err
		}
		if hi, err = f.value(b); err != nil {
			return err
		}
		if lo > hi {
			return f.errorf("%q: range start is after its end", item)
		}
	default:
		v, err := f.value(rng)
		if err != nil {
			return err
		}
		lo = v
		if !hasStep {
			hi = v // "a/step" runs from a to the field's end
		}
	}
	for v := lo; v <= hi; v += step {
		set[v] = true
	}
	return nil
}

// value parses one number or name and checks its range.
func (f fieldSpec) value(s string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if len(f.names) > 0 {
			return 0, f.errorf("%q is not a number %d-%d or a name %s-%s", s, f.min, f.max, f.names[0], f.names[len(f.names)-1])
		}
		return 0, f.errorf("%q is not a number %d-%d", s, f.min, f.max)
	}
	if n < f.min || n > f.max {
		return 0, f.errorf("value %d out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

// next returns the first fire strictly after "after", evaluated in loc.
// It walks calendar days (skipping whole years and months that cannot
// match), then the allowed hours and minutes of a matching day, in order.
func (c *cronSpec) next(after time.Time, loc *time.Location) time.Time {
	y, m, d := after.In(loc).Date()
	if y < minYear {
		y, m, d = minYear, time.January, 1
	}
	// Calendar arithmetic in UTC: a date, not an instant, so no DST.
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for day.Year() <= maxYear {
		switch {
		case !c.years.has(day.Year()):
			day = time.Date(day.Year()+1, time.January, 1, 0, 0, 0, 0, time.UTC)
			continue
		case !c.months.has(int(day.Month())):
			day = time.Date(day.Year(), day.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if c.dayMatches(day) {
			if t, ok := c.firstOnDay(day, after, loc); ok {
				return t
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}
}

func (c *cronSpec) firstOnDay(day, after time.Time, loc *time.Location) (time.Time, bool) {
	for h := range 24 {
		if !c.hours.has(h) {
			continue
		}
		for mi := range 60 {
			if !c.minutes.has(mi) {
				continue
			}
			if t, ok := resolve(day, h, mi, loc); ok && t.After(after) {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// resolve turns a wall-clock time on day into an instant in loc. It reports
// false for a time skipped by a spring-forward change; for a time that
// occurs twice (fall back) it returns the first occurrence, so the schedule
// fires once.
func resolve(day time.Time, h, mi int, loc *time.Location) (time.Time, bool) {
	wall := time.Date(day.Year(), day.Month(), day.Day(), h, mi, 0, 0, time.UTC)
	var best time.Time
	// The offsets a day either side cover both sides of any transition
	// near this wall time.
	for _, probe := range []time.Duration{-24 * time.Hour, 0, 24 * time.Hour} {
		_, off := wall.Add(probe).In(loc).Zone()
		t := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if !sameWall(t, wall) {
			continue
		}
		if best.IsZero() || t.Before(best) {
			best = t
		}
	}
	return best, !best.IsZero()
}

func sameWall(t, wall time.Time) bool {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := wall.Date()
	return y1 == y2 && m1 == m2 && d1 == d2 && t.Hour() == wall.Hour() && t.Minute() == wall.Minute()
}

// dayMatches applies whichever of day-of-month and day-of-week is not '?'.
func (c *cronSpec) dayMatches(day time.Time) bool {
	if !c.dom.any {
		return c.dom.matches(day)
	}
	return c.dow.matches(day)
}

func (f domField) matches(day time.Time) bool {
	last := daysIn(day.Year(), day.Month())
	switch {
	case f.last:
		return day.Day() == last
	case f.lastWeekday:
		return day.Day() == nearestWeekday(day.Year(), day.Month(), last)
	case f.nearest > 0:
		return f.nearest <= last && day.Day() == nearestWeekday(day.Year(), day.Month(), f.nearest)
	default:
		return f.days.has(day.Day())
	}
}

func (f dowField) matches(day time.Time) bool {
	aws := int(day.Weekday()) + 1 // time.Sunday = 0; AWS SUN = 1
	switch {
	case f.lastOf > 0:
		return aws == f.lastOf && day.Day()+7 > daysIn(day.Year(), day.Month())
	case f.nth > 0:
		return aws == f.nth && (day.Day()-1)/7+1 == f.nthK
	default:
		return f.days.has(aws)
	}
}

// nearestWeekday returns the Monday-Friday day of the month nearest day n,
// never crossing into another month (the W wildcard).
func nearestWeekday(y int, m time.Month, n int) int {
	last := daysIn(y, m)
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2 // Friday before
		}
		return n + 1
	default:
		return n
	}
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
