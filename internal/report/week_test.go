package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/report"
	"github.com/qunyun/qunyun/internal/simulate"
	"github.com/qunyun/qunyun/internal/syncbuf"
)

// The simulated week: what `qunyun simulate --days 7` does, on a few of the
// demo community's groups with small memberships (CI has two cores).
var (
	weekStart  = time.Date(2026, 11, 23, 0, 0, 0, 0, qunyun.LoadLocation("")) // a Monday, the CLI's day 0
	weekGroups = []string{"g-fan", "g-general-1", "g-vip-1"}
)

const (
	weekDays = 7
	weekSize = 25 // members a group: one of them a spammer, outside VIP groups
	weekSeed = 7
)

// TestSimulatedWeekReport lives a simulated week of the demo community
// through the local stack on a stepped clock — every message a signed
// callback, the functions on their own schedules, the nightly scoring and
// contests — then renders the report of the week's last day in headless
// Chromium and checks that its sections show names, not ids: groups and
// their purposes in Chinese, skip reasons by name, the contest's
// standings, the week's sessions, reading heat, a leader candidate with
// the command that promotes them, and the week's moderation with a burst,
// its sender and the moderator's decision.
//
// What the simulator never does, the test adds as an operator and members
// would: three weeks of one member's answers before the week (a leader
// needs 8 active days in 28), comments under the contest's article, a
// burst of ads (which a moderator then marks to recall) and a lone one.
func TestSimulatedWeekReport(t *testing.T) {
	if testing.Short() {
		t.Skip("integration: a simulated week through the local stack")
	}
	browser := findChromium(t)
	w := startWeek(t)
	last := w.run(t)
	r := w.report(t, last)

	dir := t.TempDir()
	page := filepath.Join(dir, "week.html")
	d, err := report.New()
	if err != nil {
		t.Fatal(err)
	}
	var html strings.Builder
	if err := d.Write(&html, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, []byte(html.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	px := newProxy(t)
	dom := string(chromium(t, browser, dir, page, px, "--dump-dom"))
	if keep := os.Getenv("QUNYUN_WEEK_REPORT"); keep != "" {
		os.WriteFile(keep, []byte(html.String()), 0o644)
	}
	if body := regexp.MustCompile(`<body[^>]*>`).FindString(dom); !strings.Contains(body, `data-charts="drawn"`) {
		t.Errorf("not every chart drew: %s", body)
	}
	if hosts := px.requests(); len(hosts) != 0 {
		t.Errorf("the page made network requests: %q", hosts)
	}
	w.checkSections(t, r, dom)
}

// checkSections checks the drawn report of the week's last day.
func (w *week) checkSections(t *testing.T, r qunyun.Report, dom string) {
	t.Helper()
	section := func(title string) string {
		i := strings.Index(dom, "<h2>"+title)
		if i < 0 {
			t.Fatalf("the drawn page has no section %s", title)
		}
		rest := dom[i:]
		if j := strings.Index(rest, "</section>"); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	names := map[string]string{}
	for _, g := range w.c.Groups {
		names[g.ID] = g.Name
	}
	// Every group by name, its purpose in Chinese; no group or purpose id
	// in a cell anywhere.
	purposes := map[qunyun.Purpose]string{qunyun.PurposeShelf: "好物群", qunyun.PurposeResourcePopup: "资源快闪群", qunyun.PurposeFan: "粉丝群",
		qunyun.PurposePunchCard: "打卡群", qunyun.PurposeIndustry: "行业群", qunyun.PurposeVIP: "VIP 核心群", qunyun.PurposeGeneral: "普通群",
		qunyun.PurposeLearning: "学习群"}
	scores := section("各群得分与依据")
	for _, g := range w.c.Groups {
		if row := "<td>" + g.Name + "</td><td>" + purposes[g.Purpose] + "</td>"; !strings.Contains(scores, row) {
			t.Errorf("the scores lack %s", row)
		}
		for _, id := range []string{g.ID, string(g.Purpose)} {
			if strings.Contains(dom, "<td>"+id+"</td>") || strings.Contains(dom, "<td>"+id+"<br>") {
				t.Errorf("the drawn page shows the id %s", id)
			}
		}
	}
	// Skip reasons broken down, each by its name.
	skips := section("跳过原因")
	// Since relay groups get their welcomes through the bridge, the day's
	// skips are the moderation summaries a one-hit window needs none of.
	if n := strings.Count(skips, `<tr class="skip">`); n < 1 || n != len(r.Skips) {
		t.Errorf("%d skip reasons drawn, want every one of %v", n, r.Skips)
	}
	if !strings.Contains(skips, `<tr class="skip"><td>无需小结</td>`) {
		t.Errorf("the skip reasons lack 无需小结: %v", r.Skips)
	}
	if strings.Contains(skips, "未登记的原因") {
		t.Errorf("a skip reason has no name: %v", r.Skips)
	}
	// The contest by its title, ranked comments.
	contests := section("留言活动排名")
	if !strings.Contains(contests, `<td>晒出你的冬日暖汤，留言点赞前三名送会员月卡</td><td>11-23 至 12-06</td><td>第 1 名</td>`) ||
		strings.Contains(contests, "ct-winter-soup") {
		t.Errorf("the contest standings do not name the contest or rank its comments:\n%s", contests)
	}
	// The week's sessions, each in its group by name.
	recaps := section("嘉宾场回顾")
	if n := strings.Count(recaps, `<tr class="recap">`); n < 5 || n != len(r.Recaps) {
		t.Errorf("%d sessions drawn, want the week's %d", n, len(r.Recaps))
	}
	for _, rc := range r.Recaps {
		if !strings.Contains(recaps, "<td>"+names[rc.GroupID]+"</td><td>"+rc.Topic+"</td>") {
			t.Errorf("session %s is not shown in %s by name", rc.SessionID, names[rc.GroupID])
		}
	}
	// Reading heat by content title.
	heat := section("阅读热度")
	if strings.Count(heat, `<tr class="heat">`) == 0 || regexp.MustCompile(`<tr class="heat"><td>[\x21-\x7e]+</td>`).MatchString(heat) {
		t.Errorf("reading heat shows no content, or a content by its id:\n%s", heat)
	}
	// The leader by name in their group, with the command that promotes them.
	leaders := section("成员等级与骨干候选")
	lead := w.leader
	if !strings.Contains(leaders, `<tr class="leader"><td>`+lead.Name+`</td><td>小满粉丝团</td><td>管理员</td>`) ||
		!strings.Contains(leaders, "<code>qunyun promote "+lead.ID+" --group g-fan --to moderator --reason ") {
		t.Errorf("the leader %s (%s) is not listed with their promote command:\n%s", lead.Name, lead.ID, leaders)
	}
	// The week's moderation: the burst in its group by name, its signals in
	// Chinese, its sender, the moderator's decision by name.
	mod := section("群管提醒")
	burst := `<tr class="moderation"><td>11-28 16:00</td><td>小满粉丝团</td><td class="num">12</td><td>刷屏 ×`
	if !strings.Contains(mod, burst) || !strings.Contains(mod, "<td>"+w.spammer.Name+"<br></td>") ||
		!strings.Contains(mod, "（"+w.spammer.Name+"）：小鱼（社群助理） 撤回") || !strings.Contains(mod, "敏感词 ×") {
		t.Errorf("the moderation section lacks the burst, its sender or the decision:\n%s", mod)
	}
	// g-fan's two moderators (小鱼 and the owner) each got one alert per
	// window, one follow-up for the burst and one summary when its window
	// closed, none for the lone hits.
	var alerts, followUps, summaries []string
	for _, c := range w.stack.Sandbox().Calls("/cgi-bin/message/send") {
		switch body := string(c.Body); {
		case strings.Contains(body, "群「小满粉丝团」出现需要处理的消息"):
			alerts = append(alerts, body)
		case strings.Contains(body, "群「小满粉丝团」的情况仍在继续"):
			followUps = append(followUps, body)
		case strings.Contains(body, "小结"):
			summaries = append(summaries, body)
		}
	}
	windows := 0
	for _, b := range r.Moderation {
		if b.GroupID == "g-fan" {
			windows++
		}
	}
	if len(alerts) != 2*windows || len(followUps) != 2 {
		t.Errorf("%d alerts and %d follow-ups for g-fan's %d windows, want one alert per window and moderator and one follow-up each for the burst",
			len(alerts), len(followUps), windows)
	}
	if len(summaries) != 2 || !strings.Contains(summaries[0], "共有 12 条") {
		t.Errorf("%d burst summaries, want one for each of g-fan's 2 moderators:\n%s", len(summaries), strings.Join(summaries, "\n"))
	}
}

// week is a running simulation stack.
type week struct {
	ctx   context.Context
	root  string
	c     *community.Community
	stack *local.Stack
	table *dynamo.Table
	accts []qunyun.Account
	log   *syncbuf.Buffer
	// leader is the member with three weeks of answers before the week;
	// spammer the one who floods g-fan on its sixth day.
	leader, spammer *simulate.Member
}

// startWeek starts a local stack of its own, with its relay bridge (free
// ports, data in memory, a stepped clock before day 0), and applies the
// demo community.
func startWeek(t *testing.T) *week {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	w := &week{ctx: t.Context(), root: root, log: &syncbuf.Buffer{}}
	if w.c, err = community.Load(filepath.Join(root, "infra", "local", "community.yaml")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	acctFile := w.accounts(t, dir, addr)
	w.stack, err = local.New(local.Config{
		Root: root, Accounts: acctFile, Addr: addr, BusAddr: "127.0.0.1:0", DynamoAddr: "127.0.0.1:0",
		DataDir: "-", StateFile: "-", ClockStart: weekStart.Add(-30 * time.Minute), ClockFile: filepath.Join(dir, "clock"),
		Log: w.log, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- w.stack.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("stack: %v", err)
		}
		if t.Failed() {
			t.Logf("function output (tail):\n%s", tail(w.log.String(), 4000))
		}
	})
	select {
	case <-w.stack.Ready():
	case err := <-runErr:
		runErr <- err
		t.Fatalf("the stack failed to start: %v\n%s", err, tail(w.log.String(), 4000))
	case <-time.After(5 * time.Minute): // it builds the functions first
		t.Fatal("the stack was not ready within five minutes")
	}
	e := w.stack.Endpoints()
	w.table = &dynamo.Table{DB: dynamodb.New(dynamodb.Options{
		Region: local.Region, BaseEndpoint: aws.String(e.DynamoDB),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}), Name: e.TableName, Now: w.stack.Clock().Now}
	d, err := community.Compute(w.ctx, w.table, w.c, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Apply(w.ctx, w.table, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

// accounts writes the demo accounts with their webhooks moved to this
// stack's gateway and relay accounts given the simulation's bridge, as
// qunyun simulate does.
func (w *week) accounts(t *testing.T, dir, addr string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.root, "infra", "local", "accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &w.accts); err != nil {
		t.Fatal(err)
	}
	for i, a := range w.accts {
		w.accts[i].Webhook = strings.Replace(a.Webhook, "127.0.0.1:3000", addr, 1)
		if a.Kind == qunyun.ChannelRelay && a.Webhook == "" {
			w.accts[i].Webhook = "http://" + addr + local.BridgePath + "/relay/" + a.ID
		}
	}
	out, _ := json.Marshal(w.accts)
	p := filepath.Join(dir, "accounts.json")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Times of what the test adds to the week (local): the burst of ads in
// g-fan, and a lone one the day after.
var (
	burstAt = weekStart.AddDate(0, 0, 5).Add(16 * time.Hour)
	loneAt  = weekStart.AddDate(0, 0, 6).Add(11 * time.Hour)
)

// run plays the week and returns the date of its last day, which the last
// night scored.
func (w *week) run(t *testing.T) string {
	t.Helper()
	var groups []qunyun.Group
	for _, g := range w.c.Groups {
		for _, id := range weekGroups {
			if g.ID == id {
				groups = append(groups, g.Group)
			}
		}
	}
	rnd := rand.New(rand.NewPCG(weekSeed, 0))
	world, err := simulate.NewWorld(rnd, groups, simulate.HostMembers(w.c.Hosts), simulate.NewAccounts(w.accts), weekSize)
	if err != nil {
		t.Fatal(err)
	}
	timeline := simulate.Plan(rnd, world, weekSeed, weekStart, weekDays)
	timeline = append(timeline, w.additions(t, world)...)
	hosts := map[string]string{}
	for _, h := range w.c.Hosts {
		hosts[h.ID] = h.MemberID
	}
	st := w.stack
	sim := &simulate.Simulation{
		Stack: simulate.Stack{Gateway: st.Endpoints().Gateway, Table: w.table, Clock: st.Clock(), NextFire: st.Bus().Unfinished,
			Step: st.Step, Settle: st.Settle},
		World: world, Seed: weekSeed, Start: weekStart, Days: weekDays, Hosts: hosts, Workers: 4, Bridge: w.stack.Bridge(),
		Progress: func(day, _, _ int) {
			switch day {
			case 1:
				w.comment()
			case 6:
				w.decide(t)
			}
		},
	}
	sum, err := sim.Run(w.ctx, timeline)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sum.Print(&b)
	t.Logf("summary:\n%s", b.String())
	last := weekStart.AddDate(0, 0, weekDays-1).Format(time.DateOnly)
	if sum.ReportDate != last {
		t.Fatalf("the last report is of %q, want the week's last day %s", sum.ReportDate, last)
	}
	return last
}

// additions seeds the leader's history and returns the ads: twelve from
// one g-fan member two seconds apart (a flood, sensitive words and links),
// and one the next day.
func (w *week) additions(t *testing.T, world *simulate.World) []simulate.Event {
	t.Helper()
	var fan *simulate.Group
	for _, g := range world.Groups {
		if g.ID == "g-fan" {
			fan = g
		}
	}
	for _, m := range fan.Members {
		switch {
		case m.Persona == simulate.Expert && w.leader == nil:
			w.leader = m
		case m.Persona == simulate.Chatterer && m.JoinDay < 0 && w.spammer == nil:
			w.spammer = m
		}
	}
	if w.leader == nil || w.spammer == nil {
		t.Fatal("g-fan has no expert or no chatterer to play the leader and the spammer")
	}
	// Ten active days of answers in the three weeks before: contributing,
	// and present 8 days in 28 however the week goes.
	lv := qunyun.MemberLevel{GroupID: "g-fan", MemberID: w.leader.ID, Name: w.leader.Name, Level: qunyun.LevelContributing}
	for i := range 10 {
		day := weekStart.AddDate(0, 0, -20+2*i).Format(time.DateOnly)
		lv.Days = append(lv.Days, qunyun.MemberDay{Date: day, Contributions: qunyun.Contributions{Answers: 2, Chats: 3},
			Raw: qunyun.LevelContributing, Level: qunyun.LevelContributing})
		lv.Date = day
	}
	lv.Presence, lv.Window = 10, qunyun.Contributions{Answers: 20, Chats: 30}
	if err := (dynamo.Scores{Table: w.table}).PutMemberLevel(w.ctx, lv); err != nil {
		t.Fatal(err)
	}
	var out []simulate.Event
	for i := range 12 {
		out = append(out, simulate.Event{At: burstAt.Add(time.Duration(i) * 2 * time.Second), Kind: simulate.KindMessage, Group: fan,
			Member: w.spammer, ID: fmt.Sprintf("week-ads-%02d", i), Text: fmt.Sprintf("加我微信领红包，代购返利 https://spam.example/r%d", i)})
	}
	return append(out, simulate.Event{At: loneAt, Kind: simulate.KindMessage, Group: fan, Member: w.spammer, ID: "week-ads-lone",
		Text: "兼职日结，私聊我"})
}

// comment adds three comments under the contest's article (the sandbox's
// comment API), as readers of the Official Account would.
func (w *week) comment() {
	for i, text := range []string{"萝卜排骨汤，小火慢炖两个小时，汤色清亮又鲜甜。", "番茄牛腩汤，酸甜开胃，冬天喝一碗全身都暖了。",
		"老母鸡汤加几颗红枣枸杞，妈妈的味道，家里人都爱喝。"} {
		w.stack.Sandbox().AddComment("2247483650", 0, fmt.Sprintf("o_week_reader_%d", i), text)
	}
}

// decide records, as `qunyun moderation hide` would, 小鱼 recalling the
// burst's first case the morning after it.
func (w *week) decide(t *testing.T) {
	store := dynamo.Moderation{Table: w.table}
	b, found, err := store.Batch(w.ctx, "g-fan", burstAt.UTC().Truncate(10*time.Minute))
	if err != nil || !found || b.AlertHit == "" {
		t.Errorf("the burst's batch: found %v, %v (%+v)", found, err, b)
		return
	}
	d := qunyun.ModerationDecision{Action: qunyun.ActionHide, By: "xiaoyu", At: w.stack.Clock().Now().UTC()}
	if _, err := store.Decide(w.ctx, moderation.CaseCode(b.AlertHit), d); err != nil {
		t.Errorf("decide: %v", err)
	}
}

func (w *week) report(t *testing.T, date string) qunyun.Report {
	t.Helper()
	r, found, err := dynamo.Scores{Table: w.table}.Report(w.ctx, date)
	if err != nil || !found {
		t.Fatalf("report %s: found %v, %v", date, found, err)
	}
	return r
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
