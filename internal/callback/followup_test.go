package callback_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// request is one DynamoDB write as a fault rule sees it.
type request struct {
	op, sk, expr string
}

// stepFaultDB fails the first write that match picks (once), like a
// throttled or dropped request at one exact step, and counts writes.
type stepFaultDB struct {
	dynamo.API
	match func(r request) bool

	mu      sync.Mutex
	failed  bool
	puts    atomic.Int64
	updates atomic.Int64
}

func (d *stepFaultDB) fault(r request) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.match != nil && !d.failed && d.match(r) {
		d.failed = true
		return errDown
	}
	return nil
}

func sk(it dynamo.Item) string {
	var k dynamo.Keys
	_ = dynamo.Unmarshal(it, &k)
	return k.SK
}

func (d *stepFaultDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	d.puts.Add(1)
	if err := d.fault(request{"put", sk(in.Item), aws.ToString(in.ConditionExpression)}); err != nil {
		return nil, err
	}
	return d.API.PutItem(ctx, in, opts...)
}

func (d *stepFaultDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.updates.Add(1)
	if err := d.fault(request{"update", sk(in.Key), aws.ToString(in.UpdateExpression)}); err != nil {
		return nil, err
	}
	return d.API.UpdateItem(ctx, in, opts...)
}

// flakyBus fails the first publish of one detail-type, then records.
type flakyBus struct {
	*recordingBus
	failType string
	failed   atomic.Bool
}

func (b *flakyBus) Publish(ctx context.Context, evs ...bus.Event) error {
	for _, e := range evs {
		if e.DetailType == b.failType && b.failed.CompareAndSwap(false, true) {
			return fmt.Errorf("injected: PutEvents failed")
		}
	}
	return b.recordingBus.Publish(ctx, evs...)
}

// followupLeft counts log items whose work is still listed as to do.
func (f *fixture) followupLeft() int {
	n := 0
	for _, it := range f.items() {
		if _, ok := it["followup"]; ok {
			n++
		}
	}
	return n
}

