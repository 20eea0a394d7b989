package dynamo

import (
	"context"
	"strconv"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Announcements owed to the bus (docs/data-model.md "Delivery"). A delivery
// reaches its final state and then publishes DeliveryFinished; the final
// write sets Delivery.AnnouncePending and a successful publish clears it.
// While it is set, the GSI2 sort key is "unannounced#<state>#<target>", so
// one Query per date finds what a failed or crashed publish left behind
// without reading the day's other deliveries; DayDeliveries by state reads
// that prefix too.

const unannounced = "unannounced#"

// deliveryStateKey is the state part of a delivery's GSI2 sort key. An
// open WeCom task has its poll minute in it too (task_created#<0–9>#), so
// a tick reads only the tasks due for polling (OpenTasks).
func deliveryStateKey(d qunyun.Delivery) string {
	switch {
	case d.AnnouncePending:
		return unannounced + string(d.State) + "#"
	case d.State == qunyun.DeliveryTaskCreated:
		return openTasksPrefix(qunyun.TaskPollMinute(d.ID))
	}
	return string(d.State) + "#"
}

func openTasksPrefix(minute int) string {
	return string(qunyun.DeliveryTaskCreated) + "#" + strconv.Itoa(minute) + "#"
}

// OpenTasks lists a UTC date's open WeCom tasks (task_created) whose poll
// minute (qunyun.TaskPollMinute) is minute: what a tick at that minute of
// ten polls. A task stored before tasks had their minute in the key is
// only in DayDeliveries(date, task_created), which lists them all.
func (d Deliveries) OpenTasks(ctx context.Context, date string, minute int) ([]qunyun.DeliveryRecord, error) {
	return records(QueryInto[deliveryItem](ctx, d.Table, Query{Index: GSI2, PK: "DLV#D#" + date, SKPrefix: openTasksPrefix(minute)}))
}

// UnannouncedDeliveries lists the final deliveries of a UTC date whose
// DeliveryFinished is not known to be on the bus.
func (d Deliveries) UnannouncedDeliveries(ctx context.Context, date string) ([]qunyun.DeliveryRecord, error) {
	return records(QueryInto[deliveryItem](ctx, d.Table, Query{Index: GSI2, PK: "DLV#D#" + date, SKPrefix: unannounced}))
}
