package scoring_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// skip stores a delivery push skipped for reason, due at at.
func (w *world) skip(kind qunyun.TargetKind, target, group, reason string, at time.Time) {
	w.t.Helper()
	d := qunyun.Delivery{ID: w.id("dlv"), Source: "plan-daily", TargetKind: kind, TargetID: target, GroupID: group,
		AccountID: "wecom1", ContentID: "c1", At: at.UTC()}
	_, it, err := dynamo.Deliveries{Table: w.table}.ClaimDelivery(w.ctx, qunyun.DeliveryRecord{Delivery: d})
	w.must(err)
	_, err = dynamo.Deliveries{Table: w.table}.UpdateDelivery(w.ctx, &it, func(d *qunyun.Delivery) { d.State, d.Reason = qunyun.DeliverySkipped, reason })
	w.must(err)
}

// TestReportSkipsAndContests: the report counts the day's skipped
// deliveries by reason, 1:1 ones too and only the day's (in the default
// zone), shows the contests that ran in the week with their top ranked
// entries, without the commenters' openids, and the day's reading heat.
func TestReportSkipsAndContests(t *testing.T) {
	_, w := oneNight(t, nil, func(w *world) {
		w.group("vip", qunyun.PurposeVIP, 3)
		day := localDay(0)
		w.skip(qunyun.TargetGroup, "vip", "vip", qunyun.ReasonQuietHours, day.Add(30*time.Minute)) // 00:30, 16:30Z the day before
		w.skip(qunyun.TargetGroup, "vip", "vip", qunyun.ReasonQuietHours, day.Add(23*time.Hour))
		w.skip(qunyun.TargetMember, "o-1", "", qunyun.ReasonCSWindow, day.Add(12*time.Hour))
		w.skip(qunyun.TargetGroup, "vip", "vip", qunyun.ReasonDailyCap, day.Add(-time.Minute)) // the day before
		w.skip(qunyun.TargetGroup, "vip", "vip", qunyun.ReasonNoisy, day.Add(24*time.Hour))    // the day after
		w.deliver("vip", "c-menu", day.Add(11*time.Hour))
		w.must(dynamo.Catalog{Table: w.table}.PutContent(w.ctx, qunyun.Content{ID: "c-menu", Kind: qunyun.ContentText, Title: "今日菜单"}))
		w.open("vip", "c-menu", "", "", day.Add(12*time.Hour))
		w.open("vip", "c-menu", "", "groupmessage", day.Add(13*time.Hour))
		rfc := func(d int) string { return localDay(d).Format(time.RFC3339) }
		for _, c := range []qunyun.Contest{
			{ID: "running", Title: "晒晒年夜饭", AccountID: "oa1", Start: rfc(-3), End: rfc(4), Winners: 1},
			{ID: "ended", Title: "上周活动", AccountID: "oa1", Start: rfc(-10), End: rfc(-5)},
			{ID: "old", Title: "早就结束", AccountID: "oa1", Start: rfc(-20), End: rfc(-7)},
			{ID: "later", Title: "还没开始", AccountID: "oa1", Start: rfc(1), End: rfc(8)},
		} {
			w.must(dynamo.Catalog{Table: w.table}.PutContest(w.ctx, c))
		}
		for i, rank := range []int{3, 1, 0, 2, 4} {
			w.must(dynamo.Scores{Table: w.table}.PutContestEntry(w.ctx, qunyun.ContestEntry{ContestID: "running", CommentID: int64(100 + i),
				OpenID: "o-secret", Content: "留言", Likes: 10 - rank, Rank: rank, Winner: rank == 1}))
		}
	})
	rep, found, err := dynamo.Scores{Table: w.table}.Report(t.Context(), monthStart)
	if err != nil || !found {
		t.Fatalf("report: %v %v", found, err)
	}
	want := map[string]int{qunyun.ReasonQuietHours: 2, qunyun.ReasonCSWindow: 1}
	if len(rep.Skips) != len(want) || rep.Skips[qunyun.ReasonQuietHours] != 2 || rep.Skips[qunyun.ReasonCSWindow] != 1 {
		t.Errorf("skips %v, want %v", rep.Skips, want)
	}
	var titles []string
	for _, c := range rep.Contests {
		titles = append(titles, c.Title)
	}
	if len(titles) != 2 || titles[0] != "晒晒年夜饭" || titles[1] != "上周活动" {
		t.Fatalf("contests %v, want the running one, then the one that ended in the week", titles)
	}
	var ranks []int
	for _, e := range rep.Contests[0].Entries {
		ranks = append(ranks, e.Rank)
		if e.OpenID != "" {
			t.Errorf("entry %d carries its commenter's openid into the report", e.CommentID)
		}
	}
	if len(ranks) != 3 || ranks[0] != 1 || ranks[1] != 2 || ranks[2] != 3 {
		t.Errorf("entries ranked %v, want the top 3 in order", ranks)
	}
	if len(rep.Heat) != 1 || rep.Heat[0].Title != "今日菜单" || rep.Heat[0].Deliveries != 1 ||
		rep.Heat[0].Heat != (qunyun.Heat{Opens: 2, Readers: 2, Shares: 1}) {
		t.Errorf("heat %+v, want the menu sent once and opened twice, once from a share", rep.Heat)
	}
	if rep.Contests[1].Entries == nil {
		t.Error("a contest without ranked entries has nil entries")
	}
}

