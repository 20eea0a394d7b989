package callback_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// putDownDB fails every put of a record whose SK contains skPart while down.
type putDownDB struct {
	dynamo.API
	skPart string
	down   atomic.Bool
}

func (d *putDownDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if d.down.Load() && strings.Contains(sk(in.Item), d.skPart) {
		return nil, errDown
	}
	return d.API.PutItem(ctx, in, opts...)
}

// A callback with two joins whose second record cannot be written on any of
// WeChat's deliveries: the first join is recorded with its work listed, and
// no delivery ever gets to that work. It must be noted, so Resume does it
// (the member in, the count, MemberJoined) once the retries have run out.
func TestRecordedEventBeforeAFailedRecordIsResumed(t *testing.T) {
	var db *putDownDB
	f := newFixture(t, func(api dynamo.API) dynamo.API {
		db = &putDownDB{API: api, skPart: "#j2"}
		return db
	})
	db.down.Store(true)
	at := f.clock.Now()
	in := callback.Inbound{Account: qunyun.Account{ID: "relay", Kind: qunyun.ChannelRelay}, GroupEvents: []qunyun.GroupEvent{
		{ID: "j1", Type: qunyun.EventMemberJoined, AccountID: "relay", Channel: qunyun.ChannelRelay, GroupID: "g1", MemberID: "u7", At: at},
		{ID: "j2", Type: qunyun.EventMemberJoined, AccountID: "relay", Channel: qunyun.ChannelRelay, GroupID: "g1", MemberID: "u8", At: at},
	}}
	svc := f.handler.Service
	for range 3 {
		if _, err := svc.Handle(context.Background(), in); err == nil {
			t.Fatal("the second record failed, yet Handle succeeded")
		}
	}
	db.down.Store(false) // WeChat has given up: no delivery comes again
	f.clock.Set(at.Add(callback.DefaultResumeAfter))
	rep, err := svc.ResumeDue(context.Background(), f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Finished != 1 {
		t.Fatalf("resume: %+v, want the recorded join finished", rep)
	}
	if m, found, _ := (dynamo.Catalog{Table: f.table}).Member(context.Background(), "g1", "u7"); !found || !m.Active() {
		t.Fatalf("u7 not in g1 after Resume (found %v)", found)
	}
	if n := f.bus.count(qunyun.EventMemberJoined); n != 1 {
		t.Fatalf("%d MemberJoined, want 1", n)
	}
	if n := f.followupLeft(); n != 0 {
		t.Fatalf("%d records with work left", n)
	}
}

// lostAnswerDB writes a record whose SK contains skPart but loses the
// answer, and fails the read-back, while down: the record exists with its
// work listed, and every delivery answers 503 before reaching the work.
type lostAnswerDB struct {
	dynamo.API
	skPart string
	down   atomic.Bool
}

func (d *lostAnswerDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := d.API.PutItem(ctx, in, opts...)
	if d.down.Load() && strings.Contains(sk(in.Item), d.skPart) {
		return nil, errDown
	}
	return out, err
}

func (d *lostAnswerDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if d.down.Load() && strings.Contains(sk(in.Key), d.skPart) {
		return nil, errDown
	}
	return d.API.GetItem(ctx, in, opts...)
}

// A record written whose answer was lost on every delivery (and whose
// read-back failed) holds its work with nobody to do it: it is noted, and
// Resume does the work once the retries have run out.
func TestRecordWithLostAnswerIsResumed(t *testing.T) {
	var db *lostAnswerDB
	f := newFixture(t, func(api dynamo.API) dynamo.API {
		db = &lostAnswerDB{API: api, skPart: "#m1"}
		return db
	})
	db.down.Store(true)
	at := f.clock.Now()
	hit := relayMessage("m1", "g1", "u1", "加我领资料 https://x.example.com/a", at)
	for range 3 {
		if r := f.relay(hit); r.StatusCode != 503 {
			t.Fatalf("%d %q, want 503", r.StatusCode, r.Body)
		}
	}
	if n := f.followupLeft(); n != 1 {
		t.Fatalf("%d records with work left, want 1", n)
	}
	db.down.Store(false)
	f.clock.Set(at.Add(callback.DefaultResumeAfter))
	rep, err := f.handler.Service.ResumeDue(context.Background(), f.clock.Now())
	if err != nil || rep.Finished != 1 {
		t.Fatalf("resume: %+v (%v), want the record finished", rep, err)
	}
	if n := f.bus.count(qunyun.EventModerationHit); n != 1 {
		t.Fatalf("%d ModerationHit, want 1", n)
	}
}
