package scoring_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

// TestSessionAcrossMidnight: a question asked after midnight in a session
// that began before it counts on the day it was asked; it is on neither
// day when the day reads only the sessions that started in it.
func TestSessionAcrossMidnight(t *testing.T) {
	ctx := context.Background()
	loc := qunyun.LoadLocation("")
	d1 := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	table := dynamotest.NewTable(t, clock.NewManual(d1.AddDate(0, 0, 3)))
	start := d1.Add(23*time.Hour + 40*time.Minute)
	g := qunyun.Group{ID: "g1", Name: "VIP", Purpose: qunyun.PurposeVIP}
	if err := (dynamo.Catalog{Table: table}).PutGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	s := qunyun.Session{ID: "late", GroupID: "g1", HostID: "h1", Start: start.UTC(), End: start.Add(45 * time.Minute).UTC(),
		State: qunyun.SessionRecapped, Run: qunyun.SessionRun{OpenedAt: start.UTC(), HostSeen: true}}
	if _, err := (dynamo.Sessions{Table: table}).CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{start.Add(10 * time.Minute), start.Add(25 * time.Minute)} { // 23:50 and 00:05
		if _, err := (dynamo.Sessions{Table: table}).CaptureQuestion(ctx, qunyun.Question{SessionID: "late", GroupID: "g1", MemberID: "m1",
			Text: "估值怎么谈？", At: at.UTC(), MessageID: "q" + string(rune('1'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	scorer, err := scoring.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &scoring.Night{Stores: scoringStores(table), Scorer: scorer, Now: table.Now}
	questions := func(date string) (q, sessions float64) {
		res, err := n.Group(ctx, g, date, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, dim := range res.Score.Dimensions {
			switch dim.Name {
			case qunyun.DimensionAnswers:
				q = dim.Numbers["questions"]
			case qunyun.DimensionInformation:
				sessions = dim.Numbers["sessions"]
			}
		}
		return q, sessions
	}
	q1, s1 := questions("2026-11-20")
	q2, s2 := questions("2026-11-21")
	if q1 != 1 || q2 != 1 || s1 != 1 || s2 != 0 {
		t.Fatalf("questions %v then %v, sessions %v then %v; want 1 and 1, 1 and 0", q1, q2, s1, s2)
	}
}

// TestReportShowsTheWeeksSessions: the report of a date shows the recaps
// of the 7 days ending with it, of every group, not only sessions of the
// date itself (which said "今天没有嘉宾场" in a week of sessions).
func TestReportShowsTheWeeksSessions(t *testing.T) {
	_, w := oneNight(t, nil, func(w *world) {
		w.group("vip", qunyun.PurposeVIP, 5)
		w.group("learn", qunyun.PurposeLearning, 5)
		for _, s := range []struct {
			id, group string
			day       int
		}{{"s-old", "vip", -8}, {"s-mon", "vip", -3}, {"s-today", "learn", 0}, {"s-next", "learn", 1}} {
			start := localDay(s.day).Add(20 * time.Hour).UTC()
			_, err := dynamo.Sessions{Table: w.table}.CreateSession(w.ctx, qunyun.Session{ID: s.id, GroupID: s.group, HostID: "h1", Topic: s.id,
				Start: start, End: start.Add(45 * time.Minute), State: qunyun.SessionRecapped})
			w.must(err)
			_, err = dynamo.Sessions{Table: w.table}.PutRecapOnce(w.ctx, qunyun.Recap{SessionID: s.id, GroupID: s.group, HostID: "h1", Topic: s.id,
				Start: start, KeyPoints: []string{"要点"}, DigestMembers: []string{"vip-m01"}})
			w.must(err)
		}
	})
	rep, found, err := dynamo.Scores{Table: w.table}.Report(t.Context(), monthStart)
	if err != nil || !found {
		t.Fatalf("report: %v %v", found, err)
	}
	var got []string
	for _, r := range rep.Recaps {
		got = append(got, r.SessionID)
		if len(r.DigestMembers) > 0 {
			t.Errorf("recap %s carries its digest members into the report", r.SessionID)
		}
	}
	if strings.Join(got, ",") != "s-mon,s-today" {
		t.Fatalf("report recaps %v, want the week's s-mon and s-today", got)
	}
}
