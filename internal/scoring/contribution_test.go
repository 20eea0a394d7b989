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

// A contribution staff approved counts toward the editor's level, read
// from the group-day log the approval wrote; a draft or a rejected one
// counts nothing.
func TestApprovedContributionsCountTowardLevel(t *testing.T) {
	d := day(qunyun.PurposeLearning, 10)
	clk := clock.NewManual(d.Start.Add(9 * time.Hour))
	tb := dynamotest.NewTable(t, clk)
	ctx := context.Background()
	store := dynamo.Contributions{Table: tb}
	for i, id := range []string{"tg-1", "tg-2", "tg-3", "tg-4"} {
		c := qunyun.Content{ID: id, Kind: qunyun.ContentText, Text: "读书笔记", Tags: []string{"投稿"},
			Contribution: &qunyun.Contribution{State: qunyun.ContentDraft, MemberID: "m003", GroupID: "g1", AccountID: "relay",
				Channel: qunyun.ChannelRelay, MessageID: "msg-" + id, SubmittedAt: clk.Now()}}
		if _, err := store.Submit(ctx, c); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0, 1:
			if _, err := store.Review(ctx, id, true, "ops-lin", clk.Now().Add(time.Duration(i)*time.Minute), ""); err != nil {
				t.Fatal(err)
			}
		case 2:
			if _, err := store.Review(ctx, id, false, "ops-lin", clk.Now(), "重复"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := store.Review(ctx, "tg-1", false, "ops-chen", clk.Now(), "x"); qunyun.ErrorCode(err) != qunyun.ECONFLICT {
		t.Fatalf("a second review of tg-1: %v, want conflict", err)
	}
	log, err := dynamo.Log{Table: tb}.GroupLog(ctx, "g1", d.Start, d.End)
	if err != nil {
		t.Fatal(err)
	}
	d.Log = log
	s, err := scoring.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var lv qunyun.MemberLevel
	for _, l := range s.Score(d).Levels {
		if l.MemberID == "m003" {
			lv = l
		}
	}
	if len(lv.Days) == 0 || lv.Days[len(lv.Days)-1].Contributed != 2 {
		t.Fatalf("m003's days: %+v (want 2 approved contributions today, not the draft nor the rejected one)", lv.Days)
	}
	if !strings.Contains(lv.Why, "投稿录用 2 篇") {
		t.Fatalf("the level does not say why: %q", lv.Why)
	}
	if scoring.Points(qunyun.Contributions{Contributed: 2}) != 12 {
		t.Fatalf("two approved contributions weigh %v points, want 12 (like two answers)", scoring.Points(qunyun.Contributions{Contributed: 2}))
	}
}
