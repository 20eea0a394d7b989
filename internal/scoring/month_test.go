package scoring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/local/eventbus"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/report"
	"github.com/qunyun/qunyun/internal/scoring"
	"github.com/qunyun/qunyun/internal/segment"
)

// The simulated month: four groups of 50, 2026-11-01 … 2026-11-28, written
// into dynalite through the stores the callback, push and session use.
const (
	monthStart = "2026-11-01"
	monthDays  = 28
	lastDate   = "2026-11-28"
)

var shanghai = qunyun.LoadLocation("")

func localDay(i int) time.Time {
	d, _ := time.ParseInLocation(time.DateOnly, monthStart, shanghai)
	return d.AddDate(0, 0, i)
}

type world struct {
	t     *testing.T
	ctx   context.Context
	table *dynamo.Table
	rng   *rand.Rand
	seq   int
}

func (w *world) id(prefix string) string { w.seq++; return fmt.Sprintf("%s%06d", prefix, w.seq) }

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) message(gid, member, text string, at time.Time, kind qunyun.MessageKind, replyTo string, signals ...string) string {
	id := w.id("msg")
	if kind == "" {
		kind = qunyun.KindText
	}
	m := qunyun.Message{ID: id, AccountID: "wecom1", Channel: qunyun.ChannelRelay, GroupID: gid, MemberID: member,
		MemberName: member, Kind: kind, Text: text, ReplyTo: replyTo, At: at.UTC(), Signals: signals}
	if kind == qunyun.KindLink {
		m.URL = "https://example.org/a/" + id
	}
	_, _, err := dynamo.Log{Table: w.table}.RecordMessage(w.ctx, m, qunyun.Followup{})
	w.must(err)
	return id
}

func (w *world) deliver(gid, content string, at time.Time) {
	d := qunyun.Delivery{ID: w.id("dlv"), Source: "plan-daily", TargetKind: qunyun.TargetGroup, TargetID: gid,
		GroupID: gid, AccountID: "wecom1", ContentID: content, At: at.UTC()}
	_, it, err := dynamo.Deliveries{Table: w.table}.ClaimDelivery(w.ctx, qunyun.DeliveryRecord{Delivery: d})
	w.must(err)
	_, err = dynamo.Deliveries{Table: w.table}.UpdateDelivery(w.ctx, &it, func(d *qunyun.Delivery) { d.State = qunyun.DeliverySent })
	w.must(err)
}

func (w *world) open(gid, content, member, from string, at time.Time) {
	l := qunyun.Link{Code: w.id("lnk"), URL: "https://example.org/" + content, GroupID: gid, ContentID: content, Source: "plan-daily"}
	o := qunyun.LinkOpen{GroupID: gid, ContentID: content, MemberID: member, From: from, At: at.UTC()}
	w.must(dynamo.Links{Table: w.table}.RecordLinkOpen(w.ctx, l, o, w.id("req"), "test"))
}

func (w *world) leave(gid, member string, at time.Time) {
	_, err := dynamo.Log{Table: w.table}.RecordGroupEvent(w.ctx, qunyun.GroupEvent{ID: w.id("evt"), Type: qunyun.EventMemberLeft,
		AccountID: "wecom1", Channel: qunyun.ChannelWeCom, GroupID: gid, MemberID: member, Scene: 0, At: at.UTC()}, qunyun.Followup{})
	w.must(err)
	_, err = dynamo.Catalog{Table: w.table}.UpdateMember(w.ctx, gid, member, func(m *qunyun.Member, _ bool) error { m.LeftAt = at.UTC(); return nil })
	w.must(err)
}

func member(gid string, i int) string { return fmt.Sprintf("%s-m%02d", gid, i) }