// When the work after a record fails once — a publish, an upsert, the
// check-in log, the write that marks the work done — the callback answers
// 503 with the record kept and its work listed; the retry does the work and
// answers 200, and every effect exists exactly once. A third delivery is a
// pure duplicate: no update, no publish.
func TestWorkAfterRecordIsRetriedToCompletion(t *testing.T) {
	type effects struct {
		published map[string]int // detail-type → publishes (exact)
		sk        map[string]int // SK prefix → items
		members   int            // the group's MemberCount
	}
	cases := []struct {
		name      string
		busFails  string
		dbFails   func(request) bool
		live      bool
		checkin   bool
		body      func(at time.Time) string
		want      effects
		republish bool // the first attempt published before failing
	}{
		{name: "ModerationHit publish", busFails: qunyun.EventModerationHit,
			body: func(at time.Time) string {
				return relayMessage("m1", "g1", "u1", "加我领资料 https://x.example.com/a", at)
			},
			want: effects{published: map[string]int{qunyun.EventModerationHit: 1}, sk: map[string]int{"MSG#": 1}}},
		{name: "QuestionAsked publish", busFails: qunyun.EventQuestionAsked, live: true,
			body: func(at time.Time) string { return relayMessage("m1", "g1", "u1", "这个课程怎么报名？", at) },
			want: effects{published: map[string]int{qunyun.EventQuestionAsked: 1}, sk: map[string]int{"MSG#": 1, "Q#": 1}}},
		{name: "question capture", live: true, dbFails: func(r request) bool { return r.op == "put" && strings.HasPrefix(r.sk, "Q#") },
			body: func(at time.Time) string { return relayMessage("m1", "g1", "u1", "这个课程怎么报名？", at) },
			want: effects{published: map[string]int{qunyun.EventQuestionAsked: 1}, sk: map[string]int{"MSG#": 1, "Q#": 1}}},
		{name: "check-in log", checkin: true, dbFails: func(r request) bool { return r.op == "put" && strings.HasPrefix(r.sk, "CHECKIN#") },
			body: func(at time.Time) string { return relayMessage("m1", "g1", "u1", "打卡", at) },
			want: effects{sk: map[string]int{"MSG#": 1, "CHECKIN#": 1, "STREAK#": 1}}},
		{name: "MemberJoined publish", busFails: qunyun.EventMemberJoined,
			body: func(at time.Time) string { return relayJoin("j1", "g1", "u7", at) },
			want: effects{published: map[string]int{qunyun.EventMemberJoined: 1}, sk: map[string]int{"EVT#": 1, "MEMBER#": 1}, members: 1}},
		{name: "member upsert", dbFails: func(r request) bool { return r.op == "put" && strings.HasPrefix(r.sk, "MEMBER#") },
			body: func(at time.Time) string { return relayJoin("j1", "g1", "u7", at) },
			want: effects{published: map[string]int{qunyun.EventMemberJoined: 1}, sk: map[string]int{"EVT#": 1, "MEMBER#": 1}, members: 1}},
		{name: "group count", dbFails: func(r request) bool { return r.op == "update" && r.sk == "#META" && strings.Contains(r.expr, "ADD") },
			body: func(at time.Time) string { return relayJoin("j1", "g1", "u7", at) },
			want: effects{published: map[string]int{qunyun.EventMemberJoined: 1}, sk: map[string]int{"EVT#": 1, "MEMBER#": 1}, members: 1}},
		{name: "marking done", republish: true,
			dbFails: func(r request) bool { return r.op == "update" && strings.Contains(r.expr, "REMOVE") },
			body:    func(at time.Time) string { return relayJoin("j1", "g1", "u7", at) },
			want:    effects{published: map[string]int{qunyun.EventMemberJoined: 1}, sk: map[string]int{"EVT#": 1, "MEMBER#": 1}, members: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var db *stepFaultDB
			f := newFixture(t, func(api dynamo.API) dynamo.API { db = &stepFaultDB{API: api}; return db })
			fb := &flakyBus{recordingBus: f.bus, failType: tc.busFails}
			f.handler.Service.Bus = fb
			if tc.live {
				putLive(t, f, "g1", "s1", "host")
			}
			if tc.checkin {
				if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(context.Background(), qunyun.CheckinRule{ID: "c", AccountID: "relay"}); err != nil {
					t.Fatal(err)
				}
			}
			db.match = tc.dbFails
			at := f.clock.Now()
			body := tc.body(at)
			if r := f.relay(body); r.StatusCode != 503 {
				t.Fatalf("first delivery: %d %q, want 503", r.StatusCode, r.Body)
			}
			f.clock.Set(at.Add(time.Minute)) // the retry comes later
			if !db.failed && !fb.failed.Load() {
				t.Fatal("no fault was injected")
			}
			if f.followupLeft() != 1 {
				t.Fatalf("%d records with work to do after the failure, want 1", f.followupLeft())
			}
			if r := f.relay(body); r.StatusCode != 200 {
				t.Fatalf("retry: %d %q", r.StatusCode, r.Body)
			}
			if n := f.followupLeft(); n != 0 {
				t.Fatalf("%d records still with work to do", n)
			}
			check := func(when string) {
				t.Helper()
				for typ, want := range tc.want.published {
					if tc.republish {
						if got := f.bus.distinct(typ); got != want {
							t.Fatalf("%s: %s for %d ids, want %d", when, typ, got, want)
						}
						continue
					}
					if got := f.bus.count(typ); got != want {
						t.Fatalf("%s: %d %s published, want %d", when, got, typ, want)
					}
				}
				for prefix, want := range tc.want.sk {
					if got := f.countSK(prefix); got != want {
						t.Fatalf("%s: %d items %s…, want %d", when, got, prefix, want)
					}
				}
				if g, _, _ := (dynamo.Catalog{Table: f.table}).Group(context.Background(), "g1"); g.MemberCount != tc.want.members {
					t.Fatalf("%s: member count %d, want %d", when, g.MemberCount, tc.want.members)
				}
			}
			check("after the retry")
			// Every publish, a re-publish too, is dated by the record, not
			// by when it was made: consumers date their work by it.
			for _, e := range f.bus.events {
				if !e.Time.Equal(at) {
					t.Fatalf("%s published with time %v, want the record's %v", e.DetailType, e.Time, at)
				}
			}
			if tc.checkin {
				var s struct {
					dynamo.Keys
					qunyun.CheckinStreak
				}
				if _, err := f.table.Get(context.Background(), "GROUP#g1", "STREAK#u1", &s); err != nil || s.Total != 1 || s.Streak != 1 {
					t.Fatalf("streak %+v %v", s.CheckinStreak, err)
				}
			}
			published := len(f.bus.events)
			puts, updates := db.puts.Load(), db.updates.Load()
			if r := f.relay(body); r.StatusCode != 200 {
				t.Fatalf("third delivery: %d", r.StatusCode)
			}
			// A relay delivery makes two conditional puts: the claim of its
			// id and its record; a duplicate's both fail their conditions.
			if len(f.bus.events) != published || db.updates.Load() != updates || db.puts.Load() != puts+2 {
				t.Fatalf("a duplicate of a finished record published %d and wrote %d puts (2 are its conditional puts) and %d updates",
					len(f.bus.events)-published, db.puts.Load()-puts, db.updates.Load()-updates)
			}
			check("after a duplicate")
		})
	}
}

