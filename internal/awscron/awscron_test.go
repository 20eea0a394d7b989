package awscron_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
)

// sunday is Sunday 2026-11-22 03:21 UTC (11:21 in Asia/Shanghai).
var sunday = time.Date(2026, 11, 22, 3, 21, 0, 0, time.UTC)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustParse(t *testing.T, s string) awscron.Expression {
	t.Helper()
	e, err := awscron.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return e
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parse time %q: %v", s, err)
	}
	return tm
}

// fires returns the next n fire times after "after", as RFC 3339 in loc.
func fires(e awscron.Expression, after time.Time, loc *time.Location, n int) []string {
	var out []string
	for range n {
		after = e.Next(after, loc)
		if after.IsZero() {
			return append(out, "never")
		}
		out = append(out, after.In(loc).Format(time.RFC3339))
	}
	return out
}

func checkFires(t *testing.T, expr string, after time.Time, loc *time.Location, want []string) {
	t.Helper()
	got := fires(mustParse(t, expr), after, loc, len(want))
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s after %s in %s:\n got %v\nwant %v", expr, after.Format(time.RFC3339), loc, got, want)
	}
}

// The examples table of the EventBridge "Cron expressions reference".
func TestNextDocumentedExamples(t *testing.T) {
	tests := []struct {
		expr    string
		meaning string
		after   time.Time
		want    []string
	}{
		{"cron(0 10 * * ? *)", "10:00 every day", sunday,
			[]string{"2026-11-22T10:00:00Z", "2026-11-23T10:00:00Z"}},
		{"cron(15 12 * * ? *)", "12:15 every day", sunday,
			[]string{"2026-11-22T12:15:00Z", "2026-11-23T12:15:00Z"}},
		{"cron(0 18 ? * MON-FRI *)", "18:00 Monday to Friday", time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC),
			[]string{"2026-11-27T18:00:00Z", "2026-11-30T18:00:00Z"}},
		{"cron(0 8 1 * ? *)", "08:00 on the first day of every month", sunday,
			[]string{"2026-12-01T08:00:00Z", "2027-01-01T08:00:00Z"}},
		{"cron(0/10 * ? * MON-FRI *)", "every 10 minutes Monday to Friday", sunday,
			[]string{"2026-11-23T00:00:00Z", "2026-11-23T00:10:00Z", "2026-11-23T00:20:00Z"}},
		{"cron(0/5 8-17 ? * MON-FRI *)", "every 5 minutes 08:00-17:55 Monday to Friday", time.Date(2026, 11, 23, 17, 50, 0, 0, time.UTC),
			[]string{"2026-11-23T17:55:00Z", "2026-11-24T08:00:00Z", "2026-11-24T08:05:00Z"}},
		{"cron(0 9 ? * 2#1 *)", "09:00 on the first Monday of every month", sunday,
			[]string{"2026-12-07T09:00:00Z", "2027-01-04T09:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.meaning, func(t *testing.T) {
			checkFires(t, tt.expr, tt.after, time.UTC, tt.want)
		})
	}
}

// Day-of-week is 1-7 = SUN-SAT in AWS, unlike crontab's 0-6.
func TestNextDayOfWeek(t *testing.T) {
	saturday := time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)
	tests := []struct {
		name, expr string
		after      time.Time
		want       []string
	}{
		{"2-6 is MON-FRI", "cron(0 12 ? * 2-6 *)", saturday, []string{
			"2026-11-23T12:00:00Z", "2026-11-24T12:00:00Z", "2026-11-25T12:00:00Z",
			"2026-11-26T12:00:00Z", "2026-11-27T12:00:00Z", "2026-11-30T12:00:00Z"}},
		{"1 is SUN", "cron(0 12 ? * 1 *)", saturday, []string{"2026-11-22T12:00:00Z", "2026-11-29T12:00:00Z"}},
		{"7 is SAT", "cron(0 12 ? * 7 *)", saturday, []string{"2026-11-28T12:00:00Z", "2026-12-05T12:00:00Z"}},
		{"SAT name", "cron(0 12 ? * SAT *)", saturday, []string{"2026-11-28T12:00:00Z", "2026-12-05T12:00:00Z"}},
		{"list of names", "cron(0 12 ? * MON,WED *)", saturday, []string{"2026-11-23T12:00:00Z", "2026-11-25T12:00:00Z", "2026-11-30T12:00:00Z"}},
		{"bare L is the last day of the week, SAT", "cron(0 12 ? * L *)", saturday, []string{"2026-11-28T12:00:00Z", "2026-12-05T12:00:00Z"}},
		{"6L is the last Friday", "cron(0 12 ? * 6L *)", sunday, []string{"2026-11-27T12:00:00Z", "2026-12-25T12:00:00Z", "2027-01-29T12:00:00Z"}},
		{"FRIL is the last Friday", "cron(0 12 ? * FRIL *)", sunday, []string{"2026-11-27T12:00:00Z", "2026-12-25T12:00:00Z"}},
		{"6#3 is the third Friday", "cron(0 12 ? * 6#3 *)", sunday, []string{"2026-12-18T12:00:00Z", "2027-01-15T12:00:00Z"}},
		{"3#2 is the second Tuesday (documented example)", "cron(0 12 ? * 3#2 *)", sunday, []string{"2026-12-08T12:00:00Z", "2027-01-12T12:00:00Z"}},
		{"5th Sunday only in months that have one", "cron(0 12 ? * 1#5 *)", sunday, []string{"2026-11-29T12:00:00Z", "2027-01-31T12:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFires(t, tt.expr, tt.after, time.UTC, tt.want)
		})
	}
}

