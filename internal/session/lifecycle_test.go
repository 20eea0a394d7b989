package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

// The dynamo stores are what main gives the service.
var (
	_ session.Sessions = dynamo.Sessions{}
	_ session.Catalog  = dynamo.Catalog{}
)

// recorder is an EventBridge API that records what the real bus.Publisher
// puts, so tests see exactly what PushFunction would receive.
type recorder struct {
	mu      sync.Mutex
	entries []ebtypes.PutEventsRequestEntry
}

func (r *recorder) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, in.Entries...)
	out := &eventbridge.PutEventsOutput{}
	for range in.Entries {
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("e")})
	}
	return out, nil
}

// deliveries returns the DeliveryRequested details so far.
func (r *recorder) deliveries(t *testing.T) []qunyun.DeliveryRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []qunyun.DeliveryRequest
	for _, e := range r.entries {
		if aws.ToString(e.DetailType) != qunyun.EventDeliveryRequested {
			continue
		}
		var d qunyun.DeliveryRequest
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

type fixture struct {
	t   *testing.T
	ctx context.Context
	tb  *dynamo.Table
	clk *clock.Manual
	rec *recorder
	svc *session.Service
}

var start = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) // 20:00 in Shanghai

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewManual(start.Add(-time.Hour))
	tb := dynamotest.NewTable(t, clk)
	rec := &recorder{}
	f := &fixture{t: t, ctx: ctx, tb: tb, clk: clk, rec: rec, svc: &session.Service{
		Sessions: dynamo.Sessions{Table: tb}, Catalog: dynamo.Catalog{Table: tb}, Bus: &bus.Publisher{Client: rec, BusName: "test"}, Clock: clk, PublicBaseURL: "https://api.example.com",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
	must(t, dynamo.Catalog{Table: tb}.PutGroup(ctx, qunyun.Group{ID: "g1", Name: "增长VIP群", AccountID: "wecom1", Tier: "vip", OwnerID: "owner1"}))
	must(t, dynamo.Catalog{Table: tb}.PutHost(ctx, qunyun.Host{ID: "h1", Name: "李老师", MemberID: "hostm", WeComUserID: "li.wecom", Topics: []string{"私域复购"}}))
	members := []qunyun.Member{
		{GroupID: "g1", ID: "hostm", Name: "李老师", Role: qunyun.RoleHost},
		{GroupID: "g1", ID: "mod1", Name: "小助手", Role: qunyun.RoleModerator},
		{GroupID: "g1", ID: "owner1", Name: "群主", Role: qunyun.RoleOwner},
	}
	for i := 1; i <= 6; i++ {
		members = append(members, qunyun.Member{GroupID: "g1", ID: fmt.Sprintf("u%d", i), Name: fmt.Sprintf("成员%d", i), Role: qunyun.RoleMember})
	}
	members = append(members, qunyun.Member{GroupID: "g1", ID: "gone", Role: qunyun.RoleMember, JoinedAt: start.Add(-48 * time.Hour), LeftAt: start.Add(-24 * time.Hour)})
	for _, m := range members {
		must(t, dynamo.Catalog{Table: tb}.PutMember(ctx, m))
	}
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) createSession(id string, at time.Time) {
	f.t.Helper()
	_, err := dynamo.Sessions{Table: f.tb}.CreateSession(f.ctx, qunyun.Session{ID: id, GroupID: "g1", HostID: "h1", Topic: "私域复购", Start: at, End: at.Add(45 * time.Minute), AccountID: "wecom1"})
	must(f.t, err)
}

func (f *fixture) tickAt(at time.Time) {
	f.t.Helper()
	f.clk.Set(at)
	must(f.t, f.svc.Handle(f.ctx, json.RawMessage(`{"kind":"tick","scheduledTime":"`+at.Format(time.RFC3339)+`"}`)))
}

func (f *fixture) state(id string) qunyun.Session {
	f.t.Helper()
	s, found, err := dynamo.Sessions{Table: f.tb}.Session(f.ctx, id)
	if err != nil || !found {
		f.t.Fatalf("session %s: found=%v err=%v", id, found, err)
	}
	return s
}

// say writes a group message the way the callback records it.
func (f *fixture) say(id, member, text, replyTo string, at time.Time) {
	f.t.Helper()
	type item struct {
		dynamo.Keys
		qunyun.Message
	}
	m := qunyun.Message{ID: id, AccountID: "wecom1", Channel: qunyun.ChannelWeCom, GroupID: "g1", MemberID: member, MemberName: member, Kind: qunyun.KindText, Text: text, ReplyTo: replyTo, At: at}
	keys := dynamo.Keys{PK: "GROUP#g1#D#" + at.UTC().Format(time.DateOnly), SK: fmt.Sprintf("MSG#%013d#%s", at.UnixMilli(), id), Type: "Message"}
	created, err := f.tb.PutNew(f.ctx, item{keys, m})
	if err != nil || !created {
		f.t.Fatalf("say %s: %v %v", id, created, err)
	}
}

// ask records a message and captures it as a question, as the callback does.
func (f *fixture) ask(sid, id, member, text string, at time.Time) string {
	f.t.Helper()
	f.say(id, member, text, "", at)
	type item struct {
		dynamo.Keys
		qunyun.Question
	}
	key := dynamo.QuestionKey(at, id)
	q := qunyun.Question{SessionID: sid, GroupID: "g1", MemberID: member, MemberName: "成员" + member[1:], Text: text, At: at, MessageID: id}
	created, err := f.tb.PutNew(f.ctx, item{dynamo.Keys{PK: dynamo.SessionPK(sid), SK: key, Type: "Question"}, q})
	if err != nil || !created {
		f.t.Fatalf("ask %s: %v %v", id, created, err)
	}
	return key
}

// vote adds a "+1" the way the callback does: one vote per member.
func (f *fixture) vote(sid, key, member string, at time.Time, msgID string) {
	f.t.Helper()
	f.say(msgID, member, "+1", "", at)
	_, err := f.tb.DB.UpdateItem(f.ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(f.tb.Name), Key: dynamo.Key(dynamo.SessionPK(sid), key),
		UpdateExpression:    aws.String("ADD votes :one, voters :m"),
		ConditionExpression: aws.String("attribute_exists(PK) AND NOT contains(voters, :mid)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"}, ":m": &types.AttributeValueMemberSS{Value: []string{member}},
			":mid": &types.AttributeValueMemberS{Value: member},
		},
	})
	must(f.t, err)
}

