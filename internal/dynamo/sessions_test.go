package dynamo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func testSession(id, group string, start time.Time) qunyun.Session {
	return qunyun.Session{ID: id, GroupID: group, HostID: "h1", Start: start, End: start.Add(45 * time.Minute)}
}

func TestSessionStore(t *testing.T) {
	ctx := context.Background()
	tb := newTable(t)
	base := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

	t.Run("create is idempotent and validates", func(t *testing.T) {
		s := testSession("s1", "g1", base)
		created, err := dynamo.Sessions{Table: tb}.CreateSession(ctx, s)
		if err != nil || !created {
			t.Fatalf("create: %v %v", created, err)
		}
		s.Topic = "changed"
		created, err = dynamo.Sessions{Table: tb}.CreateSession(ctx, s)
		if err != nil || created {
			t.Fatalf("second create: created=%v err=%v", created, err)
		}
		got, found, err := dynamo.Sessions{Table: tb}.Session(ctx, "s1")
		if err != nil || !found || got.Topic != "" || got.State != qunyun.SessionScheduled {
			t.Fatalf("got %+v found=%v err=%v", got, found, err)
		}
		bad := testSession("bad#id", "g1", base)
		if _, err := (dynamo.Sessions{Table: tb}).CreateSession(ctx, bad); qunyun.ErrorCode(err) != qunyun.EINVALID {
			t.Fatalf("bad id: %v", err)
		}
		bad = testSession("bad", "g1", base)
		bad.End = bad.Start
		if _, err := (dynamo.Sessions{Table: tb}).CreateSession(ctx, bad); qunyun.ErrorCode(err) != qunyun.EINVALID {
			t.Fatalf("empty window: %v", err)
		}
	})

	t.Run("ranges by start and group", func(t *testing.T) {
		for i, g := range []string{"g1", "g2", "g1"} {
			if _, err := (dynamo.Sessions{Table: tb}).CreateSession(ctx, testSession(fmt.Sprintf("r%d", i), g, base.Add(time.Duration(i+1)*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		got, err := dynamo.Sessions{Table: tb}.SessionsStarting(ctx, base.Add(time.Hour), base.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != "r0" || got[1].ID != "r1" {
			t.Fatalf("range [1h,3h): %+v", got)
		}
		got, err = dynamo.Sessions{Table: tb}.GroupSessions(ctx, "g1", base, base.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].ID != "s1" || got[2].ID != "r2" {
			t.Fatalf("group g1: %+v", got)
		}
	})

	t.Run("transition happens once", func(t *testing.T) {
		_, moved, err := dynamo.Sessions{Table: tb}.TransitionSession(ctx, "s1", qunyun.SessionScheduled, qunyun.SessionReminded, nil)
		if err != nil || !moved {
			t.Fatalf("first: %v %v", moved, err)
		}
		_, moved, err = dynamo.Sessions{Table: tb}.TransitionSession(ctx, "s1", qunyun.SessionScheduled, qunyun.SessionReminded, nil)
		if err != nil || moved {
			t.Fatalf("second: %v %v", moved, err)
		}
		if _, _, err := (dynamo.Sessions{Table: tb}).TransitionSession(ctx, "missing", qunyun.SessionScheduled, qunyun.SessionReminded, nil); qunyun.ErrorCode(err) != qunyun.ENOTFOUND {
			t.Fatalf("missing: %v", err)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		s, ok, err := dynamo.Sessions{Table: tb}.CancelSession(ctx, "r0")
		if err != nil || !ok || s.State != qunyun.SessionCancelled {
			t.Fatalf("cancel: %+v %v %v", s, ok, err)
		}
		if _, ok, err := (dynamo.Sessions{Table: tb}).CancelSession(ctx, "r0"); err != nil || ok {
			t.Fatalf("cancel twice: %v %v", ok, err)
		}
		if _, _, err := (dynamo.Sessions{Table: tb}).TransitionSession(ctx, "r1", qunyun.SessionScheduled, qunyun.SessionOpen, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := (dynamo.Sessions{Table: tb}).CancelSession(ctx, "r1"); qunyun.ErrorCode(err) != qunyun.ECONFLICT {
			t.Fatalf("cancel open: %v", err)
		}
	})

	t.Run("live session of a group", func(t *testing.T) {
		l := qunyun.LiveSession{SessionID: "s1", GroupID: "g1", HostMemberID: "hm", End: testNow.Add(time.Hour)}
		if live, err := (dynamo.Sessions{Table: tb}).PutLiveSession(ctx, l); err != nil || !live {
			t.Fatal(live, err)
		}
		// A second session of the group cannot take the pointer while the
		// first is live: it would take its questions.
		other := qunyun.LiveSession{SessionID: "s2", GroupID: "g1", HostMemberID: "hm2", End: testNow.Add(2 * time.Hour)}
		if live, err := (dynamo.Sessions{Table: tb}).PutLiveSession(ctx, other); err != nil || live {
			t.Fatalf("second live session in the group: %v %v", live, err)
		}
		if live, err := (dynamo.Sessions{Table: tb}).PutLiveSession(ctx, l); err != nil || !live {
			t.Fatalf("the live session again: %v %v", live, err)
		}
		if err := (dynamo.Sessions{Table: tb}).DeleteLiveSession(ctx, "g1", "other"); err != nil {
			t.Fatal(err)
		}
		got, found, err := dynamo.Sessions{Table: tb}.LiveSession(ctx, "g1")
		if err != nil || !found || got.SessionID != "s1" {
			t.Fatalf("after deleting another session's pointer: %+v %v %v", got, found, err)
		}
		if err := (dynamo.Sessions{Table: tb}).DeleteLiveSession(ctx, "g1", "s1"); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := (dynamo.Sessions{Table: tb}).LiveSession(ctx, "g1"); found {
			t.Fatal("pointer survived its delete")
		}
		if live, err := (dynamo.Sessions{Table: tb}).PutLiveSession(ctx, other); err != nil || !live {
			t.Fatalf("the next session after the first closed: %v %v", live, err)
		}
	})

	t.Run("live sessions of every group in one read", func(t *testing.T) {
		tb := newTable(t)
		for _, l := range []qunyun.LiveSession{
			{SessionID: "a", GroupID: "ga", HostMemberID: "h", End: testNow.Add(time.Hour)},
			{SessionID: "b", GroupID: "gb", End: testNow.Add(-5 * time.Minute)},  // ended, still in its grace
			{SessionID: "c", GroupID: "gc", End: testNow.Add(-11 * time.Minute)}, // past its grace: a close that never came
		} {
			if live, err := (dynamo.Sessions{Table: tb}).PutLiveSession(ctx, l); err != nil || !live {
				t.Fatal(live, err)
			}
		}
		all, err := dynamo.Sessions{Table: tb}.LiveSessions(ctx)
		if err != nil || len(all) != 2 || all["ga"].SessionID != "a" || all["ga"].HostMemberID != "h" || !all["ga"].End.Equal(testNow.Add(time.Hour)) || all["gb"].SessionID != "b" {
			t.Fatalf("live sessions %+v %v", all, err)
		}
		// A session past its grace gives way to the next one of its group.
		if live, err := (dynamo.Sessions{Table: tb}).PutLiveSession(ctx, qunyun.LiveSession{SessionID: "d", GroupID: "gc", End: testNow.Add(time.Hour)}); err != nil || !live {
			t.Fatalf("next session over a stale one: %v %v", live, err)
		}
		if err := (dynamo.Sessions{Table: tb}).DeleteLiveSession(ctx, "ga", "a"); err != nil {
			t.Fatal(err)
		}
		if all, err := (dynamo.Sessions{Table: tb}).LiveSessions(ctx); err != nil || len(all) != 2 || all["gc"].SessionID != "d" {
			t.Fatalf("after a close: %+v %v", all, err)
		}
	})

	t.Run("questions: first answer wins, hide", func(t *testing.T) {
		at := base.Add(5 * time.Minute)
		key := dynamo.QuestionKey(at, "m1")
		type qItem struct {
			dynamo.Keys
			qunyun.Question
		}
		q := qItem{Keys: dynamo.Keys{PK: dynamo.SessionPK("s1"), SK: key, Type: "Question"},
			Question: qunyun.Question{SessionID: "s1", GroupID: "g1", MemberID: "u1", Text: "怎么做？", At: at, MessageID: "m1", Votes: 2, Voters: []string{"u2", "u3"}}}
		if err := tb.Put(ctx, q); err != nil {
			t.Fatal(err)
		}
		ok, err := dynamo.Sessions{Table: tb}.MarkAnswered(ctx, "s1", key, "这样做", "hm", at.Add(time.Minute))
		if err != nil || !ok {
			t.Fatalf("answer: %v %v", ok, err)
		}
		ok, err = dynamo.Sessions{Table: tb}.MarkAnswered(ctx, "s1", key, "另一个", "hm", at.Add(2*time.Minute))
		if err != nil || ok {
			t.Fatalf("second answer: %v %v", ok, err)
		}
		if ok, err := (dynamo.Sessions{Table: tb}).MarkAnswered(ctx, "s1", "Q#missing", "x", "hm", at); err != nil || ok {
			t.Fatalf("answer missing question: %v %v", ok, err)
		}
		if err := (dynamo.Sessions{Table: tb}).HideQuestion(ctx, "s1", key); err != nil {
			t.Fatal(err)
		}
		if err := (dynamo.Sessions{Table: tb}).HideQuestion(ctx, "s1", "Q#missing"); qunyun.ErrorCode(err) != qunyun.ENOTFOUND {
			t.Fatalf("hide missing: %v", err)
		}
		qs, err := dynamo.Sessions{Table: tb}.Questions(ctx, "s1")
		if err != nil || len(qs) != 1 {
			t.Fatalf("questions: %+v %v", qs, err)
		}
		got := qs[0]
		if got.Key != key || got.Answer != "这样做" || !got.Answered || !got.Hidden || got.Votes != 2 || len(got.Voters) != 2 {
			t.Fatalf("question: %+v", got)
		}
	})

	t.Run("recap once and digest members", func(t *testing.T) {
		r := qunyun.Recap{SessionID: "s1", GroupID: "g1", Text: "first", CreatedAt: base}
		if _, err := (dynamo.Sessions{Table: tb}).PutRecapOnce(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Text = "second"
		got, err := dynamo.Sessions{Table: tb}.PutRecapOnce(ctx, r)
		if err != nil || got.Text != "first" {
			t.Fatalf("second put: %+v %v", got, err)
		}
		for _, m := range []string{"u9", "u8", "u9"} {
			if err := (dynamo.Sessions{Table: tb}).AddRecapDigestMember(ctx, "s1", m); err != nil {
				t.Fatal(err)
			}
		}
		got, _, err = dynamo.Sessions{Table: tb}.Recap(ctx, "s1")
		if err != nil || len(got.DigestMembers) != 2 {
			t.Fatalf("digest members: %+v %v", got.DigestMembers, err)
		}
		if err := (dynamo.Sessions{Table: tb}).AddRecapDigestMember(ctx, "nope", "u1"); qunyun.ErrorCode(err) != qunyun.ENOTFOUND {
			t.Fatalf("no recap: %v", err)
		}
	})

	t.Run("messages across a UTC midnight", func(t *testing.T) {
		type msgItem struct {
			dynamo.Keys
			qunyun.Message
		}
		mid := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
		for i, at := range []time.Time{mid.Add(-20 * time.Minute), mid.Add(-5 * time.Minute), mid.Add(10 * time.Minute), mid.Add(40 * time.Minute)} {
			m := qunyun.Message{ID: fmt.Sprintf("k%d", i), GroupID: "g1", MemberID: "u1", Text: "hi", At: at}
			key := dynamo.Keys{PK: "GROUP#g1#D#" + at.Format(time.DateOnly), SK: fmt.Sprintf("MSG#%013d#%s", at.UnixMilli(), m.ID)}
			if err := tb.Put(ctx, msgItem{key, m}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := dynamo.Sessions{Table: tb}.SessionMessages(ctx, "g1", mid.Add(-10*time.Minute), mid.Add(30*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != "k1" || got[1].ID != "k2" {
			t.Fatalf("window: %+v", got)
		}
	})
}