func TestNextDayOfMonth(t *testing.T) {
	tests := []struct {
		name, expr string
		after      time.Time
		want       []string
	}{
		{"L is the last day", "cron(0 12 L * ? *)", sunday, []string{
			"2026-11-30T12:00:00Z", "2026-12-31T12:00:00Z", "2027-01-31T12:00:00Z", "2027-02-28T12:00:00Z"}},
		{"LW is the last weekday", "cron(0 12 LW * ? *)", sunday, []string{
			"2026-11-30T12:00:00Z", "2026-12-31T12:00:00Z", "2027-01-29T12:00:00Z", "2027-02-26T12:00:00Z"}},
		{"15W: Tuesday stays, Friday stays", "cron(0 12 15W * ? *)", sunday, []string{
			"2026-12-15T12:00:00Z", "2027-01-15T12:00:00Z"}},
		{"15W on a Sunday moves to Monday", "cron(0 12 15W * ? *)", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), []string{
			"2026-11-16T12:00:00Z"}},
		{"15W on a Saturday moves to Friday", "cron(0 12 15W * ? *)", time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), []string{
			"2027-05-14T12:00:00Z"}},
		{"1W on a Saturday moves to Monday the 3rd, not into last month", "cron(0 12 1W * ? *)", time.Date(2027, 4, 15, 0, 0, 0, 0, time.UTC), []string{
			"2027-05-03T12:00:00Z"}},
		{"31W on a Sunday moves to Friday, not into next month", "cron(0 12 31W * ? *)", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), []string{
			"2027-01-29T12:00:00Z", "2027-03-31T12:00:00Z"}},
		{"list and range", "cron(0 12 1,10-11 * ? *)", sunday, []string{
			"2026-12-01T12:00:00Z", "2026-12-10T12:00:00Z", "2026-12-11T12:00:00Z", "2027-01-01T12:00:00Z"}},
		{"step in day-of-month", "cron(0 12 1/10 * ? *)", sunday, []string{
			"2026-12-01T12:00:00Z", "2026-12-11T12:00:00Z", "2026-12-21T12:00:00Z", "2026-12-31T12:00:00Z"}},
		{"month names", "cron(0 0 1 JAN,JUL ? *)", sunday, []string{"2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"}},
		{"29 February", "cron(0 0 29 2 ? *)", sunday, []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"year 2199 is the last", "cron(0 0 1 1 ? 2199)", sunday, []string{"2199-01-01T00:00:00Z", "never"}},
		{"a date that never comes", "cron(0 0 30 2 ? *)", sunday, []string{"never"}},
		{"year list and step", "cron(0 0 1 1 ? 2027/2)", sunday, []string{"2027-01-01T00:00:00Z", "2029-01-01T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFires(t, tt.expr, tt.after, time.UTC, tt.want)
		})
	}
}