func byStep(ds []qunyun.DeliveryRequest, step string) []qunyun.DeliveryRequest {
	var out []qunyun.DeliveryRequest
	for _, d := range ds {
		if strings.Split(d.ID, "/")[2] == step {
			out = append(out, d)
		}
	}
	return out
}

func TestSessionLifeCycle(t *testing.T) {
	f := newFixture(t)
	f.createSession("s1", start)

	f.tickAt(start.Add(-31 * time.Minute))
	if f.rec.count() != 0 || f.state("s1").State != qunyun.SessionScheduled {
		t.Fatal("something happened 31 minutes before the start")
	}

	// Reminded about 30 minutes before: a WeCom app message to the host,
	// and a preview in the group, good until the session ends (an owner who
	// must confirm a customer group's task has that long).
	f.tickAt(start.Add(-30 * time.Minute))
	ds := f.rec.deliveries(t)
	if len(ds) != 2 || ds[0].TargetKind != qunyun.TargetStaff || ds[0].TargetID != "li.wecom" || ds[0].Source != "session" {
		t.Fatalf("reminder: %+v", ds)
	}
	for _, want := range []string{"增长VIP群", "私域复购", "https://api.example.com/sessions/s1", "11月23日 20:00"} {
		if !strings.Contains(ds[0].Content.Text, want) {
			t.Errorf("reminder lacks %q:\n%s", want, ds[0].Content.Text)
		}
	}
	if p := ds[1]; p.TargetKind != qunyun.TargetGroup || p.TargetID != "g1" || p.ID != session.DeliveryID("s1", "preview", "g1") ||
		!p.Deadline.Equal(f.state("s1").End) || !strings.Contains(p.Content.Text, "嘉宾场预告") || !strings.Contains(p.Content.Text, "11月23日 20:00") {
		t.Errorf("preview: %+v %q", p, p.Content.Text)
	}
	if f.state("s1").State != qunyun.SessionReminded {
		t.Fatal("not reminded")
	}

	f.tickAt(start.Add(-time.Minute))
	if f.rec.count() != 2 {
		t.Fatal("a tick before the start sent something")
	}

	// Opened at the minute; running the tick twice in that minute changes nothing.
	f.tickAt(start)
	before, events := f.state("s1"), f.rec.count()
	f.tickAt(start.Add(30 * time.Second))
	if after := f.state("s1"); !reflectEqual(before, after) || f.rec.count() != events {
		t.Fatalf("second tick in the minute changed something: %+v → %+v, events %d → %d", before, after, events, f.rec.count())
	}
	if before.State != qunyun.SessionOpen || before.Run.LateBy != 0 {
		t.Fatalf("not opened on time: %+v", before)
	}
	opening := byStep(f.rec.deliveries(t), "opening")
	if len(opening) != 1 || opening[0].TargetKind != qunyun.TargetGroup || opening[0].TargetID != "g1" || opening[0].AccountID != "wecom1" {
		t.Fatalf("opening: %+v", opening)
	}
	if strings.Contains(opening[0].Content.Text, "晚了") {
		t.Errorf("an on-time opening apologises for being late:\n%s", opening[0].Content.Text)
	}
	live, found, err := dynamo.Sessions{Table: f.tb}.LiveSession(f.ctx, "g1")
	if err != nil || !found || live.SessionID != "s1" || live.HostMemberID != "hostm" || !live.End.Equal(start.Add(45*time.Minute)) {
		t.Fatalf("live pointer: %+v %v %v", live, found, err)
	}

	// Q&A as the callback captures it.
	f.say("m1", "hostm", "大家好，今天聊私域复购。复购率是私域运营最关键的指标，它直接决定社群的长期价值。嗯嗯好的好的，那个那个我们开始吧。", "", start.Add(time.Minute))
	q1 := f.ask("s1", "m2", "u1", "提问：复购率一般多少算健康？", start.Add(3*time.Minute))
	f.vote("s1", q1, "u2", start.Add(4*time.Minute), "m3")
	f.vote("s1", q1, "u6", start.Add(4*time.Minute+time.Second), "m4")
	q2 := f.ask("s1", "m5", "u3", "Q: 会员分层怎么做？", start.Add(5*time.Minute))
	f.ask("s1", "m6", "u4", "提问：加我微信领资料？", start.Add(6*time.Minute))
	f.say("m7", "mod1", "隐藏 3", "", start.Add(7*time.Minute))
	f.say("m8", "hostm", "好的", "", start.Add(8*time.Minute))
	f.say("m9", "hostm", "健康的复购率在百分之三十以上，母婴和美妆类目会更高。", "m2", start.Add(9*time.Minute))
	f.say("m10", "hostm", "会员分层建议按消费频次和客单价分成三层，每层推送不同的内容和权益。", "", start.Add(11*time.Minute))
	f.ask("s1", "m13", "u3", "提问：直播多久一次合适？", start.Add(11*time.Minute+30*time.Second))
	f.say("m11", "u6", "老师讲得真好", "", start.Add(12*time.Minute))
	f.say("m12", "hostm", "谢谢这位朋友的认可和支持！", "m11", start.Add(12*time.Minute+time.Second))

	// The queue goes to the host when a question is asked, at most every 5 minutes.
	ask := func() {
		must(t, f.svc.Handle(f.ctx, json.RawMessage(`{"version":"0","detail-type":"QuestionAsked","source":"qunyun","detail":{"id":"x","session":"s1","group":"g1","question":"`+q2+`"}}`)))
	}
	f.clk.Set(start.Add(6 * time.Minute))
	ask()
	ask()
	queue := byStep(f.rec.deliveries(t), "queue-120600")
	if len(queue) != 1 || queue[0].TargetID != "li.wecom" || !strings.Contains(queue[0].Content.Text, "复购率一般多少算健康") {
		t.Fatalf("queue: %+v", byStep(f.rec.deliveries(t), "queue-120600"))
	}
	if n := countPrefix(f.rec.deliveries(t), "queue"); n != 1 {
		t.Fatalf("%d queue messages within 5 minutes", n)
	}

	// The host spoke, so no no-show alert at +10.
	f.tickAt(start.Add(13 * time.Minute))
	if len(byStep(f.rec.deliveries(t), "noshow")) != 0 {
		t.Fatal("no-show alert although the host spoke")
	}
	if !f.state("s1").Run.HostSeen {
		t.Fatal("host not seen")
	}
	qs, err := dynamo.Sessions{Table: f.tb}.Questions(f.ctx, "s1")
	must(t, err)
	if len(qs) != 4 || qs[3].Answered || qs[0].Answer != "健康的复购率在百分之三十以上，母婴和美妆类目会更高。" || !strings.HasPrefix(qs[1].Answer, "会员分层建议") || !qs[2].Hidden || qs[2].Answered {
		t.Fatalf("Q&A after the tick: %+v", qs)
	}

	// Closing notice 5 minutes before the end, once.
	f.tickAt(start.Add(40 * time.Minute))
	f.tickAt(start.Add(40*time.Minute + 20*time.Second))
	if n := len(byStep(f.rec.deliveries(t), "closing")); n != 1 || f.state("s1").State != qunyun.SessionClosing {
		t.Fatalf("closing notices %d, state %s", n, f.state("s1").State)
	}

	// Closed at the minute: capture stops.
	f.tickAt(start.Add(45 * time.Minute))
	if st := f.state("s1"); st.State != qunyun.SessionClosed || !st.Run.ClosedAt.Equal(start.Add(45*time.Minute)) {
		t.Fatalf("not closed at the minute: %+v", st)
	}
	if _, found, _ := (dynamo.Sessions{Table: f.tb}).LiveSession(f.ctx, "g1"); found {
		t.Fatal("live pointer survived the close")
	}

	// Recapped a minute later; twice changes nothing.
	f.tickAt(start.Add(46 * time.Minute))
	events = f.rec.count()
	f.tickAt(start.Add(46*time.Minute + 30*time.Second))
	if f.rec.count() != events || f.state("s1").State != qunyun.SessionRecapped {
		t.Fatalf("recap: state %s, events %d → %d", f.state("s1").State, events, f.rec.count())
	}
	r, found, err := dynamo.Sessions{Table: f.tb}.Recap(f.ctx, "s1")
	if err != nil || !found {
		t.Fatalf("recap stored: %v %v", found, err)
	}
	if len(r.Top) != 3 || r.Top[2].Answer != "" || r.Top[0].Text != "复购率一般多少算健康？" || r.Top[0].Votes != 2 || !strings.Contains(r.Top[0].Answer, "百分之三十") || !strings.Contains(r.Top[1].Answer, "三层") {
		t.Fatalf("top questions: %+v", r.Top)
	}
	if len(r.Unanswered) != 1 || r.Unanswered[0].Text != "直播多久一次合适？" {
		t.Errorf("unanswered: %+v", r.Unanswered)
	}
	if !slices.Equal(r.Attendees, []string{"mod1", "u1", "u2", "u3", "u4", "u6"}) {
		t.Errorf("attendees %v", r.Attendees)
	}
	if !slices.Equal(r.Absent, []string{"u5"}) {
		t.Errorf("absent %v (staff, the host and members who left are never absent)", r.Absent)
	}
	if len(r.KeyPoints) == 0 || slices.ContainsFunc(r.KeyPoints, func(p string) bool { return strings.Contains(p, "嗯嗯") }) {
		t.Errorf("key points %q", r.KeyPoints)
	}
	for _, want := range []string{"热门问题", "复购率一般多少算健康", "2 票", "百分之三十", "要点"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("recap text lacks %q:\n%s", want, r.Text)
		}
	}
	if strings.Contains(r.Text, "加我微信") {
		t.Errorf("hidden question in the recap:\n%s", r.Text)
	}
	group := byStep(f.rec.deliveries(t), "recap")
	dm := byStep(f.rec.deliveries(t), "recap-dm")
	if len(group) != 1 || group[0].TargetID != "g1" || group[0].Content.Text != r.Text {
		t.Fatalf("group recap: %+v", group)
	}
	// Each message says until when it is worth sending: the announcements
	// until the session's end, the recap for a day after it.
	end := start.Add(45 * time.Minute)
	for step, want := range map[string]time.Time{"reminder": start, "opening": end, "closing": end, "recap": end.Add(session.RecapFor), "recap-dm": end.Add(session.RecapFor)} {
		if ds := byStep(f.rec.deliveries(t), step); len(ds) == 0 || !ds[0].Deadline.Equal(want) {
			t.Errorf("%s: deadline %v, want %s", step, ds, want)
		}
	}
	if len(dm) != 1 || dm[0].TargetKind != qunyun.TargetMember || dm[0].TargetID != "u5" || !strings.Contains(dm[0].Content.Text, "您错过了") {
		t.Fatalf("1:1 recaps: %+v", dm)
	}
	t.Logf("recap:\n%s", r.Text)

	// Push could not reach u5 1:1: u5 goes on the digest list, and the
	// group's next opening carries the recap's key points.
	fin := func(state qunyun.DeliveryState) {
		d, _ := json.Marshal(qunyun.DeliveryFinished{ID: dm[0].ID, Source: "session", TargetKind: qunyun.TargetMember, TargetID: "u5", GroupID: "g1", State: state, Reason: qunyun.ReasonCSWindow})
		must(t, f.svc.Handle(f.ctx, json.RawMessage(`{"detail-type":"DeliveryFinished","source":"qunyun","detail":`+string(d)+`}`)))
	}
	fin(qunyun.DeliverySkipped)
	fin(qunyun.DeliverySkipped)
	r, _, _ = dynamo.Sessions{Table: f.tb}.Recap(f.ctx, "s1")
	if !slices.Equal(r.DigestMembers, []string{"u5"}) {
		t.Fatalf("digest members %v", r.DigestMembers)
	}
	next := start.Add(48 * time.Hour)
	f.createSession("s2", next)
	f.tickAt(next.Add(-30 * time.Minute))
	f.tickAt(next)
	op := byStep(f.rec.deliveries(t), "opening")
	if len(op) != 2 || !strings.Contains(op[1].Content.Text, "上期嘉宾场回顾") || !strings.Contains(op[1].Content.Text, r.KeyPoints[0]) {
		t.Fatalf("next opening does not carry the digest:\n%+v", op)
	}
}

