// Package e2e_test runs a whole host session with the real callback code
// capturing the Q&A: the tick opens the session, members' messages go
// through callback.Service exactly as WeChat callbacks do, the QuestionAsked
// events the callback publishes are handed to the session function as the
// bus rule would, and the tick closes and recaps. It lives apart from the
// session package's own tests so a change in progress in the callback
// cannot stop those from building.
package e2e_test

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
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

// recorder is the EventBridge API both functions publish to.
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

// take returns the events of one detail-type published since the last take.
func (r *recorder) all(detailType string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.entries {
		if aws.ToString(e.DetailType) == detailType {
			out = append(out, aws.ToString(e.Detail))
		}
	}
	return out
}

// run is one group with a host, a moderator and five members, and a
// 30-minute session s1 at start, driven through the real callback.
type run struct {
	t     *testing.T
	ctx   context.Context
	start time.Time
	clk   *clock.Manual
	tb    *dynamo.Table
	rec   *recorder
	cb    *callback.Service
	svc   *session.Service
	n     int
}

func newRun(t *testing.T) *run {
	t.Helper()
	r := &run{t: t, ctx: context.Background(), start: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), rec: &recorder{}}
	r.clk = clock.NewManual(r.start.Add(-30 * time.Minute))
	r.tb = dynamotest.NewTable(t, r.clk)
	pub := &bus.Publisher{Client: r.rec, BusName: "test"}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var err error
	if r.cb, err = callback.NewService(callbackStores(r.tb), pub, r.clk.Now, nil, quiet); err != nil {
		t.Fatal(err)
	}
	r.cb.Moderation, r.cb.Contributions = dynamo.Moderation{Table: r.tb}, dynamo.Contributions{Table: r.tb}
	r.svc = &session.Service{Sessions: dynamo.Sessions{Table: r.tb}, Catalog: dynamo.Catalog{Table: r.tb}, Bus: pub, Clock: r.clk, Log: quiet}
	r.must(dynamo.Catalog{Table: r.tb}.PutGroup(r.ctx, qunyun.Group{ID: "g1", Name: "增长群", AccountID: "relay1"}))
	r.must(dynamo.Catalog{Table: r.tb}.PutHost(r.ctx, qunyun.Host{ID: "h1", Name: "王老师", MemberID: "host", WeComUserID: "wang"}))
	for _, m := range []qunyun.Member{
		{GroupID: "g1", ID: "host", Role: qunyun.RoleHost}, {GroupID: "g1", ID: "mod", Role: qunyun.RoleModerator},
		{GroupID: "g1", ID: "u1"}, {GroupID: "g1", ID: "u2"}, {GroupID: "g1", ID: "u3"}, {GroupID: "g1", ID: "u4"}, {GroupID: "g1", ID: "u5"},
	} {
		r.must(dynamo.Catalog{Table: r.tb}.PutMember(r.ctx, m))
	}
	_, err = dynamo.Sessions{Table: r.tb}.CreateSession(r.ctx, qunyun.Session{ID: "s1", GroupID: "g1", HostID: "h1", Topic: "社群增长", Start: r.start, End: r.start.Add(30 * time.Minute), AccountID: "relay1"})
	r.must(err)
	return r
}

func (r *run) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *run) tick(at time.Time) {
	r.t.Helper()
	r.clk.Set(at)
	r.must(r.svc.Handle(r.ctx, json.RawMessage(`{"kind":"tick","scheduledTime":"`+at.Format(time.RFC3339)+`"}`)))
}

// send delivers a relay group message a minute after the last one.
func (r *run) send(member, text, replyTo string, mentions ...string) string {
	r.t.Helper()
	r.n++
	r.clk.Advance(time.Minute)
	m := qunyun.Message{ID: fmt.Sprintf("msg%02d", r.n), AccountID: "relay1", Channel: qunyun.ChannelRelay, GroupID: "g1",
		MemberID: member, MemberName: "名" + member, Kind: qunyun.KindText, Text: text, ReplyTo: replyTo, Mentions: mentions, At: r.clk.Now()}
	acct := qunyun.Account{ID: "relay1", Kind: qunyun.ChannelRelay, HMACKey: "k"}
	if _, err := r.cb.Handle(r.ctx, callback.Inbound{Account: acct, Message: &m}); err != nil {
		r.t.Fatal(err)
	}
	return m.ID
}

