// Command scoring is ScoringFunction: it wires the table, the bus and the
// clock into internal/scoring and starts the Lambda handler (the nightly
// schedule and the ScoringShardRequested events it fans out to itself).
// Everything else lives in internal/scoring, so tests, the CLI and the
// local stack run the same code.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/config"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/scoring"
	"github.com/qunyun/qunyun/internal/segment"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	ctx := context.Background()
	env := config.FromOS()
	clk, err := clock.FromEnv(env.Getenv)
	if err != nil {
		lambdainit.Fail(err)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		lambdainit.Fail(err)
	}
	table := &dynamo.Table{DB: dynamodb.NewFromConfig(cfg), Name: env.Required("TABLE_NAME"), Now: clk.Now}
	pub := &bus.Publisher{Client: eventbridge.NewFromConfig(cfg), BusName: env.Required("EVENT_BUS_NAME")}
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	seg, err := segment.Shared()
	if err != nil {
		lambdainit.Fail(err)
	}
	scorer, err := scoring.New(seg)
	if err != nil {
		lambdainit.Fail(err)
	}
	h := &scoring.Handler{Night: &scoring.Night{Store: table, Bus: pub, Scorer: scorer, Now: clk.Now}}
	lambda.Start(h.Handle)
}
