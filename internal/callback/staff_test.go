package callback_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// staffYAML names a moderator in a WeCom customer group (wrC1) and a relay
// group (g1), under their id in each account.
const staffYAML = `
accounts: [{id: wecom-qdg, kind: wecom}, {id: relay, kind: relay}]
groups:
  - {id: wrC1, account: wecom-qdg, purpose: general}
  - {id: g1, account: relay, purpose: general}
staff:
  - {id: s-mod, role: moderator, ids: {wecom-qdg: wm1, relay: mod}, groups: [wrC1, g1]}
`

func applyStaff(t *testing.T, f *fixture) {
	t.Helper()
	applyYAML(t, f, staffYAML, false)
}

// applyYAML applies a community file to the fixture's table.
func applyYAML(t *testing.T, f *fixture, yaml string, prune bool) {
	t.Helper()
	c, err := community.Parse("community.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	d, err := community.Compute(context.Background(), f.table, c, prune)
	if err == nil {
		err = d.Apply(context.Background(), f.table, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// A join through the callback route keeps the role community.yaml gave:
// only a member without one becomes member.
func TestJoinKeepsOperatorRole(t *testing.T) {
	f := newFixture(t, nil)
	applyStaff(t, f)
	acct := account("wecom-qdg")
	post := func(plain string) {
		t.Helper()
		q, enc := encryptedPost(t, acct, strconv.FormatInt(f.clock.Now().Unix(), 10), plain)
		if r := f.do("POST", acct.ID, q, "<xml><ToUserName>x</ToUserName><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", nil); r.StatusCode != 200 {
			t.Fatalf("%d %q", r.StatusCode, r.Body)
		}
	}
	change := func(detail, scene string, at int64) string {
		return fmt.Sprintf(`<xml><ToUserName>%s</ToUserName><FromUserName>sys</FromUserName><CreateTime>%d</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>wrC1</ChatId><ChangeType>update</ChangeType><UpdateDetail>%s</UpdateDetail>%s<MemChangeList><Item>wm1</Item><Item>wm2</Item></MemChangeList></xml>`,
			acct.CorpID, at, detail, scene)
	}
	now := f.clock.Now().Unix()
	post(change("add_member", "<JoinScene>3</JoinScene>", now))
	post(change("del_member", "<QuitScene>0</QuitScene>", now+5))
	post(change("add_member", "<JoinScene>0</JoinScene>", now+10))
	ctx := context.Background()
	for id, want := range map[string]qunyun.Role{"wm1": qunyun.RoleModerator, "wm2": qunyun.RoleMember} {
		m, found, err := dynamo.Catalog{Table: f.table}.Member(ctx, "wrC1", id)
		if err != nil || !found || m.Role != want || !m.Active() || m.JoinScene != 0 {
			t.Errorf("%s after join, leave, join: %+v (found %v, %v), want role %s", id, m, found, err, want)
		}
	}
	// The file, applied again, sees nothing to change.
	c, _ := community.Parse("community.yaml", []byte(staffYAML))
	if d, err := community.Compute(ctx, f.table, c, false); err != nil || !d.Empty() {
		t.Fatalf("apply after the joins: %v %v", d.Changes, err)
	}
}

// A moderator named in community.yaml is exempt from moderation in the
// relay group; a member posting the same is flagged.
func TestStaffFromCommunityExemptFromModeration(t *testing.T) {
	f := newFixture(t, nil)
	applyStaff(t, f)
	at := f.clock.Now()
	f.relay(relayMessage("staff", "g1", "mod", "课件在 https://docs.example.com 加我微信领资料", at))
	if n := f.bus.count(qunyun.EventModerationHit); n != 0 {
		t.Fatalf("%d ModerationHit for the moderator", n)
	}
	f.relay(relayMessage("ad", "g1", "u1", "课件在 https://docs.example.com 加我微信领资料", at))
	if n := f.bus.count(qunyun.EventModerationHit); n != 1 {
		t.Fatalf("%d ModerationHit for a member, want 1", n)
	}
}
