// Command session is SessionFunction: it wires the table, the bus and the
// clock into internal/session and starts the Lambda handler (the minute
// tick and the QuestionAsked/DeliveryFinished bus events). Everything else
// lives in internal/session, so tests, the CLI and the local stack run the
// same code. The word-segmentation dictionaries load on the first recap,
// not at start-up: most ticks never need them.
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
	"github.com/qunyun/qunyun/internal/segment"
	"github.com/qunyun/qunyun/internal/session"
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
	publicBase := env.Optional("PUBLIC_BASE_URL", "")
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	svc := &session.Service{Store: table, Bus: pub, Clock: clk, Segmenter: segment.Shared, PublicBaseURL: publicBase}
	lambda.Start(svc.Handle)
}
