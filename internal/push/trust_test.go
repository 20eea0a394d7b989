package push_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// What members write, and the names they choose, is data: never template
// source, and never one of our tracked links (DESIGN.md §5 Trust). These
// tests feed push what a member controls and read what it sent and stored.

// links returns every tracked link in the table: what /r/{code} would
// redirect to.
func (e *env) links() []qunyun.Link {
	e.t.Helper()
	var out []qunyun.Link
	in := &dynamodb.ScanInput{TableName: aws.String(e.tb.Name)}
	for {
		res, err := dynamotest.Client(e.t).Scan(context.Background(), in)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range res.Items {
			var l struct {
				dynamo.Keys
				qunyun.Link
			}
			if err := dynamo.Unmarshal(it, &l); err != nil {
				e.t.Fatal(err)
			}
			if strings.HasPrefix(l.PK, "LINK#") {
				out = append(out, l.Link)
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// sent returns the bodies of the sandbox calls to path.
func (e *env) sent(path string) []string {
	var out []string
	for _, c := range e.sbx.Calls(path) {
		out = append(out, string(c.Body))
	}
	return out
}

// A moderation alert quotes the member's message as it was written: "{{"
// neither breaks the alert nor is expanded, and the spam link in it shows
// its real domain, unclickable, and never becomes a link of ours.
func TestModerationAlertQuotesMemberText(t *testing.T) {
	for _, c := range []struct{ name, text string }{
		{"a template action", "加我领红包 {{.Group.ID}} https://spam.example/x?a=1"},
		{"an unclosed action", "加我领红包 {{ https://spam.example/x?a=1"},
		{"a bare domain", "加我领红包 spam.com/x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, local(2026, 11, 23, 15, 0))
			e.groups(1, func(g *qunyun.Group) { g.Name = "社群 https://group-name.example" })
			e.put(qunyun.Member{GroupID: "g000", ID: "mod-a", Role: qunyun.RoleModerator})
			hit := map[string]any{"id": "hit-1", "group": "g000", "member": "m1", "memberName": "http://nick.example",
				"text": c.text, "signals": []string{"link"}}
			if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, e.clk.Now(), hit)); err != nil {
				t.Fatal(err)
			}
			bodies := e.sent("/cgi-bin/message/send")
			if len(bodies) != 1 {
				t.Fatalf("%d alerts sent, want 1 (the moderator was never told)", len(bodies))
			}
			body := bodies[0]
			want := strings.NewReplacer("https://", "hxxps://", "spam.example", "spam[.]example", "spam.com", "spam[.]com").Replace(c.text)
			if !strings.Contains(body, want) {
				t.Errorf("alert does not quote the member verbatim, links broken:\n%s\nwant it to contain %q", body, want)
			}
			for _, bad := range []string{"https://spam.example", "http://nick.example", "https://group-name.example", publicBase + "/r/"} {
				if strings.Contains(body, bad) {
					t.Errorf("alert contains %q:\n%s", bad, body)
				}
			}
			if ls := e.links(); len(ls) != 0 {
				t.Errorf("the alert made tracked links: %+v", ls)
			}
		})
	}
}

// Inline content is text another function rendered, quoting members
// (session queues and recaps, contest notices): push sends it as it is.
func TestInlineContentIsNotATemplate(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	text := "【成员提问】{{.Group.ID}} 看这个 https://spam.example/x {{"
	r := qunyun.DeliveryRequest{ID: "session/s1/recap/g000", Source: "session", TargetKind: qunyun.TargetGroup, TargetID: "g000",
		Content: &qunyun.Content{ID: "session-recap", Kind: qunyun.ContentText, Text: text}}
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	if got := e.stateOf(r); got.State != qunyun.DeliverySent {
		t.Fatalf("inline delivery %s/%s, want sent", got.State, got.Reason)
	}
	bodies := e.sent("/cgi-bin/appchat/send")
	if len(bodies) != 1 || !strings.Contains(bodies[0], "{{.Group.ID}} 看这个 https://spam.example/x {{") {
		t.Fatalf("inline text not sent as it is: %q", bodies)
	}
	if ls := e.links(); len(ls) != 0 {
		t.Errorf("inline text made tracked links: %+v", ls)
	}
}

// Operator content is a template with tracked links; a member's name
// filled into it is data: its link is broken, not tracked.
func TestMemberNameInOperatorContent(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 20))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{"new"} })
	e.put(qunyun.Content{ID: "welcome", Kind: qunyun.ContentText, Text: "欢迎{{.Member.Name}}！指南：https://docs.example.com/guide"})
	e.put(qunyun.Plan{ID: "journey", Select: qunyun.GroupSelector{Tags: []string{"new"}},
		Journey: []qunyun.JourneyStep{{Day: 0, Content: "welcome"}}})
	joined := map[string]any{"id": "join-1", "account": wecom.ID, "group": "g000", "member": "wm-1",
		"name": "https://spam.example/{{.Group.ID}}", "at": e.clk.Now()}
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventMemberJoined, e.clk.Now(), joined)); err != nil {
		t.Fatal(err)
	}
	bodies := e.sent(addMsgTemplate)
	if len(bodies) != 1 {
		t.Fatalf("%d welcomes, want 1", len(bodies))
	}
	if !strings.Contains(bodies[0], "欢迎hxxps://spam[.]example/{{[.]Group[.]ID}}！") {
		t.Errorf("the member's name is not quoted as data, link broken: %s", bodies[0])
	}
	ls := e.links()
	if len(ls) != 1 || ls[0].URL != "https://docs.example.com/guide" {
		t.Errorf("tracked links %+v, want only the operator's guide", ls)
	}
}