func countPrefix(ds []qunyun.DeliveryRequest, step string) int {
	n := 0
	for _, d := range ds {
		if strings.HasPrefix(strings.Split(d.ID, "/")[2], step) {
			n++
		}
	}
	return n
}

func reflectEqual(a, b qunyun.Session) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestLateStartOpensOnceAndSaysSo(t *testing.T) {
	f := newFixture(t)
	f.createSession("late", start)
	f.tickAt(start.Add(-30 * time.Minute))
	f.tickAt(start.Add(7 * time.Minute)) // the scheduler was 7 minutes late
	f.tickAt(start.Add(7*time.Minute + 10*time.Second))
	f.tickAt(start.Add(8 * time.Minute))
	op := byStep(f.rec.deliveries(t), "opening")
	if len(op) != 1 || !strings.Contains(op[0].Content.Text, "晚了 7 分钟") {
		t.Fatalf("late opening: %+v", op)
	}
	if s := f.state("late"); s.State != qunyun.SessionOpen || s.Run.LateBy != 7 {
		t.Fatalf("state %+v", s)
	}
}

func TestMissedReminderStillOpens(t *testing.T) {
	f := newFixture(t)
	f.createSession("s", start)
	f.tickAt(start.Add(2 * time.Minute)) // the first tick the function saw is after the start
	ds := f.rec.deliveries(t)
	if len(byStep(ds, "reminder")) != 0 || len(byStep(ds, "opening")) != 1 || f.state("s").State != qunyun.SessionOpen {
		t.Fatalf("deliveries %+v, state %s", ds, f.state("s").State)
	}
}