func relayJoin(id, group, member string, at time.Time) string {
	return relayEvent(id, "member_joined", group, member, at)
}

func relayEvent(id, typ, group, member string, at time.Time) string {
	b, _ := json.Marshal(map[string]any{"id": id, "type": typ, "group_id": group, "member_id": member, "time": at.Unix()})
	return string(b)
}

// The smart bot's check-in: a retry after a failure, and a duplicate after
// success, get the same reply as the first answer would have been ("打卡成功"),
// never "already checked in"; another message that day gets that one.
func TestCheckinReplySameOnRetry(t *testing.T) {
	var db *stepFaultDB
	f := newFixture(t, func(api dynamo.API) dynamo.API { db = &stepFaultDB{API: api}; return db })
	if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(context.Background(), qunyun.CheckinRule{ID: "c", AccountID: "bot"}); err != nil {
		t.Fatal(err)
	}
	send := func(msgID string) (int, string) { return botCheckin(t, f, msgID) }
	db.match = func(r request) bool { return r.op == "put" && strings.HasPrefix(r.sk, "CHECKIN#") }
	if code, _ := send("b1"); code != 503 {
		t.Fatalf("first delivery %d, want 503", code)
	}
	for i := range 2 {
		code, reply := send("b1")
		if code != 200 || !strings.Contains(reply, "打卡成功！已连续打卡 1 天，累计 1 天") {
			t.Fatalf("delivery %d of b1: %d %q", i+2, code, reply)
		}
	}
	if code, reply := send("b2"); code != 200 || !strings.Contains(reply, "今天已经打过卡") {
		t.Fatalf("second check-in: %d %q", code, reply)
	}
	if code, reply := send("b1"); code != 200 || !strings.Contains(reply, "打卡成功") {
		t.Fatalf("b1 again after b2: %d %q", code, reply)
	}
	if n := f.countSK("CHECKIN#"); n != 1 {
		t.Fatalf("%d check-ins logged", n)
	}
}

// Joins and leaves keep the group's member count exact: the same join
// delivered many times at once, many members joining at once, a member
// joining and leaving at once.
func TestMemberCountConcurrentJoins(t *testing.T) {
	f := newFixture(t, nil)
	at := f.clock.Now().Add(-time.Minute)
	var bodies []string
	for range 8 {
		bodies = append(bodies, relayJoin("ja", "g1", "a", at))
	}
	for i := range 10 {
		b := relayJoin(fmt.Sprint("j", i), "g1", fmt.Sprint("m", i), at)
		bodies = append(bodies, b, b)
	}
	bodies = append(bodies, relayJoin("jx", "g1", "x", at), relayEvent("lx", "member_left", "g1", "x", at.Add(time.Second)))
	var wg sync.WaitGroup
	var failed, retried atomic.Int64
	for _, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A 503 (too many concurrent updates of one group) is retried,
			// as WeChat and the bridge do.
			for try := 0; try < 5; try++ {
				if f.relay(b).StatusCode == 200 {
					return
				}
				retried.Add(1)
			}
			failed.Add(1)
		}()
	}
	wg.Wait()
	t.Logf("%d callbacks, %d answered 503 and were retried", len(bodies), retried.Load())
	if failed.Load() > 0 {
		t.Fatalf("%d callbacks never answered 200", failed.Load())
	}
	g, _, err := dynamo.Catalog{Table: f.table}.Group(context.Background(), "g1")
	if err != nil || g.MemberCount != 11 {
		t.Fatalf("member count %d (%v), want 11", g.MemberCount, err)
	}
	if m, _, _ := (dynamo.Catalog{Table: f.table}).Member(context.Background(), "g1", "x"); m.Active() {
		t.Fatalf("x joined and left, still in: %+v", m)
	}
	if n := f.bus.distinct(qunyun.EventMemberJoined); n != 12 {
		t.Fatalf("MemberJoined for %d joins, want 12", n)
	}
	if n := f.followupLeft(); n != 0 {
		t.Fatalf("%d records with work left", n)
	}
}

