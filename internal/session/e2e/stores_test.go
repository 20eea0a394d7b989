package e2e_test

import (
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
)

// callbackStores are the dynamo stores over t, as functions/callback/main.go wires them.
func callbackStores(t *dynamo.Table) callback.Stores {
	return callback.Stores{Log: dynamo.Log{Table: t}, Followups: dynamo.Followups{Table: t}, Sessions: dynamo.Sessions{Table: t},
		Catalog: dynamo.Catalog{Table: t}, Membership: dynamo.Membership{Table: t}, Links: dynamo.Links{Table: t}, Texts: dynamo.Texts{Table: t}}
}
