package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// A note tells when the work last failed; of two claims on one reading
// only the first wins; a failure noted after a claim keeps the note from
// being cleared; the record is read with its work while it is pending.
func TestFollowupNoteLifecycle(t *testing.T) {
	tb := newTable(t)
	ctx := context.Background()
	failed := time.Date(2026, 11, 22, 12, 0, 5, 0, time.UTC)
	m := qunyun.Message{ID: "m1", AccountID: "a", GroupID: "g", MemberID: "u", Kind: qunyun.KindText, Text: "x",
		At: failed.Add(-5 * time.Second), Signals: []string{"link"}}
	if _, _, err := (dynamo.Log{Table: tb}).RecordMessage(ctx, m, qunyun.Followup{Steps: []string{"moderation"}}); err != nil {
		t.Fatal(err)
	}
	k := dynamo.MessageKeys(m)
	if err := (dynamo.Followups{Table: tb}).NoteStuckFollowup(ctx, qunyun.Record{Message: &m}, failed); err != nil {
		t.Fatal(err)
	}
	notes, err := dynamo.Followups{Table: tb}.FollowupNotes(ctx, "2026-11-22")
	if err != nil || len(notes) != 1 {
		t.Fatalf("%d notes (%v), want 1", len(notes), err)
	}
	n := notes[0]
	if n.Record != k.PK+" "+k.SK || !n.NotedAt.Equal(failed) || n.Date != "2026-11-22" {
		t.Fatalf("note %+v, want record %s/%s noted at %v", n, k.PK, k.SK, failed)
	}
	if other, _ := (dynamo.Followups{Table: tb}).FollowupNotes(ctx, "2026-11-23"); len(other) != 0 {
		t.Fatalf("the next day has %d notes", len(other))
	}

	r, pending, err := dynamo.Followups{Table: tb}.FollowupRecord(ctx, n)
	if err != nil || !pending || r.Message == nil || r.Message.ID != "m1" || r.Steps[0] != "moderation" || len(r.Message.Signals) != 1 {
		t.Fatalf("record %+v pending %v (%v)", r, pending, err)
	}

	now := failed.Add(3 * time.Minute)
	rival := n
	if ok, err := (dynamo.Followups{Table: tb}).ClaimFollowupNote(ctx, &n, now); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if !n.NotedAt.Equal(now) {
		t.Fatalf("claimed note's time %v, want %v", n.NotedAt, now)
	}
	if ok, err := (dynamo.Followups{Table: tb}).ClaimFollowupNote(ctx, &rival, now); err != nil || ok {
		t.Fatalf("a second claim of the same reading: %v %v, want false", ok, err)
	}

	// The work fails again after the claim (a live retry): the note is
	// rewritten and a clear of the claimed version leaves it.
	if err := (dynamo.Followups{Table: tb}).NoteStuckFollowup(ctx, qunyun.Record{Message: &m}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Followups{Table: tb}).ClearFollowupNote(ctx, n); err != nil {
		t.Fatal(err)
	}
	if notes, _ := (dynamo.Followups{Table: tb}).FollowupNotes(ctx, "2026-11-22"); len(notes) != 1 {
		t.Fatalf("%d notes after a stale clear, want 1", len(notes))
	}

	// Done: the record reads as not pending and the note as read is cleared.
	if err := (dynamo.Followups{Table: tb}).FinishFollowup(ctx, qunyun.Record{Message: &m}, ""); err != nil {
		t.Fatal(err)
	}
	notes, _ = dynamo.Followups{Table: tb}.FollowupNotes(ctx, "2026-11-22")
	if _, pending, err := (dynamo.Followups{Table: tb}).FollowupRecord(ctx, notes[0]); err != nil || pending {
		t.Fatalf("finished record pending %v (%v)", pending, err)
	}
	if err := (dynamo.Followups{Table: tb}).ClearFollowupNote(ctx, notes[0]); err != nil {
		t.Fatal(err)
	}
	if notes, _ := (dynamo.Followups{Table: tb}).FollowupNotes(ctx, "2026-11-22"); len(notes) != 0 {
		t.Fatalf("%d notes after the clear, want 0", len(notes))
	}
	// A note whose record is gone reads as nothing to do.
	gone := qunyun.FollowupNote{Date: "2026-11-22", Record: "GROUP#g#D#2026-11-22 MSG#0#none"}
	if _, pending, err := (dynamo.Followups{Table: tb}).FollowupRecord(ctx, gone); err != nil || pending {
		t.Fatalf("missing record: pending %v (%v)", pending, err)
	}
}
