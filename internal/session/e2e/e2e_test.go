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

func TestSessionThroughCallbacks(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clk := clock.NewManual(start.Add(-30 * time.Minute))
	tb := dynamotest.NewTable(t, clk)
	rec := &recorder{}
	pub := &bus.Publisher{Client: rec, BusName: "test"}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cb, err := callback.NewService(tb, pub, clk.Now, quiet)
	if err != nil {
		t.Fatal(err)
	}
	svc := &session.Service{Store: tb, Bus: pub, Clock: clk, Log: quiet}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tb.PutGroup(ctx, qunyun.Group{ID: "g1", Name: "增长群", AccountID: "relay1"}))
	must(tb.PutHost(ctx, qunyun.Host{ID: "h1", Name: "王老师", MemberID: "host", WeComUserID: "wang"}))
	for _, m := range []qunyun.Member{
		{GroupID: "g1", ID: "host", Role: qunyun.RoleHost}, {GroupID: "g1", ID: "mod", Role: qunyun.RoleModerator},
		{GroupID: "g1", ID: "u1"}, {GroupID: "g1", ID: "u2"}, {GroupID: "g1", ID: "u3"}, {GroupID: "g1", ID: "u4"}, {GroupID: "g1", ID: "u5"},
	} {
		must(tb.PutMember(ctx, m))
	}
	_, err = tb.CreateSession(ctx, qunyun.Session{ID: "s1", GroupID: "g1", HostID: "h1", Topic: "社群增长", Start: start, End: start.Add(30 * time.Minute), AccountID: "relay1"})
	must(err)

	tick := func(at time.Time) {
		t.Helper()
		clk.Set(at)
		must(svc.Handle(ctx, json.RawMessage(`{"kind":"tick","scheduledTime":"`+at.Format(time.RFC3339)+`"}`)))
	}
	acct := qunyun.Account{ID: "relay1", Kind: qunyun.ChannelRelay, HMACKey: "k"}
	n := 0
	send := func(member, text, replyTo string, mentions ...string) string {
		t.Helper()
		n++
		clk.Advance(time.Minute)
		m := qunyun.Message{ID: fmt.Sprintf("msg%02d", n), AccountID: "relay1", Channel: qunyun.ChannelRelay, GroupID: "g1",
			MemberID: member, MemberName: "名" + member, Kind: qunyun.KindText, Text: text, ReplyTo: replyTo, Mentions: mentions, At: clk.Now()}
		if _, err := cb.Handle(ctx, callback.Inbound{Account: acct, Message: &m}); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}

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

	r, found, err := tb.Recap(ctx, "s1")
	if err != nil || !found {
		t.Fatalf("recap: %v %v", found, err)
	}
	t.Logf("recap:\n%s", r.Text)
	if len(r.Top) != 2 {
		t.Fatalf("top questions %+v", r.Top)
	}
	if r.Top[0].Text != "新成员入群第一周应该推送什么？" || r.Top[0].Votes != 2 || !strings.Contains(r.Top[0].Answer, "新人指南") {
		t.Errorf("top question %+v", r.Top[0])
	}
	if r.Top[1].Text != "群里发广告的人怎么处理" || !strings.Contains(r.Top[1].Answer, "移出群") {
		t.Errorf("second question %+v", r.Top[1])
	}
	if strings.Contains(r.Text, "优惠") {
		t.Error("the hidden question is in the recap")
	}
	if !slices.Equal(r.Absent, []string{"u5"}) {
		t.Errorf("absent %v", r.Absent)
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