// seed writes the catalog and the month's logs.
func (w *world) seed() {
	ctx := w.ctx
	created := localDay(-60).UTC()
	groups := []qunyun.Group{
		{ID: "shelf", Name: "好物推荐群", AccountID: "wecom1", Purpose: qunyun.PurposeShelf, OwnerID: "shelf-owner", CreatedAt: created},
		{ID: "noisy", Name: "闲聊群", AccountID: "wecom1", Purpose: qunyun.PurposeGeneral, OwnerID: "noisy-owner", CreatedAt: created},
		{ID: "vip", Name: "创始人 VIP 群", AccountID: "wecom1", Purpose: qunyun.PurposeVIP, Tier: "vip", OwnerID: "vip-owner",
			CreatedAt: created, Lifecycle: qunyun.Lifecycle{Kind: "yearly", RenewOn: "12-15"}},
		{ID: "dying", Name: "老客户群", AccountID: "wecom1", Purpose: qunyun.PurposeGeneral, OwnerID: "dying-owner", CreatedAt: created},
	}
	for _, g := range groups {
		w.must(dynamo.Catalog{Table: w.table}.PutGroup(ctx, g))
		w.must(dynamo.Catalog{Table: w.table}.PutMember(ctx, qunyun.Member{GroupID: g.ID, ID: g.ID + "-owner", Name: "群主", Role: qunyun.RoleOwner, JoinedAt: created}))
		for i := range 50 {
			w.must(dynamo.Catalog{Table: w.table}.PutMember(ctx, qunyun.Member{GroupID: g.ID, ID: member(g.ID, i), Name: member(g.ID, i), Role: qunyun.RoleMember, JoinedAt: created}))
		}
	}
	w.must(dynamo.Catalog{Table: w.table}.PutMember(ctx, qunyun.Member{GroupID: "vip", ID: "vip-host", Name: "嘉宾", Role: qunyun.RoleHost, JoinedAt: created}))
	w.must(dynamo.Catalog{Table: w.table}.PutContent(ctx, qunyun.Content{ID: "news", Kind: qunyun.ContentLink, Title: "今日好物", Tags: []string{"好物"}}))
	w.must(dynamo.Catalog{Table: w.table}.PutContent(ctx, qunyun.Content{ID: "offer", Kind: qunyun.ContentLink, Title: "会员优惠", Benefit: true, Tags: []string{"优惠"}}))
	w.must(dynamo.Catalog{Table: w.table}.PutContent(ctx, qunyun.Content{ID: "brief", Kind: qunyun.ContentLink, Title: "行业简报", Tags: []string{"行业"}}))
	w.must(dynamo.Catalog{Table: w.table}.PutKeywordRule(ctx, qunyun.KeywordRule{ID: "k1", AccountID: "wecom1", Match: "contains",
		Keywords: []string{"融资"}, Reply: "收到", Tag: "融资"}))

	// A comment contest ends on the last evening; a shelf member wins it.
	end := localDay(monthDays - 1).Add(20 * time.Hour)
	w.must(dynamo.Catalog{Table: w.table}.PutContest(ctx, qunyun.Contest{ID: "c1", AccountID: "oa1", Title: "好物留言", MsgDataID: "1",
		Start: end.AddDate(0, 0, -7).Format(time.RFC3339), End: end.Format(time.RFC3339), Winners: 1}))
	w.must(dynamo.Scores{Table: w.table}.PutContestEntry(ctx, qunyun.ContestEntry{ContestID: "c1", CommentID: 1, OpenID: member("shelf", 5),
		Content: "这个好物真的好用", Votes: 3, Rank: 1, Winner: true, Elected: true, Replied: true, Notified: true}))

	chat := []string{"今天天气不错", "哈哈哈", "中午吃什么", "刚下班", "周末去哪玩", "这个视频好笑", "早上好", "晚安"}
	for day := range monthDays {
		base := localDay(day)
		at := func(h, m int) time.Time { return base.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }

		// Shelf: one delivery a day (an offer every third day), read by a
		// third of the group, shared onward, hardly a word said.
		content := "news"
		if day%3 == 0 {
			content = "offer"
		}
		w.deliver("shelf", content, at(9, 0))
		for i := range 12 + w.rng.IntN(6) {
			w.open("shelf", content, member("shelf", i), "", at(9, 5+i*7))
		}
		w.open("shelf", content, member("shelf", 30), member("shelf", 1), at(12, 0))
		q := w.message("shelf", member("shelf", 2+day%10), "这个优惠怎么领？", at(10, 0), "", "")
		w.message("shelf", "shelf-owner", "点链接领券就行", at(10, 4), "", q)

		// Noisy: 200 messages or so, one member writes 45 %, QR-code ads,
		// questions nobody answers, two friends bantering.
		n := 180 + w.rng.IntN(60)
		var prev string
		for i := range n {
			who := member("noisy", 1+i%8)
			if i%20 < 10 {
				who = member("noisy", 0)
			}
			reply := ""
			if i%10 == 5 {
				reply = prev
			}
			prev = w.message("noisy", who, chat[i%len(chat)], at(8, 0).Add(time.Duration(i)*4*time.Minute), "", reply)
		}
		for i := range 30 {
			w.message("noisy", member("noisy", 9), "扫码进群领红包", at(21, i), qunyun.KindImage, "", qunyun.SignalQRCode)
		}
		w.message("noisy", member("noisy", 12), "有没有人知道发票怎么开？", at(23, 0), "", "")

		// VIP: sessions twice a week answered by the host; member 01
		// answers others every day, member 02 shares links others open.
		if day%3 == 0 {
			w.session(day, at(20, 0))
		}
		if day%2 == 0 {
			w.deliver("vip", "brief", at(8, 30))
			for i := range 20 {
				w.open("vip", "brief", member("vip", 10+i), "", at(9, i))
			}
		}
		for i := range 2 {
			asker := member("vip", 5+(day+i)%20)
			q := w.message("vip", asker, "融资材料怎么准备？", at(11+i, 0), "", "")
			w.message("vip", member("vip", 1), "先准备商业计划书和财务模型，我可以分享模板", at(11+i, 6), "", q)
		}
		link := w.message("vip", member("vip", 2), "推荐一篇融资复盘文章", at(15, 0), qunyun.KindLink, "")
		_ = link
		w.open("vip", "brief", member("vip", 40), member("vip", 2), at(15, 30))
		for i := range 20 {
			w.message("vip", member("vip", 20+i%15), chat[i%len(chat)], at(16, i*3), "", "")
		}

		// Dying: alive the first week (with leaves after pushes), then silent.
		if day < 6 {
			w.deliver("dying", "news", at(9, 0))
			for i := range 5 {
				w.open("dying", "news", member("dying", i), "", at(9, 30+i))
				w.message("dying", member("dying", i), chat[i], at(12, i), "", "")
			}
			if day >= 2 && day <= 4 {
				for i := range 3 {
					w.leave("dying", member("dying", 40+(day-2)*3+i), at(10, i))
				}
			}
		}
	}
}

