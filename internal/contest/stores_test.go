package contest_test

import (
	"github.com/qunyun/qunyun/internal/contest"
	"github.com/qunyun/qunyun/internal/dynamo"
)

// contestStores are the dynamo stores over t, as functions/scoring/main.go wires them.
func contestStores(t *dynamo.Table) contest.Stores {
	return contest.Stores{Catalog: dynamo.Catalog{Table: t}, Log: dynamo.Log{Table: t}, Scores: dynamo.Scores{Table: t}}
}
