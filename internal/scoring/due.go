package scoring

import (
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Each group is scored for its own local day, two hours after that day
// ends in the group's time zone: 02:00 local, as Asia/Shanghai groups always
// were. The schedule runs every hour on the hour (template.yaml); a run at
// t scores, for each group, the local day whose end (the group's midnight)
// fell in (t−2h−1h, t−2h]. Those windows tile time, so every local day of
// every zone ends in exactly one run's window: scored once, never skipped,
// whatever the zone's offset (half hours too) and across DST changes (a
// 23- or 25-hour day still has one end). Retries of a run carry the same
// scheduled time and pick the same groups.

const (
	// NightMargin is how long after a group's midnight its day is scored,
	// so the day's last callbacks and delivery receipts are in.
	NightMargin = 2 * time.Hour
	// RunEvery is the schedule's period: cron(0 * * * ? *).
	RunEvery = time.Hour
)

// DueDate returns the local date (YYYY-MM-DD) in loc that the run scheduled
// at t scores, and false when no day of loc ended in that run's window.
// t is taken to the hour, as the schedule fires.
func DueDate(loc *time.Location, t time.Time) (string, bool) {
	end := t.Truncate(RunEvery).Add(-NightMargin)
	now, before := end.In(loc), end.Add(-RunEvery).In(loc)
	if civil(now) == civil(before) {
		return "", false
	}
	// The day that just ended is the one before the new local date, by the
	// calendar (UTC arithmetic: no DST in between).
	y, m, d := now.Date()
	return time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), true
}

func civil(t time.Time) string { return t.Format(time.DateOnly) }

// dayOver reports whether date has ended in loc, with the margin, by now:
// a re-run by date never scores a day still under way.
func dayOver(loc *time.Location, date string, now time.Time) bool {
	start, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return false
	}
	return !now.Before(start.AddDate(0, 0, 1).Add(NightMargin))
}

// ReportDue reports the date whose report the run at t starts, and whether
// it is the nightly run of the default zone (Asia/Shanghai, 02:00): that run
// stores the date's report even when no group is due, and runs the
// contests, once a day as before.
func ReportDue(t time.Time) (string, bool) {
	return DueDate(qunyun.LoadLocation(""), t)
}
