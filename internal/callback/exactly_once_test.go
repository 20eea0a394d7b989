package callback_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// putLive makes a session live in a group, as the session function does.
func putLive(t *testing.T, f *fixture, group, session, host string) {
	t.Helper()
	l := qunyun.LiveSession{SessionID: session, GroupID: group, HostMemberID: host, End: f.clock.Now().Add(time.Hour)}
	if ok, err := (dynamo.Sessions{Table: f.table}).PutLiveSession(context.Background(), l); err != nil || !ok {
		t.Fatalf("put live session: %v %v", ok, err)
	}
}

// The same callback 3 times in sequence and 3 times concurrently: one record
// and one side effect (a captured question, one QuestionAsked).
func TestSameCallbackThreeTimes(t *testing.T) {
	f := newFixture(t, nil)
	putLive(t, f, "g1", "s1", "host")
	at := f.clock.Now().Add(-time.Second)

	seq := relayMessage("m-seq", "g1", "u1", "这个课程怎么报名？", at)
	for i := 0; i < 3; i++ {
		if r := f.relay(seq); r.StatusCode != 200 {
			t.Fatalf("delivery %d: %d %q", i, r.StatusCode, r.Body)
		}
	}
	if n := f.bus.count(qunyun.EventQuestionAsked); n != 1 {
		t.Fatalf("%d QuestionAsked published for three sequential deliveries, want 1", n)
	}
	conc := relayMessage("m-conc", "g1", "u2", "提问 嘉宾平时怎么安排时间", at)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := f.relay(conc); r.StatusCode != 200 {
				t.Errorf("concurrent delivery: %d %q", r.StatusCode, r.Body)
			}
		}()
	}
	wg.Wait()
	if n := f.countSK("MSG#"); n != 2 {
		t.Fatalf("%d message records, want 2", n)
	}
	if n := f.countSK("Q#"); n != 2 {
		t.Fatalf("%d questions, want 2", n)
	}
	if n := f.bus.distinct(qunyun.EventQuestionAsked); n != 2 {
		t.Fatalf("QuestionAsked published for %d questions, want 2", n)
	}

	// OA: three deliveries of one text message, each answered with the
	// keyword reply, one record.
	if err := (dynamo.Catalog{Table: f.table}).PutKeywordRule(context.Background(), qunyun.KeywordRule{ID: "k1", AccountID: "oa-spam", Match: "exact", Keywords: []string{"abcdteT"}, Reply: "你好 {{.Name}}"}); err != nil {
		t.Fatal(err)
	}
	v := loadVector(t, "oa_cpp_sample_spamtest")
	f.setTime(v.Timestamp)
	q := oaPlainQuery(v.Token, v.Timestamp, v.Nonce)
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", v.MsgSignature)
	for i := 0; i < 3; i++ {
		r := f.do("POST", "oa-spam", q, safeBody("gh", v.Encrypt), nil)
		if r.StatusCode != 200 || r.Body == "success" {
			t.Fatalf("OA delivery %d: %d %q, want an encrypted reply", i, r.StatusCode, r.Body)
		}
		// The reply is sealed for the account: it must open with its key.
		env, err := wechat.ParseEnvelopeXML([]byte(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := wechat.NewCrypto(v.Token, v.EncodingAESKey, v.ReceiveID)
		ts, nonce := between(r.Body, "<TimeStamp>", "</TimeStamp>"), between(r.Body, "<Nonce><![CDATA[", "]]></Nonce>")
		plain, err := c.Open(between(r.Body, "<MsgSignature><![CDATA[", "]]></MsgSignature>"), ts, nonce, env.Encrypt)
		if err != nil {
			t.Fatalf("reply does not open: %v", err)
		}
		if txt := textReply(t, plain); txt.MsgType != "text" || txt.Content != "你好 " || txt.FromUserName != "gh_10f6c3c3ac5a" {
			t.Fatalf("reply %+v", txt)
		}
	}
	if n := f.countSK("MSG#"); n != 3 {
		t.Fatalf("%d message records, want 3", n)
	}
}

func between(s, a, b string) string {
	i := indexOf(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := indexOf(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// A join via relay: one event, a member record, the group created, one
// MemberJoined; three deliveries change nothing more.
func TestJoinUpsertsAndPublishesOnce(t *testing.T) {
	f := newFixture(t, nil)
	body := fmt.Sprintf(`{"id":"j1","type":"member_joined","group_id":"g9","member_id":"u7","member_name":"阿青","time":%d}`, f.clock.Now().Unix())
	for i := 0; i < 3; i++ {
		if r := f.relay(body); r.StatusCode != 200 {
			t.Fatalf("%d %q", r.StatusCode, r.Body)
		}
	}
	if n := f.countSK("EVT#"); n != 1 {
		t.Fatalf("%d events", n)
	}
	m, found, err := dynamo.Catalog{Table: f.table}.Member(context.Background(), "g9", "u7")
	if err != nil || !found || m.Name != "阿青" || m.Role != qunyun.RoleMember {
		t.Fatalf("member %+v %v %v", m, found, err)
	}
	g, found, err := dynamo.Catalog{Table: f.table}.Group(context.Background(), "g9")
	if err != nil || !found || g.State != qunyun.GroupActive || g.AccountID != "relay" {
		t.Fatalf("group %+v %v %v", g, found, err)
	}
	if n := f.bus.count(qunyun.EventMemberJoined); n != 1 {
		t.Fatalf("%d MemberJoined", n)
	}
	dismiss := fmt.Sprintf(`{"id":"d1","type":"group_dismissed","group_id":"g9","time":%d}`, f.clock.Now().Unix())
	if r := f.relay(dismiss); r.StatusCode != 200 {
		t.Fatal(r.Body)
	}
	if g, _, _ := (dynamo.Catalog{Table: f.table}).Group(context.Background(), "g9"); g.State != qunyun.GroupDismissed {
		t.Fatalf("dismissed group is %q", g.State)
	}
}

// Check-in: once a day in the group's zone, the streak grows on
// consecutive days and a retry never counts twice.
func TestCheckinStreak(t *testing.T) {
	f := newFixture(t, nil)
	if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(context.Background(), qunyun.CheckinRule{ID: "c", AccountID: "relay"}); err != nil {
		t.Fatal(err)
	}
	// 23:30 UTC is 07:30 the next day in Shanghai.
	day := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	for i, at := range []time.Time{day, day.Add(time.Minute), day.Add(24 * time.Hour), day.Add(24 * time.Hour)} {
		f.clock.Set(at)
		body := relayMessage("c"+strconv.Itoa(i), "g1", "u1", "打卡", at)
		if i == 3 {
			body = relayMessage("c2", "g1", "u1", "打卡", day.Add(24*time.Hour)) // a retry of the third
		}
		if r := f.relay(body); r.StatusCode != 200 {
			t.Fatal(r.Body)
		}
	}
	var s struct {
		dynamo.Keys
		qunyun.CheckinStreak
	}
	if _, err := f.table.Get(context.Background(), "GROUP#g1", "STREAK#u1", &s); err != nil {
		t.Fatal(err)
	}
	if s.Streak != 2 || s.Total != 2 || s.Last != "2026-11-22" {
		t.Fatalf("streak %+v", s.CheckinStreak)
	}
	if n := f.countSK("CHECKIN#"); n != 2 {
		t.Fatalf("%d check-in log items", n)
	}
}

// "+1" votes once per member for the latest open question.
func TestVotes(t *testing.T) {
	f := newFixture(t, nil)
	putLive(t, f, "g1", "s1", "host")
	at := f.clock.Now()
	f.relay(relayMessage("q1", "g1", "u1", "能不能讲讲定价？", at))
	for i, m := range []string{"u2", "u2", "u3"} {
		f.relay(relayMessage("v"+strconv.Itoa(i), "g1", m, "+1", at.Add(time.Duration(i+1)*time.Second)))
	}
	qs, err := f.table.QueryItems(context.Background(), dynamo.Query{PK: "SESSION#s1", SKPrefix: "Q#"})
	if err != nil || len(qs) != 1 {
		t.Fatalf("%d questions %v", len(qs), err)
	}
	var q qunyun.Question
	_ = dynamo.Unmarshal(qs[0], &q)
	if q.Votes != 2 || len(q.Voters) != 2 {
		t.Fatalf("votes %d voters %v", q.Votes, q.Voters)
	}
}

// Moderation: a non-staff link raises ModerationHit once; staff are exempt.
func TestModeration(t *testing.T) {
	f := newFixture(t, nil)
	if err := (dynamo.Catalog{Table: f.table}).PutMember(context.Background(), qunyun.Member{GroupID: "g1", ID: "mod", Role: qunyun.RoleModerator}); err != nil {
		t.Fatal(err)
	}
	at := f.clock.Now()
	for i := 0; i < 2; i++ {
		f.relay(relayMessage("ad", "g1", "u1", "加我微信领资料 https://x.example.com/a", at))
	}
	f.relay(relayMessage("staff", "g1", "mod", "课件在 https://docs.example.com", at))
	if n := f.bus.count(qunyun.EventModerationHit); n != 1 {
		t.Fatalf("%d ModerationHit", n)
	}
}

// Unsubscribe deletes the user's 1:1 data and profile.
func TestUnsubscribeDeletesPersonalData(t *testing.T) {
	f := newFixture(t, nil)
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	send := func(body string) {
		t.Helper()
		if r := f.oa("oa-doc", ts, body); r.StatusCode != 200 {
			t.Fatalf("%d %q", r.StatusCode, r.Body)
		}
	}
	send(`<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>` + ts + `</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>`)
	send(`<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>` + ts + `</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>`)
	send(`<xml><ToUserName>gh</ToUserName><FromUserName>o2</FromUserName><CreateTime>` + ts + `</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>2</MsgId></xml>`)
	if n := f.countSK("#PROFILE"); n != 1 { // o1's subscription; a message keeps none
		t.Fatalf("%d profiles", n)
	}
	send(`<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>` + strconv.FormatInt(f.clock.Now().Unix()+1, 10) + `</CreateTime><MsgType>event</MsgType><Event>unsubscribe</Event></xml>`)
	// Left: o2's message, and the unsubscribe record itself.
	if n := f.countSK("MSG#"); n != 1 {
		t.Fatalf("%d messages left", n)
	}
	if n := f.countSK("#PROFILE"); n != 0 {
		t.Fatalf("%d profiles left", n)
	}
	if n := f.countSK("EVT#"); n != 1 {
		t.Fatalf("%d events left", n)
	}
}

// faultyDB fails writes while failing is set, like a throttled or
// unreachable DynamoDB.
type faultyDB struct {
	dynamo.API
	failing atomic.Bool
}

var errDown = errors.New("injected: DynamoDB unavailable")

func (d *faultyDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if d.failing.Load() {
		return nil, errDown
	}
	return d.API.PutItem(ctx, in, opts...)
}

func (d *faultyDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if d.failing.Load() {
		return nil, errDown
	}
	return d.API.UpdateItem(ctx, in, opts...)
}

func (d *faultyDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if d.failing.Load() {
		return nil, errDown
	}
	return d.API.GetItem(ctx, in, opts...)
}

func (d *faultyDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if d.failing.Load() {
		return nil, errDown
	}
	return d.API.DeleteItem(ctx, in, opts...)
}

func (d *faultyDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if d.failing.Load() {
		return nil, errDown
	}
	return d.API.Query(ctx, in, opts...)
}

// DynamoDB down: non-200, nothing written; after recovery the retry is
// recorded once, with its side effect once.
func TestDynamoFailureThenRetry(t *testing.T) {
	var db *faultyDB
	f := newFixture(t, func(api dynamo.API) dynamo.API { db = &faultyDB{API: api}; return db })
	putLive(t, f, "g1", "s1", "host")
	at := f.clock.Now()
	calls := []func() int{
		func() int { return f.relay(relayMessage("r1", "g1", "u1", "这个怎么用？", at)).StatusCode },
		func() int {
			return f.relay(fmt.Sprintf(`{"id":"j1","type":"member_joined","group_id":"g1","member_id":"u5","time":%d}`, at.Unix())).StatusCode
		},
		func() int {
			ts := strconv.FormatInt(at.Unix(), 10)
			return f.oa("oa-doc", ts, `<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>`+ts+`</CreateTime><MsgType>event</MsgType><Event>unsubscribe</Event></xml>`).StatusCode
		},
	}
	db.failing.Store(true)
	for i, call := range calls {
		if code := call(); code != 503 {
			t.Fatalf("call %d while down: %d, want 503", i, code)
		}
	}
	if n := len(f.items()); n != 1 { // the live sessions only
		t.Fatalf("%d items after failures, want 1", n)
	}
	db.failing.Store(false)
	f.clock.Advance(30 * time.Second) // past the cached "no session" from the failed read
	for round := 0; round < 2; round++ {
		for i, call := range calls {
			if code := call(); code != 200 {
				t.Fatalf("call %d after recovery: %d", i, code)
			}
		}
	}
	if n := f.countSK("MSG#"); n != 1 {
		t.Fatalf("%d messages", n)
	}
	if n := f.countSK("EVT#"); n != 2 {
		t.Fatalf("%d events", n)
	}
	if f.bus.count(qunyun.EventQuestionAsked) != 1 || f.bus.count(qunyun.EventMemberJoined) != 1 {
		t.Fatalf("side effects: %d questions, %d joins", f.bus.count(qunyun.EventQuestionAsked), f.bus.count(qunyun.EventMemberJoined))
	}
}

// 10,000 mixed callbacks (relay messages, joins, OA plaintext messages),
// a third of them duplicates, delivered concurrently through the handler:
// exactly the unique ones are stored.
func TestTenThousandMixedCallbacks(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	f := newFixture(t, nil)
	now := f.clock.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	const total, unique = 10000, 6700
	type call struct{ relay, oa string }
	uniq := make([]call, unique)
	for i := range uniq {
		// Spread over the last 9 minutes: relay times must be within 10
		// minutes of our clock.
		at := now.Add(-time.Duration(i%540) * time.Second)
		switch i % 3 {
		case 0:
			uniq[i] = call{relay: relayMessage("m"+strconv.Itoa(i), "g"+strconv.Itoa(i%17), "u"+strconv.Itoa(i%101), "消息 "+strconv.Itoa(i), at)}
		case 1:
			uniq[i] = call{relay: fmt.Sprintf(`{"id":"j%d","type":"member_joined","group_id":"g%d","member_id":"u%d","time":%d}`, i, i%17, i, at.Unix())}
		case 2:
			uniq[i] = call{oa: fmt.Sprintf(`<xml><ToUserName>gh</ToUserName><FromUserName>o%d</FromUserName><CreateTime>%d</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>%d</MsgId></xml>`, i%50, at.Unix(), 900000+i)}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	calls := append([]call{}, uniq...)
	for len(calls) < total {
		calls = append(calls, uniq[rng.IntN(unique)])
	}
	rng.Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })

	work := make(chan call)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				var code int
				if c.relay != "" {
					code = f.relay(c.relay).StatusCode
				} else {
					code = f.oa("oa-doc", ts, c.oa).StatusCode
				}
				if code != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	start := time.Now() // wallclock: logged duration only
	for _, c := range calls {
		work <- c
	}
	close(work)
	wg.Wait()
	t.Logf("%d callbacks in %v", total, time.Since(start))
	if failed.Load() != 0 {
		t.Fatalf("%d callbacks failed", failed.Load())
	}
	msgs, evts := f.countSK("MSG#"), f.countSK("EVT#")
	wantMsgs := (unique+2)/3 + unique/3
	if msgs != wantMsgs || evts != (unique+1)/3 {
		t.Fatalf("stored %d messages and %d events, want %d and %d", msgs, evts, wantMsgs, (unique+1)/3)
	}
	if n := f.bus.distinct(qunyun.EventMemberJoined); n != (unique+1)/3 {
		t.Fatalf("MemberJoined for %d joins, want %d", n, (unique+1)/3)
	}
	// Every join was a new member of its group: the counts add up.
	counted := 0
	for g := range 17 {
		grp, _, err := dynamo.Catalog{Table: f.table}.Group(context.Background(), "g"+strconv.Itoa(g))
		if err != nil {
			t.Fatal(err)
		}
		counted += grp.MemberCount
	}
	if counted != (unique+1)/3 {
		t.Fatalf("member counts add up to %d, want %d", counted, (unique+1)/3)
	}
	_ = url.Values{}
}

// Through the HTTP handler: in a live session, questions are captured and
// small talk (even an @ of the host, even with a question's form) is not;
// each captured question is one Q# item and one QuestionAsked.
func TestLiveSessionCapturesQuestionsNotSmallTalk(t *testing.T) {
	f := newFixture(t, nil)
	putLive(t, f, "g1", "s1", "host")
	at := f.clock.Now().Add(-time.Second)
	for i, tc := range []struct {
		text     string
		question bool
	}{
		{"晚饭几点开始？", true},
		{"会员券在哪里领", true},
		{"哈哈哈真的吗？", false},
		{"是吗", false},
		{"老师讲得真好", false},
		{"提问：下次讲什么", true},
	} {
		if r := f.relay(relayMessage(fmt.Sprintf("m%d", i), "g1", "u1", tc.text, at)); r.StatusCode != 200 {
			t.Fatalf("%q: %d %q", tc.text, r.StatusCode, r.Body)
		}
	}
	qs, err := dynamo.Sessions{Table: f.table}.Questions(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range qs {
		got = append(got, q.Text)
	}
	if want := []string{"晚饭几点开始？", "会员券在哪里领", "提问：下次讲什么"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("captured %q, want %q", got, want)
	}
	if n := f.bus.distinct(qunyun.EventQuestionAsked); n != 3 {
		t.Fatalf("QuestionAsked for %d questions, want 3", n)
	}
}
