package lambdainit

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/config"
	"github.com/qunyun/qunyun/internal/dynamo"
)

// Base is what every function wires the same way: its environment, the
// clock, the AWS configuration (which honours AWS_ENDPOINT_URL_DYNAMODB and
// AWS_ENDPOINT_URL_EVENTBRIDGE by itself), the table and the bus.
type Base struct {
	Env   *config.Env
	Clock clock.Clock
	AWS   aws.Config
	Table *dynamo.Table
	Bus   *bus.Publisher
}

// Setup installs the JSON logger and builds Base from the process
// environment. It calls Fail on errors it can see now; a missing variable is
// recorded in Env, so main reads its own variables and then checks Env.Err()
// once for all of them.
func Setup(ctx context.Context) Base {
	slog.SetDefault(lambdacontext.NewLogger())
	env := config.FromOS()
	clk, err := clock.FromEnv(env.Getenv)
	if err != nil {
		Fail(err)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		Fail(err)
	}
	return Base{
		Env:   env,
		Clock: clk,
		AWS:   cfg,
		Table: &dynamo.Table{DB: dynamodb.NewFromConfig(cfg), Name: env.Required("TABLE_NAME"), Now: clk.Now},
		Bus:   &bus.Publisher{Client: eventbridge.NewFromConfig(cfg), BusName: env.Required("EVENT_BUS_NAME")},
	}
}