func TestHostNoShowAlertsModerators(t *testing.T) {
	f := newFixture(t)
	f.createSession("ns", start)
	f.tickAt(start)
	f.say("x1", "u1", "老师来了吗？", "", start.Add(2*time.Minute))
	f.tickAt(start.Add(9 * time.Minute))
	if len(byStep(f.rec.deliveries(t), "noshow")) != 0 {
		t.Fatal("alert before 10 minutes")
	}
	f.tickAt(start.Add(10 * time.Minute))
	f.tickAt(start.Add(11 * time.Minute))
	// The moderator and the owner, as every alert of the group.
	alerts := byStep(f.rec.deliveries(t), "noshow")
	if len(alerts) != 2 || alerts[0].TargetID != "mod1" || alerts[1].TargetID != "owner1" {
		t.Fatalf("alerts: %+v", alerts)
	}
	for _, a := range alerts {
		if a.TargetKind != qunyun.TargetStaff || !a.Urgent || !strings.Contains(a.Content.Text, "嘉宾还没有发言") {
			t.Fatalf("alert: %+v", a)
		}
	}
	if !f.state("ns").Run.NoShow {
		t.Fatal("no-show not recorded")
	}
	// The group is told, once; the host is pinged, once.
	group := byStep(f.rec.deliveries(t), "noshow-group")
	if len(group) != 1 || group[0].TargetKind != qunyun.TargetGroup || group[0].TargetID != "g1" || !strings.Contains(group[0].Content.Text, "暂时还没到") {
		t.Fatalf("group notice: %+v", group)
	}
	ping := byStep(f.rec.deliveries(t), "noshow-host")
	if len(ping) != 1 || ping[0].TargetKind != qunyun.TargetStaff || ping[0].TargetID != "li.wecom" || !strings.Contains(ping[0].Content.Text, "大家在群里等您") {
		t.Fatalf("host ping: %+v", ping)
	}
}

