package push_test

import (
	"testing"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Staff whose id in the group is not a WeCom userid (a bridge's id) get
// the group's alerts at the WeCom userid community.yaml gives them; an
// editor is staff but not alerted.
func TestModerationAlertReachesStaffAtTheirWeComID(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 23, 0))
	e.groups(1, nil)
	e.put(qunyun.Member{GroupID: "g000", ID: "wxid_mod", Role: qunyun.RoleModerator, WeComUserID: "mod.wecom"})
	e.put(qunyun.Member{GroupID: "g000", ID: "wxid_ed", Role: qunyun.RoleEditor, WeComUserID: "ed.wecom"})
	hit := map[string]any{"id": "hit-1", "group": "g000", "member": "m1", "text": "加我领红包", "signals": []string{"link"}}
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventModerationHit, e.clk.Now(), hit)); err != nil {
		t.Fatal(err)
	}
	for to, want := range map[string]int{"mod.wecom": 1, "wxid_mod": 0, "ed.wecom": 0} {
		if n := e.sendsTo("/cgi-bin/message/send", `"touser":"`+to+`"`); n != want {
			t.Errorf("%s got %d alerts, want %d", to, n, want)
		}
	}
}