func TestSessionThroughCallbacks(t *testing.T) {
	r := newRun(t)
	ctx, start, tb, rec, svc, tick, send, must := r.ctx, r.start, r.tb, r.rec, r.svc, r.tick, r.send, r.must

	tick(start.Add(-30 * time.Minute))
	tick(start)
	send("host", "大家好，今天聊社群增长。拉新之后最重要的是激活，新成员入群第一周的体验决定留存。", "")
	q1 := send("u1", "提问：新成员入群第一周应该推送什么？", "")
	send("u2", "+1", "")
	send("u3", "同问", q1)
	send("u4", "@王老师 群里发广告的人怎么处理", "", "host")
	send("u1", "加我领资料有优惠吗？", "")
	send("mod", "隐藏 3", "")
	send("host", "第一周推送新人指南和一次直播预告，让新成员感到被欢迎并且有期待。", q1)
	send("host", "广告要第一时间移出群，并在群公告写清规则，屡犯的直接拉黑。", "")

	// The bus rule hands QuestionAsked to the session function: the host
	// gets one queue within five minutes, however many questions came.
	asked := rec.all(qunyun.EventQuestionAsked)
	if len(asked) != 3 {
		t.Fatalf("callback published %d QuestionAsked, want 3: %v", len(asked), asked)
	}
	for _, d := range asked {
		must(svc.Handle(ctx, json.RawMessage(`{"detail-type":"QuestionAsked","source":"qunyun","detail":`+d+`}`)))
	}

	tick(start.Add(25 * time.Minute))
	tick(start.Add(30 * time.Minute))
	tick(start.Add(31 * time.Minute))

	recap, found, err := dynamo.Sessions{Table: tb}.Recap(ctx, "s1")
	if err != nil || !found {
		t.Fatalf("recap: %v %v", found, err)
	}
	t.Logf("recap:\n%s", recap.Text)
	if len(recap.Top) != 2 {
		t.Fatalf("top questions %+v", recap.Top)
	}
	if recap.Top[0].Text != "新成员入群第一周应该推送什么？" || recap.Top[0].Votes != 2 || !strings.Contains(recap.Top[0].Answer, "新人指南") {
		t.Errorf("top question %+v", recap.Top[0])
	}
	if recap.Top[1].Text != "群里发广告的人怎么处理" || !strings.Contains(recap.Top[1].Answer, "移出群") {
		t.Errorf("second question %+v", recap.Top[1])
	}
	if strings.Contains(recap.Text, "优惠") {
		t.Error("the hidden question is in the recap")
	}
	if !slices.Equal(recap.Absent, []string{"u5"}) {
		t.Errorf("absent %v", recap.Absent)
	}

	var reqs []qunyun.DeliveryRequest
	for _, d := range rec.all(qunyun.EventDeliveryRequested) {
		var req qunyun.DeliveryRequest
		must(json.Unmarshal([]byte(d), &req))
		reqs = append(reqs, req)
	}
	steps := map[string]int{}
	for _, req := range reqs {
		steps[strings.Split(req.ID, "/")[2]]++
	}
	queues := 0
	for step, n := range steps {
		if strings.HasPrefix(step, "queue") {
			queues += n
		}
	}
	if steps["reminder"] != 1 || steps["opening"] != 1 || steps["closing"] != 1 || steps["recap"] != 1 || steps["recap-dm"] != 1 || steps["noshow"] != 0 || queues != 1 {
		t.Errorf("deliveries by step: %v", steps)
	}
}

// TestAnswersPairWithTheirQuestions: a host message answers the question it
// numbers, @s the asker of or repeats the words of, and nothing otherwise;
// a repeated question is merged into the first with its asker's and
// voters' votes.
func TestAnswersPairWithTheirQuestions(t *testing.T) {
	r := newRun(t)
	r.tick(r.start.Add(-30 * time.Minute))
	r.tick(r.start)
	r.send("host", "大家好，今天聊社群运营。", "")
	r.send("u1", "晚饭几点开始？", "")
	r.send("u2", "会员券在哪里领？", "")
	r.send("host", "会员券在公众号菜单里领取", "")
	r.send("u3", "复购率一般多少算健康？", "")
	repeat := r.send("u4", "复购率多少才算健康？", "")
	r.send("u5", "+1", repeat)
	r.send("host", "答 1：晚饭七点开始，在二楼。", "")
	r.send("u1", "直播多久一次合适？", "")
	r.send("host", "@名u1 每周一次就够了", "", "u1")
	r.send("u2", "新人怎么破冰？", "")
	r.send("host", "谢谢大家的参与和提问！", "")
	r.tick(r.start.Add(20 * time.Minute))
	r.tick(r.start.Add(21 * time.Minute)) // a second look changes nothing

	qs, err := dynamo.Sessions{Table: r.tb}.Questions(r.ctx, "s1")
	r.must(err)
	if len(qs) != 6 {
		t.Fatalf("%d questions: %+v", len(qs), qs)
	}
	for i, want := range []struct {
		answer, mergedInto string
		votes              int
	}{
		{answer: "晚饭七点开始，在二楼。"},
		{answer: "会员券在公众号菜单里领取"},
		{votes: 2},
		{mergedInto: qs[2].Key, votes: 1},
		{answer: "@名u1 每周一次就够了"},
		{},
	} {
		q := qs[i]
		if q.Answer != want.answer || q.Answered != (want.answer != "") || q.MergedInto != want.mergedInto || q.Votes != want.votes {
			t.Errorf("question %d %q: answer %q merged %q votes %d; want %q %q %d", i+1, q.Text, q.Answer, q.MergedInto, q.Votes, want.answer, want.mergedInto, want.votes)
		}
	}

	r.tick(r.start.Add(30 * time.Minute))
	r.tick(r.start.Add(31 * time.Minute))
	recap, found, err := dynamo.Sessions{Table: r.tb}.Recap(r.ctx, "s1")
	if err != nil || !found {
		t.Fatalf("recap: %v %v", found, err)
	}
	if strings.Contains(recap.Text, "复购率多少才算健康") {
		t.Errorf("the merged repeat is in the recap:\n%s", recap.Text)
	}
	if len(recap.Top) == 0 || recap.Top[0].Text != "复购率一般多少算健康？" || recap.Top[0].Votes != 2 || recap.Top[0].Answer != "" {
		t.Errorf("top question %+v", recap.Top)
	}
}
