package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Delivery request identity (docs/data-model.md "Delivery request"): one
// item per DeliveryRequest id, PK DLVREQ#<id>, SK #META, with no TTL. A
// request's delivery is keyed by the UTC date of its event's time, and a
// sender that re-publishes the request (a retried step, a replay from the
// dead-letter queue) gives it a new time; this item remembers the time the
// id was first keyed under, however late the copy comes.

// deliveryRequestItem is the identity of one DeliveryRequest.
type deliveryRequestItem struct {
	Keys
	ID         string            `dynamodbav:"id"`
	At         time.Time         `dynamodbav:"at"`
	TargetKind qunyun.TargetKind `dynamodbav:"targetKind"`
	TargetID   string            `dynamodbav:"target"`
	GroupID    string            `dynamodbav:"group,omitempty"`
}

func deliveryRequestKeys(id string) Keys {
	return Keys{PK: "DLVREQ#" + id, SK: "#META", Type: "DeliveryRequest"}
}

// RequestedDelivery records the delivery a new request id names (one
// conditional put), or returns the time its first copy was keyed under, so
// every copy claims the same delivery item. An id already used for another
// target is EINVALID: the sender reused an idempotency key.
func (ds Deliveries) RequestedDelivery(ctx context.Context, d qunyun.Delivery) (time.Time, error) {
	it := deliveryRequestItem{Keys: deliveryRequestKeys(d.ID), ID: d.ID, At: d.At.UTC(), TargetKind: d.TargetKind, TargetID: d.TargetID, GroupID: d.GroupID}
	created, err := ds.Table.PutNew(ctx, it)
	if err != nil {
		return time.Time{}, fmt.Errorf("record delivery request %s: %w", d.ID, err)
	}
	if created {
		return it.At, nil
	}
	var stored deliveryRequestItem
	found, err := ds.Table.Get(ctx, it.PK, it.SK, &stored)
	if err != nil {
		return time.Time{}, fmt.Errorf("read delivery request %s: %w", d.ID, err)
	}
	if !found { // deleted in between (by an operator): the copy is the request now
		return it.At, nil
	}
	if stored.TargetKind != it.TargetKind || stored.TargetID != it.TargetID || stored.GroupID != it.GroupID {
		return time.Time{}, qunyun.Errorf(qunyun.EINVALID, "DeliveryRequest %s: the id already names a delivery to %s %s (group %q); an id is one delivery",
			d.ID, stored.TargetKind, stored.TargetID, stored.GroupID)
	}
	return stored.At, nil
}
