package push_test

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// The share map, end to end: a 1:1 message carries a link of the member's
// own; opened through the callback's /r/{code} by the member and, with
// WeChat's share signal, by two people it was forwarded to, the reading
// heat counts three readers and credits the member with the two shared
// opens.
func TestPersonalLinkSharesAreCredited(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID = "oa-group"; g.AccountID = oa.ID })
	e.put(qunyun.Content{ID: "art", Kind: qunyun.ContentText, Title: "冬日暖汤", Text: "冬日暖汤的三种做法：https://example.com/soup"})
	putProfile(t, e, "o-fan", e.clk.Now().Add(-time.Hour))
	if err := e.request(qunyun.DeliveryRequest{ID: "to-fan", Source: "test", TargetKind: qunyun.TargetMember, TargetID: "o-fan",
		GroupID: "oa-group", AccountID: oa.ID, ContentID: "art"}); err != nil {
		t.Fatal(err)
	}
	var body string
	for _, c := range e.sbx.Calls("/cgi-bin/message/custom/send") {
		body = string(c.Body)
	}
	i := strings.Index(body, "/r/")
	if i < 0 {
		t.Fatalf("no tracked link in the 1:1 message: %q", body)
	}
	code := body[i+3 : i+3+16]
	l, found, err := dynamo.Links{Table: e.tb}.Link(e.ctx, code)
	if err != nil || !found || l.MemberID != "o-fan" {
		t.Fatalf("link %s = %+v (found %v, %v), want o-fan's own", code, l, found, err)
	}

	// The callback's redirect, as WeChat's in-app browser calls it.
	dir, err := accounts.NewStatic([]qunyun.Account{oa})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := callback.NewService(callback.Stores{Log: dynamo.Log{Table: e.tb}, Followups: dynamo.Followups{Table: e.tb},
		Sessions: dynamo.Sessions{Table: e.tb}, Catalog: dynamo.Catalog{Table: e.tb}, Membership: dynamo.Membership{Table: e.tb}, Links: dynamo.Links{Table: e.tb}}, nil, e.clk.Now, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	h := callback.NewHandler(dir, svc, log)
	for i, from := range []string{"", "singlemessage", "timeline"} {
		e.clk.Set(e.clk.Now().Add(time.Minute))
		req := events.APIGatewayV2HTTPRequest{RawPath: "/r/" + code, PathParameters: map[string]string{"code": code},
			Headers: map[string]string{"user-agent": "Mozilla/5.0 MicroMessenger"}}
		if from != "" {
			req.RawQueryString = "from=" + from
		}
		req.RequestContext.HTTP.Method, req.RequestContext.RequestID = "GET", fmt.Sprint("open-", i)
		if resp, err := h.Handle(e.ctx, req); err != nil || resp.StatusCode != 302 {
			t.Fatalf("open %d: %d %v", i, resp.StatusCode, err)
		}
	}
	day := e.clk.Now().Truncate(24 * time.Hour)
	heat, err := dynamo.Links{Table: e.tb}.ReadingHeat(e.ctx, day, day.Add(24*time.Hour))
	if err != nil || len(heat) != 1 {
		t.Fatalf("heat %+v (%v)", heat, err)
	}
	if h := heat[0]; h.Title != "冬日暖汤" || h.Heat != (qunyun.Heat{Opens: 3, Readers: 3, Shares: 2}) ||
		len(h.SharedBy) != 1 || h.SharedBy[0] != (qunyun.Sharer{MemberID: "o-fan", Opens: 2}) {
		t.Fatalf("heat %+v, want 3 readers, o-fan credited with 2 shared opens", h)
	}
}
