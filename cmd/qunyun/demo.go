package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/host"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate"
)

// The demo life of `make run`: once the stack is up, apply the demo
// community (with a plan due in two minutes and a host session opening in
// three) and, unless --no-demo, let a few members chat in real time.

// noDemo is `qunyun local up --no-demo` (QUNYUN_NO_DEMO).
var noDemo bool

// demoEvery is the pace of the demo chat: light, a message every few seconds.
const demoEvery = 4 * time.Second

// demoLink is the tracked link events/callback-link-open.json opens, so
// that sample redirects on the demo stack as a link from a push would.
var demoLink = qunyun.Link{Code: "demo-link-1", URL: "https://example.com/articles/winter-soup",
	GroupID: "g-shelf", ContentID: "c-weekly-article", Source: "p-weekly-shelf"}

func demoHook(ctx context.Context, st *local.Stack) error {
	e := st.Endpoints()
	root, err := host.FindRoot(".")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	file := filepath.Join(root, "infra", "local", "community.yaml")
	base, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	now := st.Clock().Now()
	c, err := simulate.DemoCommunity(base, file, now)
	if err != nil {
		return err
	}
	table := &dynamo.Table{DB: dynamodb.New(dynamodb.Options{
		Region: local.Region, BaseEndpoint: aws.String(e.DynamoDB),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}), Name: e.TableName, Now: st.Clock().Now}
	d, err := community.Compute(ctx, table, c, false)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := d.Apply(ctx, table, nil); err != nil {
		return fmt.Errorf("demo: apply %s: %w", file, err)
	}
	if err := (dynamo.Links{Table: table}).PutLink(ctx, demoLink); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := promoteDemoLeader(ctx, table, now); err != nil {
		return err
	}
	loc := qunyun.LoadLocation("")
	soon := now.In(loc).Truncate(time.Minute)
	fmt.Printf(`demo: applied %s (%d created, %d changed) with a demo push at %s and a host session at %s
`, file, d.Count(community.Create), d.Count(community.Update), soon.Add(2*time.Minute).Format("15:04"), soon.Add(3*time.Minute).Format("15:04"))
	if noDemo {
		fmt.Println("demo: --no-demo: no simulated members")
		return nil
	}
	dir, err := accounts.LoadFile(e.Accounts)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	accts, err := dir.All(ctx)
	if err != nil {
		return err
	}
	groups := make([]qunyun.Group, 0, len(c.Groups))
	for _, g := range c.Groups {
		groups = append(groups, g.Group)
	}
	seed := uint64(now.Unix())
	world, err := simulate.NewWorld(rand.New(rand.NewPCG(seed, 0)), groups, simulate.HostMembers(c.Hosts), simulate.NewAccounts(accts), 12)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	hosts := map[string]string{}
	for _, h := range c.Hosts {
		hosts[h.ID] = h.MemberID
	}
	sim := &simulate.Simulation{
		Stack: simulate.Stack{Gateway: e.Gateway, Table: table, Clock: st.Clock()},
		World: world, Seed: seed, Hosts: hosts, Log: slog.Default(),
	}
	fmt.Printf("demo: %d members chat in %d groups, about one message every %v; watch %s/_local/sandbox/calls (--no-demo turns this off)\n",
		world.MemberCount(), len(world.Groups), demoEvery, e.Gateway)
	go func() {
		if err := sim.Live(ctx, demoEvery); err != nil {
			slog.Error("demo: the demo simulation stopped", "err", err)
		}
	}()
	for _, a := range accts {
		if a.Kind == qunyun.ChannelRelay {
			if err := showcase(ctx, e.Gateway, a, st.Clock()); err != nil {
				slog.Error("demo: showcase", "err", err)
			}
			break
		}
	}
	return nil
}
