package scoring_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDueDate(t *testing.T) {
	tests := []struct {
		zone, run, want string // want "" means nothing due
	}{
		// Asia/Shanghai (UTC+8): 02:00 local is 18:00Z, as the nightly always ran.
		{"Asia/Shanghai", "2026-11-22T18:00:00Z", "2026-11-22"},
		{"Asia/Shanghai", "2026-11-22T17:00:00Z", ""},
		{"Asia/Shanghai", "2026-11-22T19:00:00Z", ""},
		// Europe/London in winter (UTC+0): the day ends at 00:00Z, scored at 02:00Z.
		{"Europe/London", "2026-11-22T18:00:00Z", ""}, // the old nightly: 18:00 in London, the day not over
		{"Europe/London", "2026-11-23T01:00:00Z", ""},
		{"Europe/London", "2026-11-23T02:00:00Z", "2026-11-22"},
		{"Europe/London", "2026-11-23T03:00:00Z", ""},
		// Summer (BST, UTC+1): the day ends at 23:00Z.
		{"Europe/London", "2026-07-02T01:00:00Z", "2026-07-01"},
		{"Europe/London", "2026-07-02T02:00:00Z", ""},
		// The clocks go forward on 29 March 2026 (a 23-hour day) and back on
		// 25 October 2026 (25 hours): each day is still scored once, 2 h after its end.
		{"Europe/London", "2026-03-29T02:00:00Z", "2026-03-28"}, // ended 00:00Z (GMT)
		{"Europe/London", "2026-03-30T01:00:00Z", "2026-03-29"}, // ended 23:00Z (BST)
		{"Europe/London", "2026-10-25T01:00:00Z", "2026-10-24"}, // ended 23:00Z (BST)
		{"Europe/London", "2026-10-26T02:00:00Z", "2026-10-25"}, // ended 00:00Z (GMT)
		{"Europe/London", "2026-10-26T01:00:00Z", ""},
		// America/Los_Angeles: PST ends at 08:00Z, PDT at 07:00Z.
		{"America/Los_Angeles", "2026-11-23T10:00:00Z", "2026-11-22"},
		{"America/Los_Angeles", "2026-11-22T18:00:00Z", ""},           // the old nightly: 10:00 in Los Angeles
		{"America/Los_Angeles", "2026-03-09T09:00:00Z", "2026-03-08"}, // spring forward, 23 h
		{"America/Los_Angeles", "2026-11-02T10:00:00Z", "2026-11-01"}, // fall back, 25 h
		{"America/Los_Angeles", "2026-11-02T09:00:00Z", ""},
		{"America/Los_Angeles", "2026-11-01T09:00:00Z", "2026-10-31"}, // still PDT
		// Half-hour offsets: India (UTC+5:30) ends at 18:30Z, inside (18:00, 19:00] → the 21:00Z run.
		{"Asia/Kolkata", "2026-11-22T21:00:00Z", "2026-11-22"},
		// A run at a minute past the hour counts as the hour's run.
		{"Europe/London", "2026-11-23T02:01:30Z", "2026-11-22"},
		// One run, two dates: Kiritimati (UTC+14) and Honolulu (UTC−10) share the clock.
		{"Pacific/Kiritimati", "2026-11-22T12:00:00Z", "2026-11-22"},
		{"Pacific/Honolulu", "2026-11-22T12:00:00Z", "2026-11-21"},
	}
	for _, tt := range tests {
		got, ok := scoring.DueDate(mustZone(t, tt.zone), utc(tt.run))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("DueDate(%s, %s) = %q, %v; want %q", tt.zone, tt.run, got, ok, tt.want)
		}
	}
}

// TestDueDateEveryDayOnce sweeps a year of hourly runs: in every zone each
// local day is due exactly once, in order, 2 to 3 hours after it ends.
func TestDueDateEveryDayOnce(t *testing.T) {
	for _, zone := range []string{"Asia/Shanghai", "Europe/London", "America/Los_Angeles", "America/New_York",
		"Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "Pacific/Chatham", "America/Santiago", "Pacific/Kiritimati"} {
		loc := mustZone(t, zone)
		var dates []string
		for run := utc("2026-01-01T00:00:00Z"); run.Before(utc("2027-01-01T00:00:00Z")); run = run.Add(time.Hour) {
			date, ok := scoring.DueDate(loc, run)
			if !ok {
				continue
			}
			// The day's end: the first minute of the next local date (found
			// by search: in Santiago, midnight itself may not exist).
			end := run.Add(-4 * time.Hour)
			for end.In(loc).Format(time.DateOnly) <= date {
				end = end.Add(time.Minute)
			}
			if after := run.Sub(end); after < scoring.NightMargin || after >= scoring.NightMargin+scoring.RunEvery {
				t.Errorf("%s: %s scored at %s, %v after its end", zone, date, run.Format(time.RFC3339), after)
			}
			dates = append(dates, date)
		}
		for i := 1; i < len(dates); i++ {
			prev, _ := time.Parse(time.DateOnly, dates[i-1])
			if next := prev.AddDate(0, 0, 1).Format(time.DateOnly); dates[i] != next {
				t.Errorf("%s: %s follows %s; want %s (no day twice, none skipped)", zone, dates[i], dates[i-1], next)
			}
		}
		if len(dates) < 364 || len(dates) > 366 {
			t.Errorf("%s: %d days due in a year", zone, len(dates))
		}
	}
}

