// Command scoring is ScoringFunction: the nightly scores, tags, contests
// and report (the schedule and the shards it fans out to itself). It only
// wires; the code is internal/scoring and internal/contest.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/contest"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/scoring"
	"github.com/qunyun/qunyun/internal/segment"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

func main() {
	ctx := context.Background()
	base := lambdainit.Setup(ctx)
	env, clk, table := base.Env, base.Clock, base.Table
	catalog, log, scores := dynamo.Catalog{Table: table}, dynamo.Log{Table: table}, dynamo.Scores{Table: table}
	// An OA's token fetch for the contests is refused (40164) when the
	// stack's egress IP is not allow-listed: the alarm has Stage only.
	tokens := &wechatapi.Tokens{Store: dynamo.Tokens{Table: table}, Now: clk.Now, IPAlerts: &wechatapi.IPAlerts{EgressIP: env.Optional("EGRESS_IP", ""), Metrics: base.Metrics()}}
	dir := lambdainit.Must(accounts.FromEnv(env.Getenv, base.Parameters))
	comments := contest.OACommentsOf(ctx, dir, tokens, env.Optional("WECHAT_API_BASE", "https://api.weixin.qq.com"))
	contests := lambdainit.Must(contest.New(contest.Stores{Catalog: catalog, Log: log, Scores: scores}, comments, base.Bus, clk.Now))
	contests.Staff = dynamo.People{Table: table}.Staff
	// The dictionaries load when the first group is scored, not here: most
	// hourly runs score none, and loading took a second of init.
	scorer := lambdainit.Must(scoring.NewLoading(func() (scoring.Segmenter, error) { return segment.Shared() }))
	stores := scoring.Stores{Catalog: catalog, Log: log, Deliveries: dynamo.Deliveries{Table: table}, Links: dynamo.Links{Table: table},
		Sessions: dynamo.Sessions{Table: table}, Scores: scores, Moderation: dynamo.Moderation{Table: table},
		Membership: dynamo.Membership{Table: table}}
	lambdainit.Check(env.Err())
	lambda.Start((&scoring.Handler{Night: &scoring.Night{Stores: stores, Bus: base.Bus, Scorer: scorer, Now: clk.Now}, Contests: contests}).Handle)
}