// Membership events in any order end with the member in or out as the
// latest of them says, and the count never goes below zero.
func TestMemberCountOutOfOrder(t *testing.T) {
	f := newFixture(t, nil)
	t0 := f.clock.Now().Add(-5 * time.Minute) // relay times are within 10 min of our clock
	count := func() int {
		t.Helper()
		g, _, err := dynamo.Catalog{Table: f.table}.Group(context.Background(), "g1")
		if err != nil {
			t.Fatal(err)
		}
		return g.MemberCount
	}
	send := func(b string) {
		t.Helper()
		if r := f.relay(b); r.StatusCode != 200 {
			t.Fatalf("%d %q", r.StatusCode, r.Body)
		}
	}
	// u1's leave arrives before its join.
	send(relayEvent("l1", "member_left", "g1", "u1", t0.Add(10*time.Second)))
	if n := count(); n != 0 {
		t.Fatalf("count %d after a lone leave, want 0", n)
	}
	send(relayJoin("j1", "g1", "u1", t0))
	if n := count(); n != 0 {
		t.Fatalf("count %d after a late join of a member who left since, want 0", n)
	}
	// u2 joins, leaves and joins again; the callbacks come newest first.
	send(relayJoin("j2b", "g1", "u2", t0.Add(20*time.Second)))
	send(relayEvent("l2", "member_left", "g1", "u2", t0.Add(10*time.Second)))
	send(relayJoin("j2a", "g1", "u2", t0))
	if n := count(); n != 1 {
		t.Fatalf("count %d, want 1 (u2 rejoined)", n)
	}
	// The same join under another id (a re-sent WeCom event) counts once.
	send(relayJoin("j2c", "g1", "u2", t0.Add(20*time.Second)))
	if n := count(); n != 1 {
		t.Fatalf("count %d after a repeated join, want 1", n)
	}
	if m, _, _ := (dynamo.Catalog{Table: f.table}).Member(context.Background(), "g1", "u1"); m.Active() {
		t.Fatalf("u1 is in: %+v", m)
	}
	if m, _, _ := (dynamo.Catalog{Table: f.table}).Member(context.Background(), "g1", "u2"); !m.Active() {
		t.Fatalf("u2 is out: %+v", m)
	}
}

// An older 1:1 message arriving after a newer one leaves the start of the
// person's customer-service window (what push reads) at the newer one, and
// a 1:1 message writes its record and nothing else.
func TestLastMessageAtOnlyForward(t *testing.T) {
	f := newFixture(t, nil)
	now := f.clock.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	for i, at := range []time.Time{now, now.Add(-30 * time.Second)} {
		body := fmt.Sprintf(`<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>%d</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>%d</MsgId></xml>`, at.Unix(), 100+i)
		if r := f.oa("oa-doc", ts, body); r.StatusCode != 200 {
			t.Fatalf("%d %q", r.StatusCode, r.Body)
		}
	}
	last, err := dynamo.Log{Table: f.table}.LastMessageSince(context.Background(), "oa-doc", "o1", now.Add(-48*time.Hour))
	if err != nil || !last.Equal(now) {
		t.Fatalf("last message %v %v, want %v", last, err, now)
	}
	if n := len(f.items()); n != 2 {
		t.Fatalf("%d items for two 1:1 messages, want their 2 records", n)
	}
}

