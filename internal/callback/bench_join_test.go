package callback_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// BenchmarkJoinDynamo sends relay joins through the handler against dynalite
// and reports DynamoDB requests and consumed capacity per join. Each of 20
// groups already has 50 members (the design's group size), so the recount
// of the member count reads about 50 member items.
func BenchmarkJoinDynamo(b *testing.B) {
	var db *capacityDB
	f := newFixture(b, func(api dynamo.API) dynamo.API { db = &capacityDB{API: api}; return db })
	ctx := context.Background()
	start := f.clock.Now().Add(-24 * time.Hour)
	for g := range 20 {
		for m := range 50 {
			if err := (dynamo.Catalog{Table: f.table}).PutMember(ctx, qunyun.Member{GroupID: fmt.Sprint("g", g), ID: fmt.Sprintf("old%d", m),
				Name: "老成员", Role: qunyun.RoleMember, JoinedAt: start}); err != nil {
				b.Fatal(err)
			}
		}
	}
	db.requests.Store(0)
	db.wcu, db.rcu = 0, 0
	joins := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.clock.Advance(100 * time.Millisecond)
		body := relayJoin(fmt.Sprintf("bj-%d", i), fmt.Sprintf("g%d", i%20), fmt.Sprintf("new%d", i), f.clock.Now())
		if r := f.relay(body); r.StatusCode != 200 {
			b.Fatalf("%d %q", r.StatusCode, r.Body)
		}
		joins++
	}
	b.StopTimer()
	b.ReportMetric(float64(db.requests.Load())/float64(joins), "requests/join")
	b.ReportMetric(db.wcu/float64(joins), "WCU/join")
	b.ReportMetric(db.rcu/float64(joins), "RCU/join")
}
