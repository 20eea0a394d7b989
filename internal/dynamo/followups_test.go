package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// A record written with work after it says so to every retry until the
// work is finished; then a retry sees the reply and nothing left to do.
func TestRecordWithFollowup(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	m := qunyun.Message{ID: "m1", AccountID: "a", GroupID: "g", MemberID: "u", Kind: qunyun.KindText, Text: "打卡",
		At: testNow, Signals: []string{"link"}}
	_, rec, err := dynamo.Log{Table: tb}.RecordMessage(ctx, m, qunyun.Followup{Steps: []string{"checkin:c"}})
	if err != nil || !rec.Created || !rec.Pending() {
		t.Fatalf("first: %+v %v", rec, err)
	}
	retry := m
	retry.Signals = nil // a retry computed differently: the record wins
	stored, rec, err := dynamo.Log{Table: tb}.RecordMessage(ctx, retry, qunyun.Followup{})
	if err != nil || rec.Created || !rec.Pending() || rec.Steps[0] != "checkin:c" || len(stored.Signals) != 1 {
		t.Fatalf("retry before finish: %+v %+v %v", rec, stored, err)
	}
	if err := (dynamo.Followups{Table: tb}).FinishFollowup(ctx, qunyun.Record{Message: &m}, "打卡成功"); err != nil {
		t.Fatal(err)
	}
	_, rec, err = dynamo.Log{Table: tb}.RecordMessage(ctx, retry, qunyun.Followup{Steps: []string{"x"}})
	if err != nil || rec.Created || rec.Pending() || rec.Reply != "打卡成功" {
		t.Fatalf("retry after finish: %+v %v", rec, err)
	}
	// Finishing a record that is gone is not an error.
	gone := qunyun.Message{ID: "nope", GroupID: "nope", At: m.At}
	if err := (dynamo.Followups{Table: tb}).FinishFollowup(ctx, qunyun.Record{Message: &gone}, ""); err != nil {
		t.Fatal(err)
	}
	if n := len(items(t, tb, dynamo.MessageKeys(gone).PK)); n != 0 {
		t.Fatalf("finishing a missing record created %d items", n)
	}
}

func items(t *testing.T, tb *dynamo.Table, pk string) []dynamo.Item {
	t.Helper()
	its, err := tb.QueryItems(context.Background(), dynamo.Query{PK: pk})
	if err != nil {
		t.Fatal(err)
	}
	return its
}

// lastMessageAt only moves forward, whatever order messages come in.
func TestTouchPersonOnlyForward(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{base.Add(10 * time.Second), base, base.Add(9 * time.Second), base.Add(10 * time.Second)} {
		if err := (dynamo.Log{Table: tb}).TouchPerson(ctx, "oa", "o1", at, false); err != nil {
			t.Fatal(err)
		}
	}
	var p struct {
		dynamo.Keys
		LastMessageAt time.Time `dynamodbav:"lastMessageAt"`
		SubscribedAt  time.Time `dynamodbav:"subscribedAt"`
	}
	if _, err := tb.Get(ctx, "PERSON#o1", "#PROFILE", &p); err != nil {
		t.Fatal(err)
	}
	if !p.LastMessageAt.Equal(base.Add(10 * time.Second)) {
		t.Fatalf("lastMessageAt %v, want %v", p.LastMessageAt, base.Add(10*time.Second))
	}
	// Sub-second times compare right too (a fixed-width fraction).
	if err := (dynamo.Log{Table: tb}).TouchPerson(ctx, "oa", "o1", base.Add(10*time.Second+500*time.Millisecond), false); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Log{Table: tb}).TouchPerson(ctx, "oa", "o1", base.Add(10*time.Second+50*time.Millisecond), false); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Get(ctx, "PERSON#o1", "#PROFILE", &p); err != nil {
		t.Fatal(err)
	}
	if !p.LastMessageAt.Equal(base.Add(10*time.Second + 500*time.Millisecond)) {
		t.Fatalf("lastMessageAt %v after sub-second touches", p.LastMessageAt)
	}
	if err := (dynamo.Log{Table: tb}).TouchPerson(ctx, "oa", "o1", base, true); err != nil || !func() bool {
		_, err := tb.Get(ctx, "PERSON#o1", "#PROFILE", &p)
		return err == nil && p.SubscribedAt.Equal(base)
	}() {
		t.Fatalf("subscribedAt %v %v", p.SubscribedAt, err)
	}
}