// A no-show's alert and the host's ping offer the planner's next free slot
// for that host in that group: inside the host's availability, after the
// reminder lead, clear of the group's other sessions.
func TestNoShowOffersNextFreeSlot(t *testing.T) {
	f := newFixture(t)
	must(t, dynamo.Catalog{Table: f.tb}.PutHost(f.ctx, qunyun.Host{ID: "h1", Name: "李老师", MemberID: "hostm", WeComUserID: "li.wecom", Availability: evenings("MON", "TUE")}))
	f.createSession("ns", start) // Monday 20:00–20:45 in Shanghai
	// Tuesday 19:00 is taken in the group; 19:30 would overlap it.
	f.createSession("busy", time.Date(2026, 11, 24, 19, 0, 0, 0, shanghai))
	f.tickAt(start)
	f.tickAt(start.Add(10 * time.Minute))
	for _, step := range []string{"noshow", "noshow-host"} {
		ds := byStep(f.rec.deliveries(t), step)
		if len(ds) == 0 || !strings.Contains(ds[0].Content.Text, "11月24日 20:00") {
			t.Fatalf("%s does not offer Tuesday 20:00: %+v", step, ds)
		}
	}
}

func TestCancelledSessionTellsGroupOnce(t *testing.T) {
	f := newFixture(t)
	f.createSession("c", start)
	f.createSession("far", start.Add(20*time.Hour))
	must(t, f.svc.CancelSession(f.ctx, "far"))
	f.tickAt(start.Add(-35 * time.Minute)) // the group hears of a cancellation within a minute, up to a day ahead
	if ds := byStep(f.rec.deliveries(t), "cancelled"); len(ds) != 1 || !strings.Contains(ds[0].ID, "/far/") {
		t.Fatalf("cancel notice a day ahead: %+v", ds)
	}
	f.tickAt(start.Add(-30 * time.Minute))
	must(t, f.svc.CancelSession(f.ctx, "c"))
	must(t, f.svc.CancelSession(f.ctx, "c"))
	f.tickAt(start.Add(-29 * time.Minute))
	f.tickAt(start.Add(-28 * time.Minute))
	f.tickAt(start)
	ds := byStep(f.rec.deliveries(t), "cancelled")[1:]
	if len(ds) != 1 || ds[0].TargetID != "g1" || !strings.Contains(ds[0].Content.Text, "取消") {
		t.Fatalf("cancel notices: %+v", ds)
	}
	if len(byStep(f.rec.deliveries(t), "opening")) != 0 {
		t.Fatal("a cancelled session opened")
	}
	// Too late to cancel an open session.
	f.createSession("o", start.Add(2*time.Hour))
	f.tickAt(start.Add(2 * time.Hour))
	if err := f.svc.CancelSession(f.ctx, "o"); qunyun.ErrorCode(err) != qunyun.ECONFLICT {
		t.Fatalf("cancel open: %v", err)
	}
}

