package push_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local/sandbox"
	"github.com/qunyun/qunyun/internal/qunyun"
)

const pathGroupChat = "/cgi-bin/externalcontact/groupchat/get"

func (e *env) syncRequest(id, group, why string) {
	e.t.Helper()
	if _, err := e.svc.Invoke(e.ctx, event(qunyun.EventGroupSyncRequested, e.clk.Now(), qunyun.GroupSyncRequest{
		ID: id, AccountID: wecom.ID, GroupID: group, Why: why})); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) group(id string) qunyun.Group {
	e.t.Helper()
	g, found, err := dynamo.Catalog{Table: e.tb}.Group(e.ctx, id)
	if err != nil || !found {
		e.t.Fatalf("group %s: found %v, %v", id, found, err)
	}
	return g
}

// A WeCom group first heard of through a join is known by its id alone:
// push reads it from WeChat and it gets its name, its owner and its
// members (those WeChat lists join, those it no longer lists leave; staff
// keep their records), and a member count that says so. A burst of joins
// reads it once.
func TestGroupLearnedFromAJoinIsReadFromWeChat(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	now := e.clk.Now()
	e.sbx.PutChat(sandbox.Chat{ID: "wrOgQh", Name: "小满新群", Owner: "owner-wang", Created: now.AddDate(0, -1, 0), Members: []sandbox.ChatMember{
		{UserID: "owner-wang", Name: "王店长", Type: 1, Joined: now.AddDate(0, -1, 0)},
		{UserID: "wm-old", Name: "老会员", Type: 2, Joined: now.AddDate(0, 0, -20)},
		{UserID: "wm-new", Name: "新会员", Type: 2, Joined: now.Add(-time.Minute)},
	}})
	// What the callback wrote from the join: the group by id, the member.
	if _, err := (dynamo.Catalog{Table: e.tb}).UpdateGroup(e.ctx, "wrOgQh", func(g *qunyun.Group, _ bool) error {
		g.ID, g.AccountID, g.State, g.CreatedAt = "wrOgQh", wecom.ID, qunyun.GroupActive, now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.put(qunyun.Member{GroupID: "wrOgQh", ID: "wm-new", Role: qunyun.RoleMember, JoinedAt: now.Add(-time.Minute)})
	e.put(qunyun.Member{GroupID: "wrOgQh", ID: "wm-gone", Role: qunyun.RoleMember, JoinedAt: now.AddDate(0, 0, -3)}) // left unheard
	e.put(qunyun.Member{GroupID: "wrOgQh", ID: "xiaoyu", Role: qunyun.RoleModerator})                                // staff, not in yet

	e.syncRequest("evt-join-1", "wrOgQh", qunyun.SyncJoined)
	e.syncRequest("evt-join-2", "wrOgQh", qunyun.SyncJoined)

	g := e.group("wrOgQh")
	if g.Name != "小满新群" || g.OwnerID != "owner-wang" || !g.SyncedAt.Equal(now) || g.MemberCount != 4 {
		t.Fatalf("group after the sync: name %q owner %q synced %s members %d; want WeChat's, 4 members (3 listed and the moderator)",
			g.Name, g.OwnerID, g.SyncedAt, g.MemberCount)
	}
	members, _ := dynamo.Catalog{Table: e.tb}.Members(e.ctx, "wrOgQh")
	byID := map[string]qunyun.Member{}
	for _, m := range members {
		byID[m.ID] = m
	}
	if m := byID["wm-old"]; !m.Active() || m.Name != "老会员" || !m.JoinedAt.Equal(now.AddDate(0, 0, -20)) {
		t.Errorf("wm-old, whom WeChat lists: %+v", m)
	}
	if m := byID["wm-gone"]; m.Active() {
		t.Errorf("wm-gone, whom WeChat no longer lists, is still in: %+v", m)
	}
	if m := byID["xiaoyu"]; !m.Active() || m.Role != qunyun.RoleModerator {
		t.Errorf("the moderator lost their record: %+v", m)
	}
	if n := len(e.sbx.Calls(pathGroupChat)); n != 1 {
		t.Errorf("%d groupchat/get calls, want one for the burst of joins", n)
	}
	// A rename always reads it again; an unknown chat is logged, not retried by the bus.
	e.sbx.PutChat(sandbox.Chat{ID: "wrOgQh", Name: "小满新群（改）", Owner: "owner-wang", Members: []sandbox.ChatMember{{UserID: "owner-wang", Type: 1}}})
	e.clk.Set(now.Add(time.Minute))
	e.syncRequest("evt-rename", "wrOgQh", qunyun.SyncRenamed)
	if g := e.group("wrOgQh"); g.Name != "小满新群（改）" {
		t.Errorf("after the rename: %q", g.Name)
	}
	e.groups(1, func(g *qunyun.Group) { g.ID = "wrUnknown" })
	e.syncRequest("evt-unknown", "wrUnknown", qunyun.SyncCreated)
}

// An owner change moves the group's open tasks: only the member a task was
// made for can post it, so the old owner's unconfirmed task is withdrawn
// (read back unposted) and made again for the new owner, who confirms it.
func TestOwnerChangeMovesOpenTasks(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	g := e.groups(1, nil)[0]
	e.sbx.PutChat(sandbox.Chat{ID: g.ID, Name: g.Name, Owner: g.OwnerID, Members: []sandbox.ChatMember{{UserID: g.OwnerID, Type: 1}}})
	r := qunyun.DeliveryRequest{ID: "session/s1/recap/" + g.ID, Source: qunyun.SourceSession, TargetKind: qunyun.TargetGroup, TargetID: g.ID,
		Content: &qunyun.Content{ID: "session-recap", Kind: qunyun.ContentText, Text: "本场要点回顾"}, Deadline: local(2026, 11, 24, 15, 0)}
	if err := e.request(r); err != nil {
		t.Fatal(err)
	}
	first := e.stateOf(r)
	if first.State != qunyun.DeliveryTaskCreated || first.Sender != g.OwnerID {
		t.Fatalf("recap: %s, sender %q; want a task for %s", first.State, first.Sender, g.OwnerID)
	}
	// WeCom hands the group over; its change_owner callback asks for a sync.
	e.sbx.TransferChat(g.ID, "owner-new")
	e.clk.Set(local(2026, 11, 23, 15, 1))
	e.syncRequest("evt-owner", g.ID, qunyun.SyncOwner)
	if got := e.group(g.ID).OwnerID; got != "owner-new" {
		t.Fatalf("owner after the sync: %q", got)
	}
	for m := local(2026, 11, 23, 15, 2); !m.After(local(2026, 11, 23, 15, 6)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	moved := e.stateOf(r)
	if moved.State != qunyun.DeliveryTaskCreated || moved.Sender != "owner-new" || moved.TaskID == first.TaskID {
		t.Fatalf("after the owner change: %s/%s sender %q task %s; want a new task for owner-new", moved.State, moved.Reason, moved.Sender, moved.TaskID)
	}
	if e.sbx.Confirm(first.TaskID) {
		t.Error("the old owner could still post the old task")
	}
	if !e.sbx.Confirm(moved.TaskID) {
		t.Fatal("the new owner cannot post the new task")
	}
	for m := local(2026, 11, 23, 15, 7); !m.After(local(2026, 11, 23, 15, 20)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	if got := e.stateOf(r); got.State != qunyun.DeliverySent {
		t.Fatalf("once the new owner confirmed: %s/%s", got.State, got.Reason)
	}
	if tasks := e.sbx.Tasks(); len(tasks) != 2 || !tasks[0].Cancelled && tasks[0].MsgID == first.TaskID {
		t.Errorf("tasks %+v, want the old one cancelled and one new", tasks)
	}
}

// Every night each WeCom customer group is read once, between 03:00 and
// 06:00 in its zone; the rest of the night costs no call.
func TestNightlySyncReadsEachGroupOnce(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 2, 50))
	groups := e.groups(2, nil)
	e.groups(1, func(g *qunyun.Group) { g.ID, g.AccountID, g.OwnerID = "g-relay", "relay", "" }) // not WeCom: never read
	for _, g := range groups {
		e.sbx.PutChat(sandbox.Chat{ID: g.ID, Name: g.Name + "（微信）", Owner: g.OwnerID, Members: []sandbox.ChatMember{{UserID: g.OwnerID, Type: 1}}})
	}
	for m := local(2026, 11, 23, 2, 50); !m.After(local(2026, 11, 23, 6, 30)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	if n := len(e.sbx.Calls(pathGroupChat)); n != 2 {
		t.Fatalf("%d groupchat/get calls in the night, want one a group", n)
	}
	for _, g := range groups {
		if got := e.group(g.ID); got.Name != g.Name+"（微信）" || got.SyncedAt.In(shanghai).Hour() != 3 {
			t.Errorf("%s after the night: %q synced %s", g.ID, got.Name, got.SyncedAt.In(shanghai))
		}
	}
	for m := local(2026, 11, 24, 2, 58); !m.After(local(2026, 11, 24, 3, 5)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	if n := len(e.sbx.Calls(pathGroupChat)); n != 4 {
		t.Errorf("%d calls after the second night began, want 4", n)
	}
}
