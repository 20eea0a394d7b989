package dynamo

import (
	"context"

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

// deliveryStateKey is the state part of a delivery's GSI2 sort key.
func deliveryStateKey(d qunyun.Delivery) string {
	if d.AnnouncePending {
		return unannounced + string(d.State) + "#"
	}
	return string(d.State) + "#"
}

// UnannouncedDeliveries lists the final deliveries of a UTC date whose
// DeliveryFinished is not known to be on the bus.
func (d Deliveries) UnannouncedDeliveries(ctx context.Context, date string) ([]qunyun.DeliveryRecord, error) {
	return records(QueryInto[deliveryItem](ctx, d.Table, Query{Index: GSI2, PK: "DLV#D#" + date, SKPrefix: unannounced}))
}
