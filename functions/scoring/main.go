// Command scoring is ScoringFunction: it wires the table, the bus, the
// accounts, the OA comment API and the clock into internal/scoring and
// internal/contest and starts the Lambda handler (the nightly
// schedule and the ScoringShardRequested events it fans out to itself).
// Everything else lives in internal/scoring, so tests, the CLI and the
// local stack run the same code.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/contest"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/scoring"
	"github.com/qunyun/qunyun/internal/segment"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

func main() {
	ctx := context.Background()
	base := lambdainit.Setup(ctx)
	env, clk, table, pub := base.Env, base.Clock, base.Table, base.Bus
	apiBase := env.Optional("WECHAT_API_BASE", "https://api.weixin.qq.com")
	// An OA's token fetch for the contests is refused (40164) when the
	// stack's egress IP is not allow-listed: the alarm has Stage only.
	alerts := &wechatapi.IPAlerts{
		EgressIP: env.Optional("EGRESS_IP", ""),
		Metrics:  metrics.New(map[string]string{"Stage": env.Optional("STAGE", "dev")}),
	}
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	// The word-segmentation dictionaries load when the first group is
	// scored, not here: most hourly runs score none, and loading them at
	// init took a second (the 10 s init timeout under load).
	scorer, err := scoring.NewLoading(func() (scoring.Segmenter, error) { return segment.Shared() })
	if err != nil {
		lambdainit.Fail(err)
	}
	dir, err := accounts.FromEnv(env.Getenv, base.Parameters)
	if err != nil {
		lambdainit.Fail(err)
	}
	tokens := &wechatapi.Tokens{Store: table, Now: clk.Now, IPAlerts: alerts}
	comments := func(accountID string) (contest.Comments, error) {
		a, err := dir.Account(ctx, accountID)
		if err != nil {
			return nil, err
		}
		return &contest.OAComments{Base: apiBase, Token: contest.StableToken(tokens, nil, apiBase, a)}, nil
	}
	contests, err := contest.New(table, comments, pub, clk.Now)
	if err != nil {
		lambdainit.Fail(err)
	}
	contests.Staff = dynamo.People{Table: table}.Staff
	h := &scoring.Handler{Night: &scoring.Night{Store: table, Bus: pub, Scorer: scorer, Now: clk.Now}, Contests: contests}
	lambda.Start(h.Handle)
}