func TestNextTimeZones(t *testing.T) {
	shanghai := mustLoad(t, "Asia/Shanghai")
	newYork := mustLoad(t, "America/New_York")
	tests := []struct {
		name, expr string
		after      time.Time
		loc        *time.Location
		want       []string
	}{
		{"weekday 08:00 in Asia/Shanghai", "cron(0 8 ? * MON-FRI *)", sunday, shanghai,
			[]string{"2026-11-23T08:00:00+08:00", "2026-11-24T08:00:00+08:00"}},
		{"weekday 08:00 in UTC", "cron(0 8 ? * MON-FRI *)", sunday, time.UTC,
			[]string{"2026-11-23T08:00:00Z", "2026-11-24T08:00:00Z"}},
		{"the Shanghai day starts 8 hours before the UTC day", "cron(0 2 * * ? *)", sunday, shanghai,
			[]string{"2026-11-23T02:00:00+08:00"}},
		{"day-of-week is the local day", "cron(30 7 ? * MON *)", sunday, shanghai,
			[]string{"2026-11-23T07:30:00+08:00"}}, // Sunday 23:30 UTC
		{"spring forward: 02:30 does not exist on 8 March, skipped", "cron(30 2 * * ? *)", mustTime(t, "2026-03-07T03:00:00-05:00"), newYork,
			[]string{"2026-03-09T02:30:00-04:00"}},
		{"fall back: 01:30 happens twice on 1 November, fires once", "cron(30 1 * * ? *)", mustTime(t, "2026-10-31T12:00:00-04:00"), newYork,
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"fall back: the repeated hour is not repeated", "cron(0/30 * * * ? *)", mustTime(t, "2026-11-01T00:45:00-04:00"), newYork,
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFires(t, tt.expr, tt.after, tt.loc, tt.want)
		})
	}
}

func TestNextIsStrictlyAfter(t *testing.T) {
	e := mustParse(t, "cron(0 10 * * ? *)")
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	if got, want := e.Next(at, time.UTC), at.AddDate(0, 0, 1); !got.Equal(want) {
		t.Errorf("Next(%s) = %s, want %s", at, got, want)
	}
	if got := e.Next(at.Add(-time.Nanosecond), time.UTC); !got.Equal(at) {
		t.Errorf("Next(just before) = %s, want %s", got, at)
	}
	if got := e.Next(at.Add(30*time.Second), nil); !got.Equal(at.AddDate(0, 0, 1)) {
		t.Errorf("Next(10:00:30, nil loc) = %s, want the next day", got)
	}
}