func TestWeeklyPlanningTick(t *testing.T) {
	f := newFixture(t)
	must(t, dynamo.Catalog{Table: f.tb}.PutSessionTarget(f.ctx, qunyun.SessionTarget{Tier: "vip", PerWeek: 2}))
	must(t, dynamo.Catalog{Table: f.tb}.PutHost(f.ctx, qunyun.Host{ID: "h1", Name: "李老师", MemberID: "hostm", WeComUserID: "li.wecom", MaxPerWeek: 3, Availability: evenings("TUE", "THU")}))
	sunday := time.Date(2026, 11, 22, 19, 59, 0, 0, shanghai)
	f.tickAt(sunday)
	if ss, _ := (dynamo.Sessions{Table: f.tb}).GroupSessions(f.ctx, "g1", monday, monday.AddDate(0, 0, 7)); len(ss) != 0 {
		t.Fatal("planned before Sunday 20:00")
	}
	f.tickAt(sunday.Add(time.Minute))
	f.tickAt(sunday.Add(2 * time.Minute))
	ss, err := dynamo.Sessions{Table: f.tb}.GroupSessions(f.ctx, "g1", monday, monday.AddDate(0, 0, 7))
	must(t, err)
	if len(ss) != 2 || ss[0].HostID != "h1" || ss[0].AccountID != "wecom1" || ss[0].State != qunyun.SessionScheduled {
		t.Fatalf("planned: %+v", ss)
	}
	done, err := dynamo.Sessions{Table: f.tb}.WeekPlanned(f.ctx, monday)
	if err != nil || !done {
		t.Fatalf("week not marked planned: %v %v", done, err)
	}
	// The CLI's dry run sees nothing more to plan.
	plan, err := f.svc.PlanWeek(f.ctx, monday, true)
	if err != nil || len(plan.Sessions) != 0 {
		t.Fatalf("dry run after planning: %+v %v", plan, err)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	for _, in := range []string{`[]`, `{"kind":"sometimes"}`, `not json`, `{"detail-type":"QuestionAsked","detail":{"id":"x"}}`} {
		if err := f.svc.Handle(f.ctx, json.RawMessage(in)); qunyun.ErrorCode(err) != qunyun.EINVALID {
			t.Errorf("%s: %v", in, err)
		}
	}
	if f.rec.count() != 0 {
		t.Error("bad input published events")
	}
	if err := f.svc.Handle(f.ctx, json.RawMessage(`{"detail-type":"MemberJoined","detail":{"id":"x"}}`)); err != nil {
		t.Errorf("unrelated event: %v", err)
	}
}

func TestNoShowSessionSendsNoEmptyRecap(t *testing.T) {
	f := newFixture(t)
	f.createSession("empty", start)
	f.tickAt(start)
	f.say("x1", "u1", "有人吗", "", start.Add(time.Minute))
	f.tickAt(start.Add(45 * time.Minute))
	f.tickAt(start.Add(46 * time.Minute))
	if s := f.state("empty"); s.State != qunyun.SessionRecapped {
		t.Fatalf("state %s", s.State)
	}
	if n := len(byStep(f.rec.deliveries(t), "recap")) + len(byStep(f.rec.deliveries(t), "recap-dm")); n != 0 {
		t.Fatalf("%d recap messages for a session where nothing was said", n)
	}
	if _, found, _ := (dynamo.Sessions{Table: f.tb}).Recap(f.ctx, "empty"); !found {
		t.Fatal("the empty recap is not stored for the report")
	}
}

func TestWholeWindowMissedClosesQuietly(t *testing.T) {
	f := newFixture(t)
	f.createSession("gone", start)
	f.tickAt(start.Add(-30 * time.Minute))
	f.tickAt(start.Add(50 * time.Minute)) // an outage covered the whole window
	if s := f.state("gone"); s.State != qunyun.SessionRecapped {
		t.Fatalf("state %s", s.State)
	}
	if n := len(byStep(f.rec.deliveries(t), "opening")); n != 0 {
		t.Fatal("opened a session that was already over")
	}
}

// TestConcurrentTicks: four runs of the same minute at once (a scheduler
// retry, an overlapping invocation) open the session once and ask push for
// one opening, however many times they ask.
func TestConcurrentTicks(t *testing.T) {
	f := newFixture(t)
	f.createSession("cc", start)
	f.clk.Set(start)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.svc.Tick(f.ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	ids := map[string]bool{}
	for _, d := range f.rec.deliveries(t) {
		ids[d.ID] = true
	}
	if len(ids) != 1 || !ids["session/cc/opening/g1"] {
		t.Fatalf("distinct deliveries %v, want the one opening", ids)
	}
	if s := f.state("cc"); s.State != qunyun.SessionOpen || s.Run.OpenedAt.IsZero() {
		t.Fatalf("state %+v", s)
	}
}

// TestHostMessageAnswersOneQuestionAcrossTicks: a host message that is not
// a quote answers the open question whose words it repeats, once. A later
// tick reads the same message again and must not take it as the answer to
// another question too.
func TestHostMessageAnswersOneQuestionAcrossTicks(t *testing.T) {
	f := newFixture(t)
	f.createSession("a", start)
	f.tickAt(start)
	f.ask("a", "q1", "u1", "提问：复购率一般多少算健康？", start.Add(2*time.Minute))
	f.ask("a", "q2", "u2", "提问：会员分层怎么做？", start.Add(3*time.Minute))
	f.say("h1", "hostm", "健康的复购率在百分之三十以上。", "", start.Add(4*time.Minute))
	f.tickAt(start.Add(5 * time.Minute))
	f.tickAt(start.Add(6 * time.Minute))
	f.tickAt(start.Add(7 * time.Minute))
	qs, err := dynamo.Sessions{Table: f.tb}.Questions(f.ctx, "a")
	must(t, err)
	if len(qs) != 2 || !qs[0].Answered || qs[1].Answered {
		t.Fatalf("one host message answered %+v", qs)
	}
}

// A link a member asks about is quoted, not linked: the host's queue and
// the recap show its domain with the link broken (push sends them as they
// are), while the stored recap keeps what was said.
func TestMemberLinksQuotedUnclickable(t *testing.T) {
	f := newFixture(t)
	f.createSession("a", start)
	f.tickAt(start)
	q := f.ask("a", "q1", "u1", "提问：https://spam.example/x 这个靠谱吗？", start.Add(2*time.Minute))
	f.clk.Set(start.Add(3 * time.Minute))
	must(t, f.svc.Handle(f.ctx, json.RawMessage(`{"version":"0","detail-type":"QuestionAsked","source":"qunyun","detail":{"id":"x","session":"a","group":"g1","question":"`+q+`"}}`)))
	f.say("h1", "hostm", "不靠谱，官网是 https://official.example.com 请认准。", "q1", start.Add(4*time.Minute))
	f.tickAt(start.Add(46 * time.Minute))
	var texts []string
	for _, step := range []string{"queue", "recap"} {
		for _, d := range f.rec.deliveries(t) {
			if strings.HasPrefix(strings.Split(d.ID, "/")[2], step) {
				texts = append(texts, d.Content.Text)
			}
		}
	}
	if len(texts) < 2 {
		t.Fatalf("want the queue and the recap, got %q", texts)
	}
	for _, text := range texts {
		if strings.Contains(text, "https://spam.example") || !strings.Contains(text, "hxxps://spam[.]example/x") {
			t.Errorf("member's link not quoted as text:\n%s", text)
		}
	}
	r, found, err := dynamo.Sessions{Table: f.tb}.Recap(f.ctx, "a")
	if err != nil || !found || len(r.Top) == 0 || !strings.Contains(r.Top[0].Text, "https://spam.example/x") {
		t.Fatalf("stored recap %+v %v %v", r.Top, found, err)
	}
}

// Two sessions booked over each other in one group (before apply checked
// bookings): the second does not take the live pointer, so it cannot take
// the first one's questions; it opens, late, once the first has closed.
func TestOneLiveSessionPerGroup(t *testing.T) {
	f := newFixture(t)
	f.createSession("a", start)
	f.createSession("b", start.Add(15*time.Minute))
	f.tickAt(start)
	f.tickAt(start.Add(15 * time.Minute))
	live, found, err := dynamo.Sessions{Table: f.tb}.LiveSession(f.ctx, "g1")
	if err != nil || !found || live.SessionID != "a" {
		t.Fatalf("live pointer while a is open: %+v %v %v", live, found, err)
	}
	if st := f.state("b").State; st == qunyun.SessionOpen {
		t.Fatal("b opened over a")
	}
	f.tickAt(start.Add(45 * time.Minute))
	f.tickAt(start.Add(46 * time.Minute))
	live, found, err = dynamo.Sessions{Table: f.tb}.LiveSession(f.ctx, "g1")
	if err != nil || !found || live.SessionID != "b" {
		t.Fatalf("live pointer after a closed: %+v %v %v", live, found, err)
	}
	if b := f.state("b"); b.State != qunyun.SessionOpen || b.Run.LateBy != 30 {
		t.Fatalf("b after a closed: %s late %d", b.State, b.Run.LateBy)
	}
}

// A first deploy on a Wednesday plans the rest of that week on its first
// tick, not only next week on Sunday evening, and only once.
func TestFirstTickPlansRestOfCurrentWeek(t *testing.T) {
	f := newFixture(t)
	must(t, dynamo.Catalog{Table: f.tb}.PutSessionTarget(f.ctx, qunyun.SessionTarget{Tier: "vip", PerWeek: 2}))
	must(t, dynamo.Catalog{Table: f.tb}.PutHost(f.ctx, qunyun.Host{ID: "h1", Name: "李老师", MemberID: "hostm", WeComUserID: "li.wecom", MaxPerWeek: 3, Availability: evenings("MON", "WED", "FRI")}))
	wednesday := time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai)
	f.tickAt(wednesday)
	f.tickAt(wednesday.Add(time.Minute))
	ss, err := dynamo.Sessions{Table: f.tb}.GroupSessions(f.ctx, "g1", monday, monday.AddDate(0, 0, 7))
	must(t, err)
	if len(ss) != 2 || ss[0].Start.Before(wednesday) || ss[0].Start.Weekday() == time.Monday {
		t.Fatalf("planned this week: %+v", ss)
	}
	if done, err := (dynamo.Sessions{Table: f.tb}).WeekPlanned(f.ctx, monday); err != nil || !done {
		t.Fatalf("this week not marked planned: %v %v", done, err)
	}
	if done, _ := (dynamo.Sessions{Table: f.tb}).WeekPlanned(f.ctx, monday.AddDate(0, 0, 7)); done {
		t.Fatal("next week planned before Sunday 20:00")
	}
}