// TestReportModeration: the report lists the week's moderation alert
// windows, newest first, with their counts, the senders and the deciders by
// name, and the decisions on each window's cases; a window before the week
// is left out.
func TestReportModeration(t *testing.T) {
	day := localDay(0)
	_, w := oneNight(t, nil, func(w *world) {
		w.group("fan", qunyun.PurposeFan, 3)
		w.must(dynamo.Catalog{Table: w.table}.PutMember(w.ctx, qunyun.Member{GroupID: "fan", ID: "wxid_mod", Name: "小鱼",
			Role: qunyun.RoleModerator, WeComUserID: "xiaoyu", JoinedAt: localDay(-30)}))
		store := dynamo.Moderation{Table: w.table}
		hit := func(window time.Time, id, member, name string, signals ...string) {
			w.t.Helper()
			b, levels, err := store.AddHit(w.ctx, "fan", window, qunyun.ModerationSample{HitID: id, MemberID: member, MemberName: name, Signals: signals}, 2)
			w.must(err)
			for range levels {
				w.must(store.OpenCase(w.ctx, qunyun.ModerationCase{Code: moderation.CaseCode(id), HitID: id, AccountID: "wecom1",
					GroupID: b.GroupID, MemberID: member, Signals: signals, At: window}))
			}
		}
		burst := day.Add(15 * time.Hour).UTC() // 15:00 on the date
		for i := range 4 {
			hit(burst, fmt.Sprintf("h%d", i), member("fan", i%2), "", qunyun.SignalFlood)
		}
		hit(burst, "h4", "outsider", "路人甲", qunyun.SignalLink)
		_, err := store.Decide(w.ctx, moderation.CaseCode("h0"), qunyun.ModerationDecision{Action: qunyun.ActionHide, By: "xiaoyu", At: burst.Add(time.Minute)})
		w.must(err)
		hit(day.Add(-2*24*time.Hour).UTC(), "early", member("fan", 2), "", qunyun.SignalSensitive) // in the week
		hit(day.Add(-8*24*time.Hour).UTC(), "old", member("fan", 2), "", qunyun.SignalSensitive)   // before it
	})
	rep, _, err := dynamo.Scores{Table: w.table}.Report(t.Context(), monthStart)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Moderation) != 2 {
		t.Fatalf("%d moderation windows, want the date's and the one two days before: %+v", len(rep.Moderation), rep.Moderation)
	}
	b := rep.Moderation[0]
	if b.GroupID != "fan" || b.Hits != 5 || b.Signals[qunyun.SignalFlood] != 4 || b.Signals[qunyun.SignalLink] != 1 {
		t.Fatalf("newest window %+v, want the date's 5 hits (4 flood, 1 link)", b)
	}
	if got := strings.Join(b.Members, ","); got != member("fan", 0)+","+member("fan", 1)+",路人甲" {
		t.Errorf("senders %q, want their names", got)
	}
	if len(b.Cases) != 2 || b.Cases[0].Code != moderation.CaseCode("h0") || len(b.Cases[0].Decisions) != 1 ||
		b.Cases[0].Decisions[0].By != "小鱼" || b.Cases[0].Decisions[0].Action != qunyun.ActionHide || len(b.Cases[1].Decisions) != 0 {
		t.Errorf("cases %+v, want the alert's (hidden by 小鱼) and the undecided follow-up's", b.Cases)
	}
	if rep.Moderation[1].Signals[qunyun.SignalSensitive] != 1 {
		t.Errorf("older window %+v, want the sensitive hit two days before", rep.Moderation[1])
	}
}