func TestNextRate(t *testing.T) {
	start := time.Date(2026, 11, 22, 3, 2, 0, 0, time.UTC)
	newYork := mustLoad(t, "America/New_York")
	tests := []struct {
		name  string
		expr  awscron.Expression
		after time.Time
		loc   *time.Location
		want  []string
	}{
		{"rate counts from the start", mustParse(t, "rate(5 minutes)").From(start), sunday, time.UTC,
			[]string{"2026-11-22T03:22:00Z", "2026-11-22T03:27:00Z"}},
		{"before the start, the first fire is the start", mustParse(t, "rate(1 hour)").From(start), start.Add(-time.Hour), time.UTC,
			[]string{"2026-11-22T03:02:00Z", "2026-11-22T04:02:00Z"}},
		{"at the start, the next period", mustParse(t, "rate(1 hour)").From(start), start, time.UTC,
			[]string{"2026-11-22T04:02:00Z"}},
		{"without a start, aligned to the epoch", mustParse(t, "rate(1 hour)"), sunday, time.UTC,
			[]string{"2026-11-22T04:00:00Z", "2026-11-22T05:00:00Z"}},
		{"a day is 24 hours across a DST change", mustParse(t, "rate(1 day)").From(mustTime(t, "2026-10-31T09:00:00-04:00")), mustTime(t, "2026-10-31T09:00:00-04:00"), newYork,
			[]string{"2026-11-01T08:00:00-05:00", "2026-11-02T08:00:00-05:00"}},
		{"rate(2 days)", mustParse(t, "rate(2 days)").From(start), sunday, time.UTC,
			[]string{"2026-11-24T03:02:00Z", "2026-11-26T03:02:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fires(tt.expr, tt.after, tt.loc, len(tt.want))
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCronFromStart(t *testing.T) {
	e := mustParse(t, "cron(0 10 * * ? *)").From(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	checkFiresExpr(t, e, sunday, []string{"2026-12-01T10:00:00Z", "2026-12-02T10:00:00Z"})
}

func checkFiresExpr(t *testing.T, e awscron.Expression, after time.Time, want []string) {
	t.Helper()
	if got := fires(e, after, time.UTC, len(want)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s: got %v, want %v", e, got, want)
	}
}

func TestParseAccessors(t *testing.T) {
	tests := []struct {
		expr string
		rate time.Duration
	}{
		{"rate(1 minute)", time.Minute},
		{"rate(15 minutes)", 15 * time.Minute},
		{"rate(1 hour)", time.Hour},
		{"rate(2 hours)", 2 * time.Hour},
		{"rate(1 day)", 24 * time.Hour},
		{"rate(7 days)", 7 * 24 * time.Hour},
		{"cron(0 8 ? * MON-FRI *)", 0},
		{"cron(0 0 ? * 3#1 2026-2030)", 0},
		{"cron(*/15 * * * ? *)", 0},
		{"cron(0 9 ? * mon *)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e := mustParse(t, tt.expr)
			if e.String() != tt.expr {
				t.Errorf("String() = %q, want %q", e.String(), tt.expr)
			}
			if e.Rate() != tt.rate || e.IsRate() != (tt.rate > 0) {
				t.Errorf("Rate() = %v, IsRate() = %v, want %v", e.Rate(), e.IsRate(), tt.rate)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"cron(0 10 * * * *)", "exactly one of day-of-month and day-of-week must be ?"},
		{"cron(0 10 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"},
		{"cron(0 10 1 * MON *)", "exactly one of day-of-month and day-of-week must be ?"},
		{"cron(0 10 * * ?)", "has 5 fields, want 6"},
		{"cron(0 0 10 * * ? *)", "has 7 fields, want 6"},
		{"cron(60 9 * * ? *)", "cron(60 9 * * ? *) field 1 (minutes): value 60 out of range 0-59"},
		{"cron(0 24 * * ? *)", "field 2 (hours): value 24 out of range 0-23"},
		{"cron(0 9 0 * ? *)", "field 3 (day-of-month): value 0 out of range 1-31"},
		{"cron(0 9 32W * ? *)", "field 3 (day-of-month): value 32 out of range 1-31"},
		{"cron(0 9 1,L * ? *)", "field 3 (day-of-month): \"1,L\": ?, L, LW and nW must stand alone"},
		{"cron(0 9 L-3 * ? *)", "field 3 (day-of-month)"},
		{"cron(0 9 * 13 ? *)", "field 4 (month): value 13 out of range 1-12"},
		{"cron(0 9 * JANUARY ? *)", "field 4 (month): \"JANUARY\" is not a number 1-12 or a name JAN-DEC"},
		{"cron(0 9 ? * 0 *)", "field 5 (day-of-week): value 0 out of range 1-7"},
		{"cron(0 9 ? * 8 *)", "field 5 (day-of-week): value 8 out of range 1-7"},
		{"cron(0 9 ? * MON-FOO *)", "field 5 (day-of-week): \"FOO\" is not a number 1-7 or a name SUN-SAT"},
		{"cron(0 9 ? * 3#1,6#3 *)", "field 5 (day-of-week): \"3#1,6#3\": only one # expression is allowed"},
		{"cron(0 9 ? * 6#6 *)", "field 5 (day-of-week): \"6#6\": the instance after # must be 1-5"},
		{"cron(0 9 ? * 6#0 *)", "the instance after # must be 1-5"},
		{"cron(0 9 ? * 8L *)", "field 5 (day-of-week): value 8 out of range 1-7"},
		{"cron(0 9 ? * */2 *)", "field 5 (day-of-week): \"*/2\": / is not allowed in this field"},
		{"cron(0 9 ? * W *)", "field 5 (day-of-week)"},
		{"cron(0 9 * * ? 2200)", "field 6 (year): value 2200 out of range 1970-2199"},
		{"cron(0 9 * * ? 1969)", "field 6 (year): value 1969 out of range 1970-2199"},
		{"cron(0/0 9 * * ? *)", "field 1 (minutes): \"0/0\": increment must be 1-60"},
		{"cron(0 17-9 * * ? *)", "field 2 (hours): \"17-9\": range start is after its end"},
		{"cron(a 9 * * ? *)", "field 1 (minutes): \"a\" is not a number 0-59"},
		{"cron(0 9 ?,1 * ? *)", "field 3 (day-of-month)"},
		{"rate(0 minutes)", "rate(0 minutes): value \"0\" is not a positive integer"},
		{"rate(-5 minutes)", "is not a positive integer"},
		{"rate(5 minute)", "use the plural when the value is greater than 1"},
		{"rate(1 minutes)", "use the singular when the value is 1"},
		{"rate(5 weeks)", "unit \"weeks\": want minute(s), hour(s) or day(s)"},
		{"rate(5)", "want rate(value unit)"},
		{"every 5 minutes", "want rate(value unit) or cron(fields)"},
		{"cron 0 10 * * ? *", "want rate(value unit) or cron(fields)"},
		{"", "want rate(value unit) or cron(fields)"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := awscron.Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tt.expr, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error %q, want it to contain %q", tt.expr, err, tt.want)
			}
		})
	}
}

func TestZeroExpressionNeverFires(t *testing.T) {
	var e awscron.Expression
	if got := e.Next(sunday, time.UTC); !got.IsZero() {
		t.Errorf("zero Expression Next = %s, want zero time", got)
	}
}

func BenchmarkNextNever(b *testing.B) {
	e, err := awscron.Parse("cron(0 0 30 2 ? *)")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		e.Next(sunday, time.UTC)
	}
}
