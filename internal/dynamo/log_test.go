package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Check-ins: consecutive days grow the streak, a gap restarts it, a second
// check-in the same day (even concurrent) counts nothing, and a retry of the
// message that counted is told it was the one counted.
func TestCheckInStreaks(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	steps := []struct {
		msg, today, yesterday string
		counted               bool
		streak, total         int
	}{
		{"a", "2026-11-20", "2026-11-19", true, 1, 1},
		{"a", "2026-11-20", "2026-11-19", true, 1, 1}, // a retry of a
		{"b", "2026-11-20", "2026-11-19", false, 1, 1},
		{"c", "2026-11-21", "2026-11-20", true, 2, 2},
		{"d", "2026-11-22", "2026-11-21", true, 3, 3},
		{"e", "2026-11-25", "2026-11-24", true, 1, 4}, // a gap
		// Late ones (a callback finished by Resume after a later day's
		// check-in): 23 Nov, never counted, counts once in the total; the
		// streak and the last day stay.
		{"f", "2026-11-23", "2026-11-22", true, 1, 5},
		{"f", "2026-11-23", "2026-11-22", true, 1, 5},  // its retry
		{"g", "2026-11-23", "2026-11-22", false, 1, 5}, // another message that day
		// A retry of a day that counted on time, arriving after later
		// days: counted (its reply), not counted again.
		{"c", "2026-11-21", "2026-11-20", true, 1, 5},
		{"x", "2026-11-21", "2026-11-20", false, 1, 5},
		{"e", "2026-11-25", "2026-11-24", true, 1, 5},
		{"h", "2026-11-26", "2026-11-25", true, 2, 6},
		{"a", "2026-11-20", "2026-11-19", true, 2, 6}, // still remembered
		// Too late to tell (more than 14 days before the last): nothing.
		{"old", "2026-11-01", "2026-10-31", false, 2, 6},
	}
	last := ""
	for i, s := range steps {
		got, counted, err := dynamo.Log{Table: tb}.CheckIn(ctx, "g", "m", s.msg, s.today, s.yesterday)
		if err != nil {
			t.Fatal(err)
		}
		last = max(last, s.today)
		if counted != s.counted || got.Streak != s.streak || got.Total != s.total || got.Last != last {
			t.Fatalf("step %d: %+v counted=%v, want %+v", i, got, counted, s)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, counted, err := dynamo.Log{Table: tb}.CheckIn(ctx, "g", "m2", fmt.Sprint("msg", i), "2026-11-25", "2026-11-24")
			if err != nil {
				t.Error(err)
			}
			if counted {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n != 1 {
		t.Fatalf("%d concurrent check-ins counted, want 1", n)
	}
}

// A streak written before per-day memory existed: a late day cannot be
// told apart from one that counted, so it does not count; the next day
// counts as before and from then on late days do.
func TestCheckInOnAStreakWithoutDays(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	_, err := tb.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tb.Name), Item: dynamo.Item{
		"PK": &types.AttributeValueMemberS{Value: "GROUP#g"}, "SK": &types.AttributeValueMemberS{Value: "STREAK#m"},
		"type": &types.AttributeValueMemberS{Value: "CheckinStreak"}, "last": &types.AttributeValueMemberS{Value: "2026-11-20"},
		"streak": &types.AttributeValueMemberN{Value: "3"}, "total": &types.AttributeValueMemberN{Value: "9"},
		"msg": &types.AttributeValueMemberS{Value: "a"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		msg, today, yesterday string
		counted               bool
		streak, total         int
	}{
		{"a", "2026-11-20", "2026-11-19", true, 3, 9},   // a retry of the last one
		{"z", "2026-11-18", "2026-11-17", false, 3, 9},  // unknown: not counted
		{"b", "2026-11-21", "2026-11-20", true, 4, 10},  // the next day
		{"a", "2026-11-20", "2026-11-19", true, 4, 10},  // remembered now
		{"c", "2026-11-23", "2026-11-22", true, 1, 11},  // a gap
		{"d", "2026-11-22", "2026-11-21", true, 1, 12},  // late, after Since
		{"y", "2026-11-19", "2026-11-18", false, 1, 12}, // before Since: unknown
	}
	for i, s := range steps {
		got, counted, err := dynamo.Log{Table: tb}.CheckIn(ctx, "g", "m", s.msg, s.today, s.yesterday)
		if err != nil {
			t.Fatal(err)
		}
		if counted != s.counted || got.Streak != s.streak || got.Total != s.total {
			t.Fatalf("step %d: %+v counted=%v, want %+v", i, got, counted, s)
		}
	}
}

func TestVoteQuestionOncePerMember(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	q := qunyun.Question{SessionID: "s", GroupID: "g", MemberID: "a", Text: "why?", At: testNow, MessageID: "m1"}
	if created, err := (dynamo.Sessions{Table: tb}).CaptureQuestion(ctx, q); err != nil || !created {
		t.Fatal(created, err)
	}
	if created, _ := (dynamo.Sessions{Table: tb}).CaptureQuestion(ctx, q); created {
		t.Fatal("captured twice")
	}
	sk, found, err := dynamo.Sessions{Table: tb}.OpenQuestion(ctx, "s", "")
	if err != nil || !found || sk != dynamo.QuestionSK(q) {
		t.Fatal(sk, found, err)
	}
	if sk2, found, _ := (dynamo.Sessions{Table: tb}).OpenQuestion(ctx, "s", "m1"); !found || sk2 != sk {
		t.Fatal("quoted question not found")
	}
	for i, tc := range []struct {
		member string
		want   bool
	}{{"b", true}, {"b", false}, {"c", true}} {
		if ok, err := (dynamo.Sessions{Table: tb}).VoteQuestion(ctx, "s", sk, tc.member); err != nil || ok != tc.want {
			t.Fatalf("vote %d: %v %v", i, ok, err)
		}
	}
	if ok, _ := (dynamo.Sessions{Table: tb}).VoteQuestion(ctx, "s", "Q#missing", "b"); ok {
		t.Fatal("voted for a missing question")
	}
}

func TestAnchorBotMessageIsStable(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	first := time.Date(2026, 11, 22, 3, 0, 0, 123e6, time.UTC)
	a, err := dynamo.Log{Table: tb}.AnchorBotMessage(ctx, "bot", "m1", first)
	if err != nil || !a.Equal(first) {
		t.Fatal(a, err)
	}
	b, err := dynamo.Log{Table: tb}.AnchorBotMessage(ctx, "bot", "m1", first.Add(7*time.Second))
	if err != nil || !b.Equal(first) {
		t.Fatalf("retry anchored at %v, want %v (%v)", b, first, err)
	}
}

func TestMessageKeys(t *testing.T) {
	at := time.Date(2026, 11, 21, 23, 59, 59, 5e6, time.FixedZone("CST", 8*3600))
	g := dynamo.MessageKeys(qunyun.Message{ID: "k1", GroupID: "g1", AccountID: "a", MemberID: "m", At: at})
	if g.PK != "GROUP#g1#D#2026-11-21" || g.SK != "MSG#1795276799005#k1" || g.GSI1PK != "" {
		t.Fatalf("group keys %+v", g)
	}
	p := dynamo.MessageKeys(qunyun.Message{ID: "k2", AccountID: "a", MemberID: "o1", At: at})
	if p.PK != "ACCOUNT#a#D#2026-11-21" || p.GSI1PK != "PERSONLOG#a#o1" {
		t.Fatalf("1:1 keys %+v", p)
	}
}

func TestClaimRelayIDKeepsTheFirst(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	first := qunyun.RelayClaim{GroupID: "g1", Event: "message", At: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	got, err := dynamo.Log{Table: tb}.ClaimRelayID(ctx, "relay", "b-1", first)
	if err != nil || got != first {
		t.Fatalf("first claim %+v, %v", got, err)
	}
	later := qunyun.RelayClaim{GroupID: "g2", Event: "member_joined", At: first.At.Add(-time.Hour)}
	if got, err = (dynamo.Log{Table: tb}).ClaimRelayID(ctx, "relay", "b-1", later); err != nil || !got.At.Equal(first.At) || got.GroupID != "g1" || got.Event != "message" {
		t.Fatalf("later claim %+v, %v; want the first", got, err)
	}
	// Ids are scoped by account.
	if got, err = (dynamo.Log{Table: tb}).ClaimRelayID(ctx, "other", "b-1", later); err != nil || got.GroupID != "g2" {
		t.Fatalf("another account's id %+v, %v", got, err)
	}
}