func (w *world) session(day int, start time.Time) {
	ctx := w.ctx
	sid := fmt.Sprintf("s-vip-%02d", day)
	s := qunyun.Session{ID: sid, GroupID: "vip", HostID: "h1", Topic: "融资", Start: start.UTC(), End: start.Add(45 * time.Minute).UTC(),
		State: qunyun.SessionRecapped, AccountID: "wecom1", Run: qunyun.SessionRun{OpenedAt: start.UTC(), HostSeen: true}}
	_, err := dynamo.Sessions{Table: w.table}.CreateSession(ctx, s)
	w.must(err)
	for i := range 4 {
		at := start.Add(time.Duration(5+i*5) * time.Minute).UTC()
		mid := w.id("q")
		q := qunyun.Question{SessionID: sid, GroupID: "vip", MemberID: member("vip", 30+i), Text: "估值怎么谈？", At: at, MessageID: mid}
		_, err := dynamo.Sessions{Table: w.table}.CaptureQuestion(ctx, q)
		w.must(err)
		_, err = dynamo.Sessions{Table: w.table}.MarkAnswered(ctx, sid, dynamo.QuestionSK(q), "看可比公司", "vip-host", at.Add(3*time.Minute))
		w.must(err)
	}
	_, err = dynamo.Sessions{Table: w.table}.PutRecapOnce(ctx, qunyun.Recap{SessionID: sid, GroupID: "vip", HostID: "h1", Topic: "融资",
		Start: s.Start, End: s.End, KeyPoints: []string{"估值看可比公司"}, Text: "嘉宾场回顾", CreatedAt: s.End})
	w.must(err)
}

