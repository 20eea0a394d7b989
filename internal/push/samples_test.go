package push_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// The sample events in events/push-*.json (what `sam local invoke` and the
// repo's invoke command feed PushFunction) run through Invoke cleanly.
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob("../../events/push-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no push samples: %v", err)
	}
	e := newEnv(t, local(2026, 11, 22, 10, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID = "group-demo-1"; g.Tags = []string{qunyun.TagInternal} })
	e.put(qunyun.Member{GroupID: "group-demo-1", ID: "mod-demo", Role: qunyun.RoleModerator})
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Invoke(e.ctx, data); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	if n := len(e.sbx.Calls("/cgi-bin/message/send")); n != 1 {
		t.Errorf("moderation sample alerted %d staff, want 1", n)
	}
	if n := len(e.sbx.Calls("/cgi-bin/appchat/send")); n != 1 {
		t.Errorf("delivery-request sample posted %d times, want 1", n)
	}
}
