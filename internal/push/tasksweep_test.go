package push_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// A tick reads only the open tasks due for polling, yet a task whose
// deadline falls between its polls is withdrawn at the deadline's minute,
// not at its next poll: the container remembers it from its last read.
// Each task is still polled once every ten minutes.
func TestTaskEndsAtItsDeadlineBetweenPolls(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 11, 0))
	e.groups(3, noQuietHours)
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "本周好物"})
	var ds []qunyun.Delivery
	for i, gid := range []string{"g000", "g001", "g002"} {
		r := qunyun.DeliveryRequest{ID: "task-" + gid, Source: "p", TargetKind: qunyun.TargetGroup, TargetID: gid, ContentID: "c",
			Deadline: e.clk.Now().Add(time.Duration(13+i) * time.Minute)}
		if err := e.request(r); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, e.stateOf(r).Delivery)
	}
	for m := local(2026, 11, 23, 11, 1); !m.After(local(2026, 11, 23, 11, 15)); m = m.Add(time.Minute) {
		e.minute(m)
		for i, d := range ds {
			got, _, err := dynamo.Deliveries{Table: e.tb}.GetDelivery(e.ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			open := m.Before(d.Deadline)
			if open != (got.State == qunyun.DeliveryTaskCreated) || (!open && got.State != qunyun.DeliveryExpired) {
				t.Fatalf("task %d (deadline %s) at %s: %s, want open=%v", i, d.Deadline.In(shanghai).Format("15:04"), m.In(shanghai).Format("15:04"), got.State, open)
			}
		}
	}
	if polls := len(e.sbx.Calls("/cgi-bin/externalcontact/get_groupmsg_send_result")); polls < 3 {
		t.Fatalf("%d polls of 3 tasks in their first ten minutes", polls)
	}
}
