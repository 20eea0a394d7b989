package push_test

import (
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
)

// pushStores are the dynamo stores over t, as functions/push/main.go wires them.
func pushStores(t *dynamo.Table) push.Stores {
	return push.Stores{Catalog: dynamo.Catalog{Table: t}, Deliveries: dynamo.Deliveries{Table: t}, Log: dynamo.Log{Table: t},
		Links: dynamo.Links{Table: t}, Moderation: dynamo.Moderation{Table: t}, Membership: dynamo.Membership{Table: t}}
}
