package push_test

import (
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// A plan that picks by tag sends an editor's approved contribution like
// any content of the library, never a draft; the member's text is sent as
// written (not a template) and their link is not made one of ours.
func TestPlanPicksApprovedContributionsByTag(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 9, 0))
	e.groups(1, func(g *qunyun.Group) { g.Tags = []string{qunyun.TagInternal} })
	contributed := func(id string, state qunyun.ContentState, text string) qunyun.Content {
		return qunyun.Content{ID: id, Kind: qunyun.ContentText, Text: text, Tags: []string{"投稿"},
			Contribution: &qunyun.Contribution{State: state, MemberID: "ed1", GroupID: "g000", AccountID: wecom.ID}}
	}
	e.put(contributed("tg-draft", qunyun.ContentDraft, "草稿不该发出"))
	e.put(contributed("tg-ok", qunyun.ContentApproved, "读书笔记 {{.Group.Name}} https://notes.example.com/w1"))
	e.put(qunyun.Plan{ID: "p-contrib", ContentTags: []string{"投稿"}, Cron: "0 10 * * ? *"})
	e.tick(local(2026, 11, 23, 10, 0))
	bodies := e.sent("/cgi-bin/appchat/send")
	if len(bodies) != 1 {
		t.Fatalf("%d posts, want the approved contribution once", len(bodies))
	}
	if !strings.Contains(bodies[0], "读书笔记 {{.Group.Name}} https://notes.example.com/w1") {
		t.Fatalf("the contribution was not sent as written:\n%s", bodies[0])
	}
	if ls := e.links(); len(ls) != 0 {
		t.Fatalf("the member's link became ours: %+v", ls)
	}
}
