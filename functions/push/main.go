// Command push is PushFunction: it wires the table, the bus, the accounts,
// the WeChat/WeCom clients and the clock into internal/push and starts the
// Lambda handler (the minute tick and the bus requests). Everything else
// lives in internal/push, so tests, the CLI and the local stack run the
// same code.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/config"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/wechatapi"
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
	publicBase := env.Required("PUBLIC_BASE_URL")
	client := &wechatapi.Client{
		OABase:    env.Optional("WECHAT_API_BASE", "https://api.weixin.qq.com"),
		WeComBase: env.Optional("WECOM_API_BASE", "https://qyapi.weixin.qq.com"),
		Tokens:    &wechatapi.Tokens{Store: table, Now: clk.Now},
		Limits:    &wechatapi.Limits{},
		Now:       clk.Now,
	}
	// The alarm on DeliveryUnknown (template.yaml) has the Stage dimension only.
	emitter := metrics.New(map[string]string{"Stage": env.Optional("STAGE", "dev")})
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	dir, err := accounts.FromEnv(env.Getenv, ssm.NewFromConfig(cfg))
	if err != nil {
		lambdainit.Fail(err)
	}
	svc := &push.Service{
		Table: table, Accounts: dir, Channels: push.NewChannels(client), Tasks: client, Bus: pub,
		Metrics: emitter, Clock: clk, PublicBaseURL: publicBase, Log: slog.Default(),
	}
	lambda.Start(svc.Invoke)
}
