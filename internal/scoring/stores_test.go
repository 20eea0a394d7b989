package scoring_test

import (
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/scoring"
)

// scoringStores are the dynamo stores over t, as functions/scoring/main.go wires them.
func scoringStores(t *dynamo.Table) scoring.Stores {
	return scoring.Stores{Catalog: dynamo.Catalog{Table: t}, Log: dynamo.Log{Table: t}, Deliveries: dynamo.Deliveries{Table: t},
		Links: dynamo.Links{Table: t}, Sessions: dynamo.Sessions{Table: t}, Scores: dynamo.Scores{Table: t},
		Moderation: dynamo.Moderation{Table: t}, Membership: dynamo.Membership{Table: t}}
}