// A "+1" whose vote failed is retried for the question it was meant for,
// even when a newer question came in meanwhile; it counts once.
func TestVoteRetryKeepsItsQuestion(t *testing.T) {
	var db *stepFaultDB
	f := newFixture(t, func(api dynamo.API) dynamo.API { db = &stepFaultDB{API: api}; return db })
	putLive(t, f, "g1", "s1", "host")
	at := f.clock.Now()
	send := func(body string, want int) {
		t.Helper()
		if r := f.relay(body); r.StatusCode != want {
			t.Fatalf("%d %q, want %d", r.StatusCode, r.Body, want)
		}
	}
	send(relayMessage("q1", "g1", "u1", "能不能讲讲定价？", at), 200)
	db.match = func(r request) bool { return r.op == "update" && strings.Contains(r.expr, "ADD #votes") }
	vote := relayMessage("v1", "g1", "u2", "+1", at.Add(time.Second))
	send(vote, 503)
	send(relayMessage("q2", "g1", "u3", "嘉宾怎么看这个行业？", at.Add(2*time.Second)), 200)
	send(vote, 200)
	send(vote, 200)
	qs, err := dynamo.QueryInto[qunyun.Question](context.Background(), f.table, dynamo.Query{PK: "SESSION#s1", SKPrefix: "Q#"})
	if err != nil || len(qs) != 2 {
		t.Fatalf("%d questions %v", len(qs), err)
	}
	if qs[0].MessageID != "q1" || qs[0].Votes != 1 || qs[1].Votes != 0 {
		t.Fatalf("votes: %s %d, %s %d; want q1 1, q2 0", qs[0].MessageID, qs[0].Votes, qs[1].MessageID, qs[1].Votes)
	}
}

// When every delivery WeChat makes fails its work (EventBridge down for
// longer than WeChat retries), the records are noted for the day, and
// Resume finishes them once EventBridge is back: each effect once, and a
// second Resume finds nothing.
func TestResumeAfterRetriesRanOut(t *testing.T) {
	f := newFixture(t, nil)
	db := &gateBus{next: f.bus}
	f.handler.Service.Bus = db
	db.down.Store(true)
	at := f.clock.Now()
	join := relayJoin("j1", "g1", "u7", at)
	hit := relayMessage("m1", "g1", "u1", "加我领资料 https://x.example.com/a", at)
	for range 3 {
		for _, b := range []string{join, hit} {
			if r := f.relay(b); r.StatusCode != 503 {
				t.Fatalf("%d %q, want 503", r.StatusCode, r.Body)
			}
		}
	}
	if n := f.followupLeft(); n != 2 {
		t.Fatalf("%d records with work left, want 2", n)
	}
	db.down.Store(false)
	svc := f.handler.Service
	// Right after the last failure WeChat may still retry: Resume waits.
	rep, err := svc.ResumeDue(context.Background(), f.clock.Now())
	if err != nil || rep.Waiting != 2 || rep.Finished != 0 {
		t.Fatalf("resume right after the failures: %+v (%v), want 2 waiting", rep, err)
	}
	f.clock.Set(at.Add(callback.DefaultResumeAfter))
	rep, err = svc.ResumeDue(context.Background(), f.clock.Now())
	if err != nil || rep.Finished != 2 || rep.Notes != 2 {
		t.Fatalf("resume: %+v (%v), want 2 finished", rep, err)
	}
	if f.bus.count(qunyun.EventMemberJoined) != 1 || f.bus.count(qunyun.EventModerationHit) != 1 {
		t.Fatalf("published %d MemberJoined, %d ModerationHit; want 1 and 1",
			f.bus.count(qunyun.EventMemberJoined), f.bus.count(qunyun.EventModerationHit))
	}
	if g, _, _ := (dynamo.Catalog{Table: f.table}).Group(context.Background(), "g1"); g.MemberCount != 1 {
		t.Fatalf("member count %d, want 1", g.MemberCount)
	}
	if n := f.followupLeft(); n != 0 {
		t.Fatalf("%d records with work left after Resume", n)
	}
	// The notes of finished records are gone: the next run reads nothing.
	if rep, err := svc.ResumeDue(context.Background(), f.clock.Now()); err != nil || rep.Notes != 0 || rep.Finished != 0 {
		t.Fatalf("second Resume: %+v (%v), want no notes", rep, err)
	}
	// A late retry from WeChat is now a pure duplicate.
	if r := f.relay(join); r.StatusCode != 200 || f.bus.count(qunyun.EventMemberJoined) != 1 {
		t.Fatalf("late retry: %d, %d MemberJoined", r.StatusCode, f.bus.count(qunyun.EventMemberJoined))
	}
}
