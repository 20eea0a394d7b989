package push_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// countingDB counts the DynamoDB requests the service makes.
type countingDB struct {
	dynamo.API
	n atomic.Int64
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.n.Add(1)
	return c.API.GetItem(ctx, in, o...)
}
func (c *countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.n.Add(1)
	return c.API.PutItem(ctx, in, o...)
}
func (c *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.n.Add(1)
	return c.API.UpdateItem(ctx, in, o...)
}
func (c *countingDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.n.Add(1)
	return c.API.DeleteItem(ctx, in, o...)
}
func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.n.Add(1)
	return c.API.Query(ctx, in, o...)
}

// manyGroups writes n groups in parallel (setup, not measured).
func manyGroups(b *testing.B, e *env, n int, mutate func(g *qunyun.Group)) {
	b.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var failed atomic.Value
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			g := qunyun.Group{ID: fmt.Sprintf("g%05d", i), AccountID: wecom.ID, Name: fmt.Sprintf("社群%05d", i), OwnerID: fmt.Sprintf("o%05d", i), TimeZone: "Asia/Shanghai", MemberCount: 40}
			if mutate != nil {
				mutate(&g)
			}
			if err := (dynamo.Catalog{Table: e.tb}).PutGroup(e.ctx, g); err != nil {
				failed.Store(err)
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPlanAndClaim10000Groups: one slot of a plan for 10,000 groups,
// expanded and claimed against dynalite (target: within 60 s).
func BenchmarkPlanAndClaim10000Groups(b *testing.B) {
	const groups = 10000
	e := newEnv(b, local(2026, 11, 23, 11, 0))
	manyGroups(b, e, groups, nil)
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "hi"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "* * * * ? *"})
	e.svc.Workers = 64
	b.ResetTimer()
	start := time.Now() // wallclock: benchmark timing
	total := 0
	for i := 0; b.Loop(); i++ {
		n, err := push.PlanAndClaim(e.ctx, e.svc, local(2026, 11, 23, 11, i))
		if err != nil {
			b.Fatal(err)
		}
		if n != groups {
			b.Fatalf("claimed %d, want %d", n, groups)
		}
		total += n
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/slot")
}

// BenchmarkTickRequestsPerDelivery: a full tick (claim, policies, send
// through the sandbox, confirm) and the DynamoDB requests it takes per
// delivery, for internal groups (appchat) and customer groups (tasks,
// which also reserve the monthly counter).
func BenchmarkTickRequestsPerDelivery(b *testing.B) {
	for _, kind := range []string{"appchat", "customer-group"} {
		b.Run(kind, func(b *testing.B) {
			const groups = 500
			e := newEnv(b, local(2026, 11, 23, 11, 0))
			manyGroups(b, e, groups, func(g *qunyun.Group) {
				if kind == "appchat" {
					g.Tags = []string{qunyun.TagInternal}
				}
				g.Caps.DailyMax = 100000
			})
			e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "{{.Group.Name}} 你好"})
			e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "* * * * ? *"})
			db := &countingDB{API: e.tb.DB}
			e.tb.DB = db
			e.svc.Workers = 64
			deliveries := 0
			start := time.Now() // wallclock: benchmark timing
			for i := 0; b.Loop(); i++ {
				m := local(2026, 11, 23, 11, i)
				e.clk.Set(m)
				rep, err := e.svc.Tick(e.ctx, m)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Sent+rep.Tasks != groups {
					b.Fatalf("tick %d: sent %d tasks %d, want %d", i, rep.Sent, rep.Tasks, groups)
				}
				deliveries += rep.Deliveries
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(db.n.Load())/float64(deliveries), "ddb-requests/delivery")
			b.ReportMetric(float64(deliveries)/elapsed.Seconds(), "deliveries/s")
		})
	}
}
