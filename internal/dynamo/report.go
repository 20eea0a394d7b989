package dynamo

import (
	"context"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Reads for the daily report and the operator's `get`: they span the
// areas' keys (deliveries, opens, contents) but write nothing.

// DeliveriesBetween lists every delivery due in [from, to), whatever its
// target kind or state. Deliveries are keyed by the UTC date they are due
// on, so a local day reads the one or two UTC dates it overlaps.
func (t *Table) DeliveriesBetween(ctx context.Context, from, to time.Time) ([]qunyun.Delivery, error) {
	var out []qunyun.Delivery
	for _, date := range utcDates(from, to) {
		items, err := t.DayDeliveries(ctx, date, "")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if !it.At.Before(from) && it.At.Before(to) {
				out = append(out, it.Delivery)
			}
		}
	}
	return out, nil
}

// utcDates lists the UTC dates (YYYY-MM-DD) that [from, to) overlaps.
func utcDates(from, to time.Time) []string {
	var dates []string
	day := from.UTC().Truncate(24 * time.Hour)
	for ; day.Before(to); day = day.AddDate(0, 0, 1) {
		dates = append(dates, day.Format(time.DateOnly))
	}
	return dates
}
