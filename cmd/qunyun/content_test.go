package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// busRecorder is an EventBridge endpoint that keeps what was put on it.
type busRecorder struct {
	mu     sync.Mutex
	bodies []string
}

func (b *busRecorder) start(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.bodies = append(b.bodies, string(body))
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"FailedEntryCount":0,"Entries":[{"EventId":"e1"}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Staff list the drafts, approve one (the contributor is told through
// push) and reject another with a reason; a rejection without a reason, a
// second review and an unknown id change nothing.
func TestContentReview(t *testing.T) {
	tb, targs := tableArgs(t)
	ctx := context.Background()
	store := dynamo.Contributions{Table: tb}
	for _, id := range []string{"tg-a", "tg-b"} {
		if _, err := store.Submit(ctx, qunyun.Content{ID: id, Kind: qunyun.ContentText, Text: "本周读书笔记 " + id, Tags: []string{"投稿"},
			Contribution: &qunyun.Contribution{State: qunyun.ContentDraft, MemberID: "ed1", GroupID: "g1", AccountID: "relay",
				Channel: qunyun.ChannelRelay, MessageID: "m-" + id, SubmittedAt: tb.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	bus := &busRecorder{}
	busArgs := append([]string{"--by", "ops-lin", "--bus", "qunyun-test", "--bus-endpoint", bus.start(t)}, targs...)

	out, _, err := run(t, "", append([]string{"content", "review"}, targs...)...)
	if err != nil || !strings.Contains(out, "tg-a") || !strings.Contains(out, "tg-b") || !strings.Contains(out, "ed1") {
		t.Fatalf("review list: %v\n%s", err, out)
	}
	if _, _, err := run(t, "", append([]string{"content", "review", "reject", "tg-b"}, busArgs...)...); err == nil || !strings.Contains(err.Error(), "--reason") {
		t.Fatalf("reject without a reason: %v", err)
	}
	out, _, err = run(t, "", append([]string{"content", "review", "approve", "tg-a"}, busArgs...)...)
	if err != nil || out != "tg-a: approved by ops-lin\n" {
		t.Fatalf("approve: %v %q", err, out)
	}
	if _, _, err := run(t, "", append([]string{"content", "review", "reject", "tg-b", "--reason", "与上周重复"}, busArgs...)...); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"approve", "tg-a"}, {"approve", "nope"}} {
		if _, _, err := run(t, "", append(append([]string{"content", "review"}, bad...), busArgs...)...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	a, _, _ := dynamo.Catalog{Table: tb}.Content(ctx, "tg-a")
	b, _, _ := dynamo.Catalog{Table: tb}.Content(ctx, "tg-b")
	if a.Contribution.State != qunyun.ContentApproved || a.Contribution.ReviewedBy != "ops-lin" || !a.Pickable() {
		t.Errorf("tg-a = %+v", a.Contribution)
	}
	if b.Contribution.State != qunyun.ContentRejected || b.Contribution.Reason != "与上周重复" || b.Pickable() {
		t.Errorf("tg-b = %+v", b.Contribution)
	}
	bus.mu.Lock()
	defer bus.mu.Unlock()
	sent := strings.Join(bus.bodies, "\n")
	if len(bus.bodies) != 2 || !strings.Contains(sent, "DeliveryRequested") || !strings.Contains(sent, `contribution-review/tg-a`) ||
		!strings.Contains(sent, "已通过审核") || !strings.Contains(sent, "与上周重复") {
		t.Fatalf("the contributor was not told through push:\n%s", sent)
	}
}

// An editor of relay groups who shared a link with the Official Account is
// credited under their id in the group and told at the openid they wrote
// from.
func TestContentReviewTellsWhereSubmitted(t *testing.T) {
	tb, targs := tableArgs(t)
	ctx := context.Background()
	if _, err := (dynamo.Contributions{Table: tb}).Submit(ctx, qunyun.Content{ID: "tg-oa", Kind: qunyun.ContentLink, Text: "家常菜十分钟",
		URL: "https://notes.example.com/quick", Tags: []string{"投稿"},
		Contribution: &qunyun.Contribution{State: qunyun.ContentDraft, MemberID: "wxid_ed", From: "o_ed", GroupID: "g1", AccountID: "oa1",
			Channel: qunyun.ChannelOA, MessageID: "m-oa", SubmittedAt: tb.Now()}}); err != nil {
		t.Fatal(err)
	}
	bus := &busRecorder{}
	args := append([]string{"content", "review", "approve", "tg-oa", "--by", "ops-lin", "--bus", "qunyun-test", "--bus-endpoint", bus.start(t)}, targs...)
	if _, _, err := run(t, "", args...); err != nil {
		t.Fatal(err)
	}
	bus.mu.Lock()
	defer bus.mu.Unlock()
	if len(bus.bodies) != 1 || !strings.Contains(bus.bodies[0], `o_ed`) || strings.Contains(bus.bodies[0], `wxid_ed`) {
		t.Fatalf("the notice does not go to the openid the editor wrote from:\n%s", strings.Join(bus.bodies, "\n"))
	}
}
