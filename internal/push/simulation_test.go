package push_test

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// demoCatalog mirrors infra/local/community.yaml (groups, contents, plans),
// with the test accounts in place of the demo ones. It is rebuilt here
// rather than loaded because the loader belongs to the config tooling.
func demoCatalog(e *env) []qunyun.Group {
	g := func(id, acct, name string, p qunyun.Purpose, tags []string, owner string, caps qunyun.Caps) qunyun.Group {
		return qunyun.Group{ID: id, AccountID: acct, Name: name, Purpose: p, Tags: tags, OwnerID: owner, TimeZone: "Asia/Shanghai",
			Caps: caps, State: qunyun.GroupActive, MemberCount: 40, CreatedAt: local(2026, 6, 1, 0, 0)}
	}
	groups := []qunyun.Group{
		g("g-shelf", "wc", "小满好物架", qunyun.PurposeShelf, []string{"好物", "餐饮"}, "owner-lin", qunyun.Caps{DailyMax: 2, QuietStart: "21:30", QuietEnd: "09:00"}),
		g("g-popup", "wc", "周末食材资源快闪群", qunyun.PurposeResourcePopup, []string{"资源", "快闪"}, "owner-lin", qunyun.Caps{DailyMax: 1}),
		g("g-fan", "relay", "小满粉丝团", qunyun.PurposeFan, []string{"粉丝", "餐饮"}, "owner-zhou", qunyun.Caps{}),
		g("g-punch", "relay", "21天轻食打卡营", qunyun.PurposePunchCard, []string{"打卡", "健康"}, "owner-zhou", qunyun.Caps{}),
		g("g-industry", "relay", "餐饮老板交流群", qunyun.PurposeIndustry, []string{"餐饮", "行业"}, "owner-chen", qunyun.Caps{DailyMax: 2, QuietStart: "22:30", QuietEnd: "08:30"}),
		g("g-vip-1", "wc", "小满会员核心群 1", qunyun.PurposeVIP, []string{"会员", "餐饮"}, "owner-chen", qunyun.Caps{}),
		g("g-vip-2", "wc", "小满会员核心群 2", qunyun.PurposeVIP, []string{"会员", "健康"}, "owner-chen", qunyun.Caps{}),
		g("g-general-1", "relay", "小满吃货一群", qunyun.PurposeGeneral, []string{"餐饮", "新人"}, "owner-lin", qunyun.Caps{}),
		g("g-general-2", "relay", "小满吃货二群", qunyun.PurposeGeneral, []string{"餐饮"}, "owner-lin", qunyun.Caps{}),
		g("g-learning", "bot", "家常菜学习群", qunyun.PurposeLearning, []string{"学习", "健康"}, "owner-zhou", qunyun.Caps{}),
		// A WeCom customer group for the newcomer journey (1:1 tasks).
		g("g-newcomers", "wc", "小满新人群", qunyun.PurposeGeneral, []string{"新人"}, "owner-lin", qunyun.Caps{}),
	}
	groups[9].Webhook = "learning" // its robot
	for _, gr := range groups {
		if err := (dynamo.Catalog{Table: e.tb}).PutGroup(e.ctx, gr); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, c := range []qunyun.Content{
		{ID: "c-lunch-menu", Kind: qunyun.ContentText, Text: "{{.Group.Name}}的朋友们，午饭时间快到啦！今天推荐：番茄牛腩饭。"},
		{ID: "c-lunch-light", Kind: qunyun.ContentText, Text: "午餐小提示：一拳主食、两拳蔬菜、一掌蛋白质。"},
		{ID: "c-weekly-article", Kind: qunyun.ContentLink, Title: "本周好物：冬季暖身汤底测评", Text: "五款汤底盲测", URL: "https://example.com/articles/winter-soup"},
		{ID: "c-coupon", Kind: qunyun.ContentLink, Title: "会员专享：满 100 减 30 券", URL: "https://example.com/coupon/vip-30", Benefit: true},
		{ID: "c-welcome", Kind: qunyun.ContentText, Text: "欢迎 {{.Member.Name}} 加入{{.Group.Name}}！"},
		{ID: "c-day3-tips", Kind: qunyun.ContentLink, Title: "新人第 3 天：三道十分钟快手菜", URL: "https://example.com/articles/quick-dishes"},
		{ID: "c-industry-report", Kind: qunyun.ContentLink, Title: "11 月餐饮行业观察", URL: "https://example.com/reports/2026-11"},
		{ID: "c-punch-reminder", Kind: qunyun.ContentText, Text: "今天的轻食打卡别忘了～"},
		{ID: "c-tip", Kind: qunyun.ContentText, Text: "{{.Group.Name}} 每日小贴士：https://example.com/tips/{{.Date}}"},
	} {
		e.put(c)
	}
	for _, p := range []qunyun.Plan{
		{ID: "p-lunch", Contents: []string{"c-lunch-menu", "c-lunch-light"}, Select: qunyun.GroupSelector{Tags: []string{"餐饮"}, Purposes: []qunyun.Purpose{"general", "fan", "vip"}}, Cron: "cron(0 11 ? * MON-FRI *)"},
		{ID: "p-weekly-shelf", Contents: []string{"c-weekly-article"}, Select: qunyun.GroupSelector{Purposes: []qunyun.Purpose{"shelf"}}, Cron: "cron(0 20 ? * FRI *)"},
		{ID: "p-vip-benefit", Contents: []string{"c-coupon"}, Select: qunyun.GroupSelector{Purposes: []qunyun.Purpose{"vip"}}, Cron: "cron(30 19 ? * WED *)",
			Start: local(2026, 11, 1, 0, 0), End: local(2027, 1, 31, 23, 59)},
		{ID: "p-industry", Contents: []string{"c-industry-report"}, Select: qunyun.GroupSelector{Groups: []string{"g-industry"}}, Cron: "cron(0 9 1 * ? *)"},
		{ID: "p-punch", Contents: []string{"c-punch-reminder"}, Select: qunyun.GroupSelector{Purposes: []qunyun.Purpose{"punch-card"}}, Cron: "cron(0 7 * * ? *)"},
		{ID: "p-newcomer", Select: qunyun.GroupSelector{Tags: []string{"新人"}},
			Journey: []qunyun.JourneyStep{{Day: 0, Content: "c-welcome"}, {Day: 3, At: "10:00", Content: "c-day3-tips"}}},
		// Pressure on the caps: a tip every three hours to every group.
		{ID: "p-tips", Contents: []string{"c-tip"}, Cron: "cron(0 0/3 * * ? *)"},
	} {
		e.put(p)
	}
	return groups
}

type dayStats struct {
	sent, pending, opened int
	skipped               map[string]int
}

// 30 simulated days of the demo plans: every group and day within its caps,
// nothing in quiet hours, each slot once; prints sent / skipped by reason /
// opened per group and day (go test -v -run Simulation).
func TestThirtySimulatedDays(t *testing.T) {
	if testing.Short() {
		t.Skip("30 simulated days take about a minute")
	}
	start := local(2026, 11, 1, 0, 0)
	e := newEnv(t, start)
	e.svc.Workers = 8
	groups := demoCatalog(e)
	rng := rand.New(rand.NewPCG(4, 2))
	joined := 0
	// Hourly ticks: each catches up on the hour before it, as a late
	// scheduler would (MaxCatchUp is 60 minutes).
	for m := start; m.Before(start.AddDate(0, 0, 30)); m = m.Add(time.Hour) {
		e.tick(m)
		local := m.In(shanghai)
		if local.Hour() == 14 && local.Minute() == 0 {
			// A newcomer joins the newcomer group every day at 14:00.
			joined++
			mid := fmt.Sprintf("wm-%02d", joined)
			name := fmt.Sprintf("新人%02d", joined)
			e.put(qunyun.Member{GroupID: "g-newcomers", ID: mid, Name: name, Role: qunyun.RoleMember, JoinedAt: m})
			ev := map[string]any{"id": "join-" + mid, "account": "wc", "group": "g-newcomers", "member": mid, "name": name, "at": m}
			if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventMemberJoined, m, ev)); err != nil {
				t.Fatal(err)
			}
		}
		// Owners confirm about 70% of tasks within the hour.
		for _, task := range e.sbx.Tasks() {
			if task.SentAt.IsZero() && !task.Cancelled && m.Sub(task.Created) >= time.Hour && hashPct(task.MsgID) < 70 {
				e.sbx.Confirm(task.MsgID)
			}
		}
	}

	// Collect every delivery and simulate opens of the tracked links.
	stats := map[string]map[string]*dayStats{} // group → local date → stats
	statFor := func(gid, date string) *dayStats {
		if stats[gid] == nil {
			stats[gid] = map[string]*dayStats{}
		}
		if stats[gid][date] == nil {
			stats[gid][date] = &dayStats{skipped: map[string]int{}}
		}
		return stats[gid][date]
	}
	byGroup := map[string]qunyun.Group{}
	for _, g := range groups {
		byGroup[g.ID] = g
	}
	seen := map[string]bool{}
	monthly := map[string]int{}
	var all []qunyun.DeliveryRecord
	for d := start.AddDate(0, 0, -1); d.Before(start.AddDate(0, 0, 31)); d = d.AddDate(0, 0, 1) {
		items, err := dynamo.Deliveries{Table: e.tb}.DayDeliveries(e.ctx, d.UTC().Format(time.DateOnly), "")
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, items...)
	}
	for _, it := range all {
		if seen[it.ID] {
			t.Fatalf("delivery %s stored twice", it.ID)
		}
		seen[it.ID] = true
		g := byGroup[it.GroupID]
		at := it.At.In(g.Location())
		st := statFor(it.GroupID, at.Format(time.DateOnly))
		switch it.State {
		case qunyun.DeliverySent, qunyun.DeliveryTaskCreated:
			if it.State == qunyun.DeliverySent {
				st.sent++
			} else {
				st.pending++
			}
			// A slot due in quiet hours is deferred: judge when it was sent.
			if sentAt := it.SendStartedAt.In(g.Location()); it.TargetKind == qunyun.TargetGroup && push.InQuietHours(sentAt, g.EffectiveCaps()) {
				t.Errorf("%s: sent at %s inside quiet hours", it.GroupID, sentAt.Format("01-02 15:04"))
			}
			if it.TargetKind == qunyun.TargetGroup && g.AccountID == "wc" {
				monthly[it.GroupID]++
			}
			if it.State == qunyun.DeliverySent && it.TargetKind == qunyun.TargetGroup {
				for i := range rng.IntN(4) {
					o := qunyun.LinkOpen{GroupID: it.GroupID, ContentID: it.ContentID, DeliveryID: it.ID, MemberID: fmt.Sprintf("m%d", rng.IntN(40)), At: it.At.Add(time.Duration(i+1) * time.Minute)}
					putOpen(t, e, o, i)
				}
			}
		case qunyun.DeliverySkipped, qunyun.DeliveryFailed, qunyun.DeliveryExpired, qunyun.DeliveryNotSent:
			st.skipped[string(it.State)+":"+it.Reason]++
		default:
			t.Errorf("delivery %s left in state %s", it.ID, it.State)
		}
	}
	for gid, days := range stats {
		caps := byGroup[gid].EffectiveCaps()
		for date, st := range days {
			// Member deliveries (journeys) are not group posts; count group ones.
			n := 0
			for _, it := range all {
				if it.GroupID == gid && it.TargetKind == qunyun.TargetGroup && it.At.In(shanghai).Format(time.DateOnly) == date &&
					(it.State == qunyun.DeliverySent || it.State == qunyun.DeliveryTaskCreated) {
					n++
				}
			}
			if n > caps.DailyMax {
				t.Errorf("%s on %s: %d group posts, cap %d", gid, date, n, caps.DailyMax)
			}
			if opens, err := (dynamo.Links{Table: e.tb}).GroupOpens(e.ctx, gid, date); err == nil {
				st.opened = len(opens) // UTC date ≈ local date for the report
			}
		}
	}
	for gid, n := range monthly {
		if n > 30 {
			t.Errorf("%s: %d customer-group tasks in November, cap 30", gid, n)
		}
	}
	if e.relayPosts.Load() == 0 || len(e.sbx.Calls("/cgi-bin/webhook/send")) == 0 || len(e.sbx.Tasks()) == 0 {
		t.Errorf("a channel was never used: relay %d, robot %d, tasks %d", e.relayPosts.Load(), len(e.sbx.Calls("/cgi-bin/webhook/send")), len(e.sbx.Tasks()))
	}

	// The report: per group and local day.
	var b strings.Builder
	totals := map[string]int{}
	gids := make([]string, 0, len(stats))
	for gid := range stats {
		gids = append(gids, gid)
	}
	sort.Strings(gids)
	for _, gid := range gids {
		dates := make([]string, 0, len(stats[gid]))
		for d := range stats[gid] {
			dates = append(dates, d)
		}
		sort.Strings(dates)
		for _, d := range dates {
			st := stats[gid][d]
			fmt.Fprintf(&b, "%-12s %s sent=%d pending=%d opened=%d skipped=%v\n", gid, d, st.sent, st.pending, st.opened, st.skipped)
			totals["sent"] += st.sent
			totals["opened"] += st.opened
			for r, n := range st.skipped {
				totals[r] += n
			}
		}
	}
	t.Logf("30 days, %d deliveries, per group and day:\n%s", len(all), b.String())
	t.Logf("totals: %v; DeliveryUnknown metrics: %d", totals, strings.Count(e.metrics.String(), "DeliveryUnknown"))
}

func hashPct(s string) int {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int(h.Sum32() % 100)
}
