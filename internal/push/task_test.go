package push_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

const (
	remindPath = "/cgi-bin/externalcontact/remind_groupmsg_send"
	cancelPath = "/cgi-bin/externalcontact/cancel_groupmsg_send"
)

// taskEnv has one customer group with one task asked for at 11:00.
func taskEnv(t *testing.T, mutate func(g *qunyun.Group)) (*env, qunyun.Delivery) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(1, mutate)
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentLink, Title: "本周好物", URL: "https://shop.example.com/item/1", Text: "点开看看"})
	return e, e.longTask()
}

// longTask asks for one task to g000 now, with a deadline beyond the
// sweep's reach: what ends it is TaskExpiry, its follow edge or quiet
// hours, the machinery these tests are about. (A plan slot's deadline is
// the end of its local day.)
func (e *env) longTask() qunyun.Delivery {
	e.t.Helper()
	r := qunyun.DeliveryRequest{ID: "task-" + e.clk.Now().Format("0102-1504"), Source: "p", TargetKind: qunyun.TargetGroup,
		TargetID: "g000", ContentID: "c", Deadline: e.clk.Now().Add(72 * time.Hour)}
	if err := e.request(r); err != nil {
		e.t.Fatal(err)
	}
	d := e.stateOf(r).Delivery
	if d.State != qunyun.DeliveryTaskCreated {
		e.t.Fatalf("%s/%s, want a task", d.State, d.Reason)
	}
	return d
}

// The owner confirms in WeCom: the next poll moves the task to sent.
func TestOwnerConfirmationMovesTaskToSent(t *testing.T) {
	e, d := taskEnv(t, nil)
	if d.State != qunyun.DeliveryTaskCreated {
		t.Fatalf("state %s, want task_created", d.State)
	}
	if !e.sbx.Confirm(d.TaskID) {
		t.Fatalf("sandbox has no task %s", d.TaskID)
	}
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 10)); m = m.Add(time.Minute) {
		e.tick(m)
	}
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliverySent {
		t.Fatalf("after confirmation: %s %v, want sent", got.State, err)
	}
	if polls := len(e.sbx.Calls("/cgi-bin/externalcontact/get_groupmsg_send_result")); polls != 1 {
		t.Fatalf("%d polls in ten minutes, want 1 (each task is polled every ten minutes)", polls)
	}
	fin := e.bus.of(qunyun.EventDeliveryFinished)
	if len(fin) != 1 || fin[0].Detail.(qunyun.DeliveryFinished).State != qunyun.DeliverySent {
		t.Fatalf("DeliveryFinished = %+v", fin)
	}
}

// Unconfirmed: reminded at most 3 times in 24 h, then expired and cancelled,
// and a late confirmation no longer counts. (This group has no quiet hours,
// so the task lives its full 24 h.)
func TestUnconfirmedTaskRemindedThriceThenExpires(t *testing.T) {
	e, d := taskEnv(t, func(g *qunyun.Group) { g.Caps = qunyun.Caps{QuietStart: "00:00", QuietEnd: "00:00"} })
	for m := local(2026, 11, 23, 11, 30); !m.After(local(2026, 11, 24, 13, 0)); m = m.Add(30 * time.Minute) {
		e.tick(m)
	}
	reminds := e.sbx.Calls(remindPath)
	if len(reminds) != 3 {
		t.Fatalf("%d reminders, want 3", len(reminds))
	}
	for _, r := range reminds {
		if r.ErrCode != 0 || r.At.Sub(d.At) >= 24*time.Hour {
			t.Fatalf("reminder at %s errcode %d: want 3 accepted reminders within 24 h", r.At.In(shanghai), r.ErrCode)
		}
	}
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryExpired || got.Reminders != 3 {
		t.Fatalf("after 26 h: state %s reminders %d %v, want expired after 3", got.State, got.Reminders, err)
	}
	if len(e.sbx.Calls(cancelPath)) != 1 || e.sbx.Confirm(d.TaskID) {
		t.Fatal("expired task was not cancelled in WeCom")
	}
	// The month's task counter was given back: the platform did not count it.
	if n := e.sendsTo(addMsgTemplate, "g000"); n != 1 {
		t.Fatalf("%d tasks, want 1", n)
	}
}

// With the default quiet hours, an unconfirmed task is withdrawn when they
// begin (22:00), so the owner cannot post it at night; no reminder goes out
// in quiet hours.
func TestUnconfirmedTaskWithdrawnAtQuietHours(t *testing.T) {
	e, d := taskEnv(t, nil)
	for m := local(2026, 11, 23, 11, 10); !m.After(local(2026, 11, 23, 22, 30)); m = m.Add(10 * time.Minute) {
		e.tick(m)
	}
	// Withdrawn, and since its deadline is later, deferred until the
	// quiet hours end.
	got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryClaimed || got.Reason != qunyun.ReasonQuietHours || !got.DeferredUntil.Equal(local(2026, 11, 24, 8, 0)) {
		t.Fatalf("at 22:30: %s/%s until %s %v, want claimed/quiet_hours until 08:00", got.State, got.Reason, got.DeferredUntil, err)
	}
	if len(e.sbx.Calls(cancelPath)) != 1 || e.sbx.Confirm(d.TaskID) {
		t.Fatal("the task was not cancelled in WeCom")
	}
	for _, r := range e.sbx.Calls(remindPath) {
		if push.InQuietHours(r.At.In(shanghai), qunyun.Group{}.EffectiveCaps()) {
			t.Fatalf("reminder at %s, in quiet hours", r.At.In(shanghai))
		}
	}
	if n := len(e.sbx.Calls(remindPath)); n != 3 {
		t.Fatalf("%d reminders before 22:00, want 3 (13:00, 15:00, 17:00)", n)
	}
	if n := monthCount(t, e); n != 0 {
		t.Fatalf("month counter = %d overnight, want the withdrawn task's back", n)
	}
	// The morning makes a new task, which the owner can confirm.
	e.ticksUntil(local(2026, 11, 23, 22, 40), local(2026, 11, 24, 8, 0), 20*time.Minute)
	e.minute(local(2026, 11, 24, 8, 1))
	got, _, err = dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
	if err != nil || got.State != qunyun.DeliveryTaskCreated || got.TaskID == d.TaskID || !e.sbx.Confirm(got.TaskID) {
		t.Fatalf("after 08:00: %s/%s task %s %v, want a new task", got.State, got.Reason, got.TaskID, err)
	}
	if n := len(e.sbx.Calls(addMsgTemplate)); n != 2 {
		t.Fatalf("%d tasks made, want 2 (the evening's, withdrawn, and the morning's)", n)
	}
	if n := monthCount(t, e); n != 1 {
		t.Fatalf("month counter = %d, want 1", n)
	}
}