// invoker runs ScoringFunction in-process and records ScoresComputed.
type invoker struct {
	handler  *scoring.Handler
	mu       sync.Mutex
	computed []json.RawMessage
	errs     []error
}

func (iv *invoker) Invoke(ctx context.Context, function string, payload []byte) error {
	switch function {
	case "ScoringFunction":
		err := iv.handler.Handle(ctx, payload)
		if err != nil {
			iv.mu.Lock()
			iv.errs = append(iv.errs, err)
			iv.mu.Unlock()
		}
		return err
	case "Sink":
		iv.mu.Lock()
		iv.computed = append(iv.computed, payload)
		iv.mu.Unlock()
	}
	return nil
}

type stack struct {
	table *dynamo.Table
	bus   *eventbus.Bus
	iv    *invoker
	clk   *clock.Manual
}

func newStack(t *testing.T, perShard int) *stack {
	t.Helper()
	clk := clock.NewManual(localDay(monthDays).Add(2 * time.Hour))
	table := dynamotest.NewTable(t, clk)
	seg, err := segment.Shared()
	if err != nil {
		t.Fatal(err)
	}
	scorer, err := scoring.New(seg)
	if err != nil {
		t.Fatal(err)
	}
	iv := &invoker{}
	b, err := eventbus.New(eventbus.Config{Invoker: iv, Clock: clk, Rules: []eventbus.Rule{
		{Function: "ScoringFunction", EventBusName: "qunyun-test", Pattern: []byte(`{"source":["qunyun"],"detail-type":["ScoringShardRequested"]}`)},
		{Function: "Sink", EventBusName: "qunyun-test", Pattern: []byte(`{"source":["qunyun"],"detail-type":["ScoresComputed"]}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b)
	t.Cleanup(func() { srv.Close(); b.Wait() })
	eb := eventbridge.New(eventbridge.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	pub := &bus.Publisher{Client: eb, BusName: "qunyun-test"}
	iv.handler = &scoring.Handler{Night: &scoring.Night{Stores: scoringStores(table), Bus: pub, Scorer: scorer, Now: clk.Now, GroupsPerShard: perShard}}
	return &stack{table: table, bus: b, iv: iv, clk: clk}
}

// night invokes the function as the schedule would, the night after date.
func (s *stack) night(t *testing.T, day int) {
	t.Helper()
	scheduled := localDay(day + 1).Add(2 * time.Hour).UTC().Format(time.RFC3339)
	if err := s.iv.handler.Handle(t.Context(), json.RawMessage(`{"kind":"nightly","scheduledTime":"`+scheduled+`"}`)); err != nil {
		t.Fatalf("night %d: %v", day, err)
	}
	s.bus.Wait()
	if len(s.iv.errs) > 0 {
		t.Fatalf("night %d: shard failed: %v", day, s.iv.errs)
	}
}

var digits = regexp.MustCompile(`\d`)

func TestSimulatedMonth(t *testing.T) {
	s := newStack(t, 2) // four groups, two per shard: the night fans out
	w := &world{t: t, ctx: t.Context(), table: s.table, rng: rand.New(rand.NewPCG(7, 11))}
	w.seed()
	for day := range monthDays {
		s.clk.Set(localDay(day + 1).Add(2 * time.Hour))
		s.night(t, day)
	}
	ctx := t.Context()
	scores, err := dynamo.Scores{Table: s.table}.ScoresOn(ctx, lastDate)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]qunyun.GroupScore{}
	for _, sc := range scores {
		by[sc.GroupID] = sc
		t.Logf("%-6s value %5.1f  7d %5.1f  28d %5.1f  msgs %3d  flags %v  | %s", sc.GroupID, sc.Value, sc.Value7, sc.Value28,
			sc.Activity.Messages, flagKinds(sc), sc.Why)
	}
	if len(by) != 4 {
		t.Fatalf("scores on %s: %d groups, want 4", lastDate, len(by))
	}

	t.Run("the noisy chat group ranks below the quiet shelf group", func(t *testing.T) {
		shelf, noisy := by["shelf"], by["noisy"]
		if !(noisy.Value28 < shelf.Value28 && noisy.Value < shelf.Value) {
			t.Fatalf("noisy %v/%v should rank below shelf %v/%v", noisy.Value, noisy.Value28, shelf.Value, shelf.Value28)
		}
		if noisy.Activity.Messages <= 10*shelf.Activity.Messages {
			t.Fatalf("the simulation is wrong: noisy %d messages vs shelf %d", noisy.Activity.Messages, shelf.Activity.Messages)
		}
		for _, k := range []string{qunyun.FlagVolume, qunyun.FlagConcentration, qunyun.FlagAds} {
			if !slices.Contains(flagKinds(noisy), k) {
				t.Errorf("noisy group lacks flag %s: %v", k, flagKinds(noisy))
			}
		}
		if len(flagKinds(shelf)) != 0 {
			t.Errorf("shelf group flagged: %+v", shelf.Flags)
		}
		g, _, _ := dynamo.Catalog{Table: s.table}.Group(ctx, "noisy")
		sg, _, _ := dynamo.Catalog{Table: s.table}.Group(ctx, "shelf")
		if !g.Noisy || sg.Noisy {
			t.Fatalf("Group.Noisy: noisy=%v shelf=%v", g.Noisy, sg.Noisy)
		}
	})

	t.Run("a contest prize counts as a benefit of the winner's group", func(t *testing.T) {
		for _, sc := range scores {
			for _, d := range sc.Dimensions {
				if d.Name != qunyun.DimensionBenefits {
					continue
				}
				want := 0.0
				if sc.GroupID == "shelf" {
					want = 1
				}
				if d.Numbers["prizes"] != want {
					t.Errorf("%s prizes = %v, want %v", sc.GroupID, d.Numbers["prizes"], want)
				}
			}
		}
	})

	t.Run("the dying group is flagged", func(t *testing.T) {
		d := by["dying"]
		if !slices.Contains(flagKinds(d), qunyun.FlagDormant) {
			t.Fatalf("dying group not dormant: %+v", d.Flags)
		}
		early, _ := dynamo.Scores{Table: s.table}.GroupScores(ctx, "dying", "2026-11-03", "2026-11-05")
		leaves := false
		for _, e := range early {
			leaves = leaves || slices.Contains(flagKinds(e), qunyun.FlagPushLeaves)
		}
		if !leaves {
			t.Fatalf("no push-leaves flag while members left after pushes: %+v", early)
		}
	})

	t.Run("the VIP group's leaders are found", func(t *testing.T) {
		rep, found, err := dynamo.Scores{Table: s.table}.Report(ctx, lastDate)
		if err != nil || !found {
			t.Fatalf("report: %v %v", found, err)
		}
		roles := map[string]qunyun.Role{}
		for _, l := range rep.Leaders {
			roles[l.MemberID] = l.Role
			t.Logf("leader %s %s: %s", l.MemberID, l.Role, l.Why)
			if strings.HasSuffix(l.MemberID, "-owner") || l.MemberID == "vip-host" {
				t.Errorf("staff proposed as a leader: %+v", l)
			}
			if l.Promote != l.PromoteCommand() || !strings.Contains(l.Promote, " --to "+string(l.Role)+" ") {
				t.Errorf("leader %s: promote command %q", l.MemberID, l.Promote)
			}
		}
		if roles["vip-m01"] != qunyun.RoleModerator || roles["vip-m02"] != qunyun.RoleEditor {
			t.Fatalf("leaders = %v, want vip-m01 moderator and vip-m02 editor", roles)
		}
		m, _, _ := dynamo.Catalog{Table: s.table}.Member(ctx, "vip", "vip-m01")
		if m.Tier != qunyun.TierCore {
			t.Fatalf("vip-m01 tier %q", m.Tier)
		}
		m2, _, _ := dynamo.Catalog{Table: s.table}.Member(ctx, "vip", "vip-m02")
		m10, _, _ := dynamo.Catalog{Table: s.table}.Member(ctx, "vip", "vip-m10")
		if !slices.Contains(m2.AutoTags, "融资") || !slices.Contains(m10.AutoTags, "行业") {
			t.Fatalf("vip-m02 tags %v, want the keyword rule's 融资; vip-m10 tags %v, want the opened content's 行业", m2.AutoTags, m10.AutoTags)
		}
		t.Logf("tags: vip-m01 %v, vip-m02 %v, group %v", m.AutoTags, m2.AutoTags, by["vip"].Tags)
		if !slices.Contains(flagKinds(by["vip"]), qunyun.FlagRenewal) {
			t.Fatalf("VIP group due to renew on 12-15 not flagged: %+v", by["vip"].Flags)
		}
		total := 0
		for _, c := range rep.Levels {
			total += c
		}
		// 4 groups × (50 members + owner) + the VIP host, less the 9 who left.
		if total != 4*51+1-9 || rep.Levels["leading"] == 0 {
			t.Errorf("report levels %v (%d members)", rep.Levels, total)
		}
		if len(rep.Recaps) == 0 || len(rep.Trend) < 4*monthDays {
			t.Fatalf("report: %d recaps, %d trend points", len(rep.Recaps), len(rep.Trend))
		}
		// The month's report renders as a dashboard (the browser test in
		// package report checks a page draws; set QUNYUN_DASHBOARD_OUT to
		// keep this one and look at it).
		dash, err := report.New()
		if err != nil {
			t.Fatal(err)
		}
		var page bytes.Buffer
		if err := dash.Write(&page, rep); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page.String(), "创始人 VIP 群") || !strings.Contains(page.String(), "vip-m01") {
			t.Fatal("the dashboard lacks the month's groups or leaders")
		}
		if out := os.Getenv("QUNYUN_DASHBOARD_OUT"); out != "" {
			if err := os.WriteFile(out, page.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("each score explains itself with numbers", func(t *testing.T) {
		for _, sc := range scores {
			if !digits.MatchString(sc.Why) {
				t.Errorf("%s: %q", sc.GroupID, sc.Why)
			}
			for _, d := range sc.Dimensions {
				if len(d.Numbers) == 0 || !digits.MatchString(d.Why) && d.Evidence {
					t.Errorf("%s/%s: %q %v", sc.GroupID, d.Name, d.Why, d.Numbers)
				}
			}
			for _, f := range sc.Flags {
				if len(f.Numbers) == 0 || !digits.MatchString(f.Why) {
					t.Errorf("%s flag %s: %q", sc.GroupID, f.Kind, f.Why)
				}
			}
		}
	})

	t.Run("re-running a night gives the same result", func(t *testing.T) {
		before := snapshot(t, s.table)
		computed := len(s.iv.computed)
		s.night(t, monthDays-1)
		after := snapshot(t, s.table)
		if before != after {
			t.Fatalf("re-run changed the results:\nbefore %s\nafter  %s", before[:min(400, len(before))], after[:min(400, len(after))])
		}
		// An older night re-run must not roll anything back either.
		s.night(t, monthDays-3)
		if again := snapshot(t, s.table); again != before {
			t.Fatalf("re-running an older night changed today's results")
		}
		if len(s.iv.computed) <= computed {
			t.Fatalf("no ScoresComputed on re-run")
		}
		var ev struct {
			Detail qunyun.ScoresComputed `json:"detail"`
		}
		json.Unmarshal(s.iv.computed[computed], &ev)
		if !strings.HasPrefix(ev.Detail.ID, lastDate+"@") || ev.Detail.Date != lastDate || ev.Detail.Groups != 4 || ev.Detail.Noisy != 1 {
			t.Fatalf("ScoresComputed = %+v", ev.Detail)
		}
	})
}

func flagKinds(s qunyun.GroupScore) []string {
	var out []string
	for _, f := range s.Flags {
		out = append(out, f.Kind)
	}
	return out
}

// snapshot is the last night's scores and every level, as JSON.
func snapshot(t *testing.T, table *dynamo.Table) string {
	t.Helper()
	scores, err := dynamo.Scores{Table: table}.ScoresOn(t.Context(), lastDate)
	if err != nil {
		t.Fatal(err)
	}
	all := []any{scores}
	for _, g := range []string{"shelf", "noisy", "vip", "dying"} {
		l, err := dynamo.Scores{Table: table}.MemberLevels(t.Context(), g)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, l)
	}
	b, _ := json.Marshal(all)
	return string(b)
}
