package dynamo_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// openAs records an open the way the callback's /r/{code} does
// (callback.Handler.link): the link names the group and, for a 1:1
// delivery, its recipient; from is WeChat's share signal in the query.
func openAs(t *testing.T, tb *dynamo.Table, l qunyun.Link, from string, at time.Time, req string) {
	t.Helper()
	o := qunyun.LinkOpen{GroupID: l.GroupID, ContentID: l.ContentID, DeliveryID: l.DeliveryID, MemberID: l.MemberID, From: from, At: at.UTC()}
	if err := (dynamo.Links{Table: tb}).RecordLinkOpen(context.Background(), l, o, req, "MicroMessenger"); err != nil {
		t.Fatal(err)
	}
}

func deliver(t *testing.T, tb *dynamo.Table, d qunyun.Delivery, state qunyun.DeliveryState) {
	t.Helper()
	deliverRecord(t, tb, qunyun.DeliveryRecord{Delivery: d}, state)
}

func deliverRecord(t *testing.T, tb *dynamo.Table, rec qunyun.DeliveryRecord, state qunyun.DeliveryState) {
	t.Helper()
	ctx := context.Background()
	_, it, err := dynamo.Deliveries{Table: tb}.ClaimDelivery(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (dynamo.Deliveries{Table: tb}).UpdateDelivery(ctx, &it, func(d *qunyun.Delivery) { d.State = state }); err != nil {
		t.Fatal(err)
	}
}

// TestReadingHeatAndShareMap: per content, the span's sent deliveries and
// opens, per group; a 1:1 link opened from a share (WeChat's from=) is
// credited to its recipient in the share map, and its openers count apart
// from the recipient's own opens.
func TestReadingHeatAndShareMap(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	from := testNow.Truncate(24 * time.Hour)
	to := from.Add(24 * time.Hour)
	for _, g := range []qunyun.Group{{ID: "g1", Name: "午餐一群"}, {ID: "g2", Name: "好物群"}} {
		if err := (dynamo.Catalog{Table: tb}).PutGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := (dynamo.Catalog{Table: tb}).PutContent(ctx, qunyun.Content{ID: "art", Kind: qunyun.ContentText, Title: "今日菜单"}); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Catalog{Table: tb}).PutContent(ctx, qunyun.Content{ID: "idle", Kind: qunyun.ContentText, Text: "没人看"}); err != nil {
		t.Fatal(err)
	}
	at := from.Add(3 * time.Hour)
	for i, d := range []struct {
		kind          qunyun.TargetKind
		target, group string
		state         qunyun.DeliveryState
		at            time.Time
	}{
		{qunyun.TargetGroup, "g1", "g1", qunyun.DeliverySent, at},
		{qunyun.TargetGroup, "g2", "g2", qunyun.DeliverySent, at},
		{qunyun.TargetGroup, "g2", "g2", qunyun.DeliverySkipped, at.Add(time.Hour)}, // not delivered
		{qunyun.TargetMember, "o-1", "", qunyun.DeliverySent, at},
		{qunyun.TargetGroup, "g1", "g1", qunyun.DeliverySent, from.Add(-time.Hour)}, // the day before
	} {
		deliver(t, tb, qunyun.Delivery{ID: fmt.Sprintf("p|%d|%s", i, d.target), Source: "p", TargetKind: d.kind, TargetID: d.target,
			GroupID: d.group, AccountID: "acct", ContentID: "art", At: d.at}, d.state)
	}
	// Text another function rendered (a session notice) and a moderation
	// alert to staff were never tracked: no heat, and no id in the report.
	deliverRecord(t, tb, qunyun.DeliveryRecord{Delivery: qunyun.Delivery{ID: "s|g1", Source: "session", TargetKind: qunyun.TargetGroup, TargetID: "g1",
		GroupID: "g1", ContentID: "session-opening", At: at}, Inline: &qunyun.Content{Kind: qunyun.ContentText, Text: "嘉宾场开始了"}}, qunyun.DeliverySent)
	deliver(t, tb, qunyun.Delivery{ID: "m|g1|mod", Source: "moderation", TargetKind: qunyun.TargetStaff, TargetID: "mod",
		GroupID: "g1", ContentID: "art", At: at}, qunyun.DeliverySent)
	group := qunyun.Link{Code: "grp1", URL: "https://example.com/a", GroupID: "g1", ContentID: "art", DeliveryID: "p|0|g1", AccountID: "acct"}
	personal := qunyun.Link{Code: "own1", URL: "https://example.com/a", ContentID: "art", DeliveryID: "p|3|o-1", MemberID: "o-1", AccountID: "acct"}
	openAs(t, tb, group, "", at.Add(time.Minute), "r1")
	openAs(t, tb, group, "groupmessage", at.Add(2*time.Minute), "r2")
	openAs(t, tb, personal, "", at.Add(time.Minute), "r3")
	openAs(t, tb, personal, "", at.Add(5*time.Minute), "r4") // the recipient again
	openAs(t, tb, personal, "singlemessage", at.Add(time.Hour), "r5")
	openAs(t, tb, personal, "timeline", at.Add(2*time.Hour), "r6")
	openAs(t, tb, personal, "", to.Add(time.Minute), "r7") // the day after

	heat, err := dynamo.Links{Table: tb}.ReadingHeat(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := []qunyun.ContentHeat{{ContentID: "art", Title: "今日菜单", Deliveries: 3,
		Heat: qunyun.Heat{Opens: 6, Readers: 5, Shares: 3},
		Groups: []qunyun.GroupHeat{
			{GroupID: "", Deliveries: 1, Heat: qunyun.Heat{Opens: 4, Readers: 3, Shares: 2}},
			{GroupID: "g1", Name: "午餐一群", Deliveries: 1, Heat: qunyun.Heat{Opens: 2, Readers: 2, Shares: 1}},
			{GroupID: "g2", Name: "好物群", Deliveries: 1},
		},
		SharedBy: []qunyun.Sharer{{MemberID: "o-1", Opens: 2}},
	}}
	if !reflect.DeepEqual(heat, want) {
		t.Fatalf("heat\n got %+v\nwant %+v", heat, want)
	}
	// A span with nothing sent or opened is an empty list, not nil (JSON []).
	none, err := dynamo.Links{Table: tb}.ReadingHeat(ctx, to.Add(48*time.Hour), to.Add(72*time.Hour))
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("empty span: %#v %v", none, err)
	}
}
