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

// subscribedAt only moves forward, whatever order the events come in, to
// the millisecond (a fixed-width fraction compares right).
func TestNoteSubscribedOnlyForward(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{base.Add(10 * time.Second), base, base.Add(9 * time.Second), base.Add(10*time.Second + 500*time.Millisecond),
		base.Add(10*time.Second + 50*time.Millisecond)} {
		if err := (dynamo.Log{Table: tb}).NoteSubscribed(ctx, "oa", "o1", at); err != nil {
			t.Fatal(err)
		}
	}
	var p struct {
		dynamo.Keys
		SubscribedAt time.Time `dynamodbav:"subscribedAt"`
	}
	if _, err := tb.Get(ctx, "PERSON#o1", "#PROFILE", &p); err != nil {
		t.Fatal(err)
	}
	if !p.SubscribedAt.Equal(base.Add(10*time.Second + 500*time.Millisecond)) {
		t.Fatalf("subscribedAt %v", p.SubscribedAt)
	}
}

// The customer-service window starts at the person's newest 1:1 message to
// the account, whatever order they were recorded in; events, other people,
// other accounts and messages before the window do not count.
func TestLastMessageSince(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	log := dynamo.Log{Table: tb}
	msg := func(id, acct, who string, at time.Time) {
		t.Helper()
		m := qunyun.Message{ID: id, AccountID: acct, Channel: qunyun.ChannelOA, MemberID: who, Kind: qunyun.KindText, Text: "hi", At: at}
		if _, _, err := log.RecordMessage(ctx, m, qunyun.Followup{}); err != nil {
			t.Fatal(err)
		}
	}
	msg("m2", "oa", "o1", base.Add(-time.Hour))
	msg("m1", "oa", "o1", base.Add(-2*time.Hour)) // older, recorded later
	msg("m3", "oa2", "o1", base.Add(-time.Minute))
	msg("m4", "oa", "o2", base.Add(-time.Minute))
	if _, err := log.RecordAccountEvent(ctx, qunyun.AccountEvent{ID: "e1", AccountID: "oa", MemberID: "o1", Type: qunyun.EventSubscribed, At: base.Add(-30 * time.Minute)}, qunyun.Followup{}); err != nil {
		t.Fatal(err)
	}
	since := base.Add(-48 * time.Hour)
	if last, err := log.LastMessageSince(ctx, "oa", "o1", since); err != nil || !last.Equal(base.Add(-time.Hour)) {
		t.Fatalf("last message %v %v, want an hour ago", last, err)
	}
	if last, err := log.LastMessageSince(ctx, "oa", "o1", base.Add(-30*time.Minute)); err != nil || !last.IsZero() {
		t.Fatalf("last message since half an hour ago %v %v, want none", last, err)
	}
	if last, err := log.LastMessageSince(ctx, "oa", "o3", since); err != nil || !last.IsZero() {
		t.Fatalf("someone who never wrote: %v %v", last, err)
	}
}