// countingStore counts and times score writes per group and date.
type countingStore struct {
	dynamo.Scores
	now func() time.Time
	mu  sync.Mutex
	at  map[string][]time.Time // "<group> <date>" → when written
}

func (s *countingStore) PutGroupScore(ctx context.Context, sc qunyun.GroupScore) error {
	s.mu.Lock()
	s.at[sc.GroupID+" "+sc.Date] = append(s.at[sc.GroupID+" "+sc.Date], s.now())
	s.mu.Unlock()
	return s.Scores.PutGroupScore(ctx, sc)
}

// busLog records what the night publishes (ScoresComputed).
type busLog struct {
	mu     sync.Mutex
	events []bus.Event
}

func (b *busLog) Publish(_ context.Context, evs ...bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, evs...)
	return nil
}

type contestCount struct {
	runs []time.Time
	now  func() time.Time
}

func (c *contestCount) RunAll(context.Context) error { c.runs = append(c.runs, c.now()); return nil }

// TestEachGroupScoredForItsOwnDay runs the hourly schedule over ten days
// that hold both autumn clock changes, for groups in Shanghai, London and
// Los Angeles (London is on GMT again from the 25th, Los Angeles on PST
// from 1 November). Messages are written as time passes, one at 00:30 and one at
// 23:30 local every day, so a day scored before it ended would count one.
func TestEachGroupScoredForItsOwnDay(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewManual(utc("2026-10-23T00:00:00Z"))
	table := dynamotest.NewTable(t, clk)
	zones := map[string]string{"sh": "Asia/Shanghai", "ldn": "Europe/London", "la": "America/Los_Angeles"}
	type msg struct {
		group string
		at    time.Time
	}
	var pending []msg
	first, last := "2026-10-24", "2026-11-02"
	for gid, zone := range zones {
		if err := (dynamo.Catalog{Table: table}).PutGroup(ctx, qunyun.Group{ID: gid, Name: gid, Purpose: qunyun.PurposeGeneral, TimeZone: zone}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"a", "b"} {
			if err := (dynamo.Catalog{Table: table}).PutMember(ctx, qunyun.Member{GroupID: gid, ID: gid + "-" + m, Name: m, Role: qunyun.RoleMember, JoinedAt: utc("2026-10-01T00:00:00Z")}); err != nil {
				t.Fatal(err)
			}
		}
		loc := mustZone(t, zone)
		for d, _ := time.Parse(time.DateOnly, first); d.Format(time.DateOnly) <= last; d = d.AddDate(0, 0, 1) {
			y, mo, dd := d.Date()
			pending = append(pending,
				msg{gid, time.Date(y, mo, dd, 0, 30, 0, 0, loc)},
				msg{gid, time.Date(y, mo, dd, 23, 30, 0, 0, loc)})
		}
	}
	slices.SortFunc(pending, func(a, b msg) int { return a.at.Compare(b.at) })

	scorer, err := scoring.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Scores: dynamo.Scores{Table: table}, now: clk.Now, at: map[string][]time.Time{}}
	pub := &busLog{}
	contests := &contestCount{now: clk.Now}
	h := &scoring.Handler{Night: &scoring.Night{Stores: countingStores(table, store), Bus: pub, Scorer: scorer, Now: clk.Now}, Contests: contests}
	seq := 0
	// From after the 23rd's last night (Los Angeles, 09:00Z) to after the
	// 2nd's (10:00Z on the 3rd); Shanghai's 3rd ends later.
	for run := utc("2026-10-24T10:00:00Z"); !run.After(utc("2026-11-03T12:00:00Z")); run = run.Add(time.Hour) {
		clk.Set(run)
		for len(pending) > 0 && !pending[0].at.After(run) {
			seq++
			_, _, err := dynamo.Log{Table: table}.RecordMessage(ctx, qunyun.Message{ID: fmt.Sprintf("m%04d", seq), AccountID: "relay1", Channel: qunyun.ChannelRelay,
				GroupID: pending[0].group, MemberID: pending[0].group + "-a", Kind: qunyun.KindText, Text: "今天的资料已经整理好了", At: pending[0].at.UTC()}, qunyun.Followup{})
			if err != nil {
				t.Fatal(err)
			}
			pending = pending[1:]
		}
		in := `{"kind":"nightly","scheduledTime":"` + run.Format(time.RFC3339) + `"}`
		if err := h.Handle(ctx, json.RawMessage(in)); err != nil {
			t.Fatalf("run %s: %v", run.Format(time.RFC3339), err)
		}
	}

	t.Run("every day of every group once, after it ended, complete", func(t *testing.T) {
		for gid, zone := range zones {
			loc := mustZone(t, zone)
			scores, err := dynamo.Scores{Table: table}.GroupScores(ctx, gid, "2026-10-01", "2026-12-01")
			if err != nil {
				t.Fatal(err)
			}
			var dates []string
			for _, sc := range scores {
				dates = append(dates, sc.Date)
				if sc.Activity.Messages != 2 {
					t.Errorf("%s %s: %d messages counted, want 2 (00:30 and 23:30 local)", gid, sc.Date, sc.Activity.Messages)
				}
				when := store.at[gid+" "+sc.Date]
				if len(when) != 1 {
					t.Errorf("%s %s scored %d times", gid, sc.Date, len(when))
					continue
				}
				d, _ := time.ParseInLocation(time.DateOnly, sc.Date, loc)
				end := d.AddDate(0, 0, 1)
				if got := when[0].Sub(end); got != 2*time.Hour {
					t.Errorf("%s %s scored at %s, %v after the day ended; want 2h", gid, sc.Date, when[0].Format(time.RFC3339), got)
				}
			}
			var want []string
			for d, _ := time.Parse(time.DateOnly, first); d.Format(time.DateOnly) <= last; d = d.AddDate(0, 0, 1) {
				want = append(want, d.Format(time.DateOnly))
			}
			if !slices.Equal(dates, want) {
				t.Errorf("%s scored %v, want %v", gid, dates, want)
			}
		}
	})

	t.Run("the clock-change days", func(t *testing.T) {
		for key, want := range map[string]string{
			"ldn 2026-10-24": "2026-10-25T01:00:00Z", // BST: ended 23:00Z
			"ldn 2026-10-25": "2026-10-26T02:00:00Z", // 25 h, ended 00:00Z GMT
			"la 2026-10-31":  "2026-11-01T09:00:00Z", // PDT: ended 07:00Z
			"la 2026-11-01":  "2026-11-02T10:00:00Z", // 25 h, ended 08:00Z PST
			"sh 2026-11-01":  "2026-11-01T18:00:00Z",
		} {
			if got := store.at[key]; len(got) != 1 || !got[0].Equal(utc(want)) {
				t.Errorf("%s scored at %v, want %s", key, got, want)
			}
		}
	})

	t.Run("the report of a date grows as it ends further west", func(t *testing.T) {
		var ids []string
		groups := map[string]int{}
		for _, e := range pub.events {
			if e.DetailType != qunyun.EventScoresComputed {
				continue
			}
			sc := e.Detail.(qunyun.ScoresComputed)
			if sc.Date == "2026-10-30" {
				ids = append(ids, sc.ID)
				groups[sc.ID] = sc.Groups
			}
		}
		want := []string{"2026-10-30@2026-10-30T18:00:00Z", "2026-10-30@2026-10-31T02:00:00Z", "2026-10-30@2026-10-31T09:00:00Z"}
		if !slices.Equal(ids, want) {
			t.Fatalf("ScoresComputed ids for 10-30: %v, want %v", ids, want)
		}
		if groups[want[0]] != 1 || groups[want[1]] != 2 || groups[want[2]] != 3 {
			t.Fatalf("groups per ScoresComputed: %v", groups)
		}
		rep, found, err := dynamo.Scores{Table: table}.Report(ctx, "2026-10-30")
		if err != nil || !found || len(rep.Groups) != 3 {
			t.Fatalf("report of 10-30: found=%v err=%v groups=%d", found, err, len(rep.Groups))
		}
	})

	t.Run("contests run once a day, at 02:00 Shanghai", func(t *testing.T) {
		if len(contests.runs) != 10 { // 18:00Z on 10-24 … 11-02
			t.Fatalf("contests ran %d times: %v", len(contests.runs), contests.runs)
		}
		for _, at := range contests.runs {
			if at.UTC().Hour() != 18 {
				t.Errorf("contests ran at %s", at.Format(time.RFC3339))
			}
		}
	})
}

