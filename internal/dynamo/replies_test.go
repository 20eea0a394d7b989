package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Replies lists the group messages answered with a passive reply, whether
// the reply came with the record or when its work finished, in the span
// asked for; messages without one are left out.
func TestRepliesInGroup(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 15, 59, 0, 0, time.UTC) // 23:59 in Shanghai
	msg := func(id string, at time.Time, text string) qunyun.Message {
		return qunyun.Message{ID: id, AccountID: "bot", Channel: qunyun.ChannelWeComBot, GroupID: "g1", MemberID: "m1",
			Kind: qunyun.KindText, Text: text, At: at}
	}
	if _, _, err := (dynamo.Log{Table: tb}).RecordMessage(ctx, msg("kw", at, "@助手 菜单"), qunyun.Followup{Reply: "菜单在这里"}); err != nil {
		t.Fatal(err)
	}
	ci := msg("ci", at.Add(2*time.Minute), "@助手 打卡") // the next UTC day's partition
	if _, _, err := (dynamo.Log{Table: tb}).RecordMessage(ctx, ci, qunyun.Followup{Steps: []string{"checkin:ci-1"}}); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Followups{Table: tb}).FinishFollowup(ctx, qunyun.Record{Message: &ci}, "打卡成功"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (dynamo.Log{Table: tb}).RecordMessage(ctx, msg("chat", at.Add(time.Minute), "哈哈"), qunyun.Followup{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (dynamo.Log{Table: tb}).RecordMessage(ctx, msg("late", at.Add(time.Hour), "@助手 菜单"), qunyun.Followup{Reply: "菜单在这里"}); err != nil {
		t.Fatal(err)
	}
	got, err := dynamo.Replies{Table: tb}.InGroup(ctx, "g1", at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Message.ID != "kw" || got[0].Reply != "菜单在这里" || got[1].Message.ID != "ci" || got[1].Reply != "打卡成功" {
		t.Fatalf("replies %+v, want kw and ci", got)
	}
}