// TestRerunByDateSkipsDaysNotOver: an operator's re-run of a date scores
// only the groups whose day (plus the margin) is over.
func TestRerunByDateSkipsDaysNotOver(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewManual(utc("2026-11-23T02:00:00Z")) // London's 11-22 just scored; LA's not over
	table := dynamotest.NewTable(t, clk)
	for gid, zone := range map[string]string{"sh": "Asia/Shanghai", "ldn": "Europe/London", "la": "America/Los_Angeles"} {
		if err := (dynamo.Catalog{Table: table}).PutGroup(ctx, qunyun.Group{ID: gid, Name: gid, TimeZone: zone}); err != nil {
			t.Fatal(err)
		}
	}
	scorer, err := scoring.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &scoring.Handler{Night: &scoring.Night{Stores: scoringStores(table), Bus: &busLog{}, Scorer: scorer, Now: clk.Now}}
	if err := h.Handle(ctx, json.RawMessage(`{"kind":"nightly","scheduledTime":"2026-11-23T02:00:00Z","date":"2026-11-22"}`)); err != nil {
		t.Fatal(err)
	}
	scores, err := dynamo.Scores{Table: table}.ScoresOn(ctx, "2026-11-22")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range scores {
		got = append(got, s.GroupID)
	}
	slices.Sort(got)
	if strings.Join(got, ",") != "ldn,sh" {
		t.Fatalf("re-run of 11-22 at 02:00Z scored %v, want ldn and sh (Los Angeles is at 18:00)", got)
	}
}

// TestMissedRunIsCaughtUp: the run that should score London's 30 October
// (02:00Z on the 31st) never happens (its retries spent); the run three
// hours later scores that day, once, completely, and nothing else twice.
func TestMissedRunIsCaughtUp(t *testing.T) {
	ctx := t.Context()
	clk := clock.NewManual(utc("2026-10-29T00:00:00Z"))
	table := dynamotest.NewTable(t, clk)
	for gid, zone := range map[string]string{"sh": "Asia/Shanghai", "ldn": "Europe/London"} {
		if err := (dynamo.Catalog{Table: table}).PutGroup(ctx, qunyun.Group{ID: gid, Name: gid, TimeZone: zone}); err != nil {
			t.Fatal(err)
		}
	}
	scorer, err := scoring.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Scores: dynamo.Scores{Table: table}, now: clk.Now, at: map[string][]time.Time{}}
	h := &scoring.Handler{Night: &scoring.Night{Stores: countingStores(table, store), Bus: &busLog{}, Scorer: scorer, Now: clk.Now}}
	missed := utc("2026-10-31T02:00:00Z")
	for run := utc("2026-10-29T10:00:00Z"); !run.After(utc("2026-11-01T12:00:00Z")); run = run.Add(time.Hour) {
		if run.Equal(missed) {
			continue
		}
		clk.Set(run)
		if run.Equal(missed.Add(time.Hour)) {
			if err := (dynamo.Catalog{Table: table}).PutGroup(ctx, qunyun.Group{ID: "late", Name: "late", TimeZone: "Europe/London", CreatedAt: run}); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.Handle(ctx, json.RawMessage(`{"kind":"nightly","scheduledTime":"`+run.Format(time.RFC3339)+`"}`)); err != nil {
			t.Fatalf("run %s: %v", run.Format(time.RFC3339), err)
		}
	}
	if got := store.at["ldn 2026-10-30"]; len(got) != 1 || !got[0].Equal(missed.Add(scoring.CatchUpAfter)) {
		t.Fatalf("London's 10-30 scored at %v, want once at %s", got, missed.Add(scoring.CatchUpAfter).Format(time.RFC3339))
	}
	for key, at := range store.at {
		if len(at) != 1 {
			t.Errorf("%s scored %d times: %v", key, len(at), at)
		}
	}
	for _, key := range []string{"ldn 2026-10-29", "ldn 2026-10-31", "sh 2026-10-30", "sh 2026-10-31"} {
		if len(store.at[key]) != 1 {
			t.Errorf("%s not scored", key)
		}
	}
	// A group created after the missed run is not scored for the day before
	// it existed when that run is caught up.
	if len(store.at["late 2026-10-30"]) != 0 {
		t.Errorf("a group created at 03:00Z was scored for 10-30 by the caught-up run")
	}
	// The first runs on the new table replayed nothing before them.
	if len(store.at["ldn 2026-10-28"]) != 0 || len(store.at["sh 2026-10-28"]) != 0 {
		t.Errorf("days before the first run were scored: %v", store.at)
	}
}

// countingStores are the table's stores with the score writes counted.
func countingStores(table *dynamo.Table, c *countingStore) scoring.Stores {
	st := scoringStores(table)
	st.Scores = c
	return st
}
