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

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

func main() {
	ctx := context.Background()
	base := lambdainit.Setup(ctx)
	env, clk, table, pub := base.Env, base.Clock, base.Table, base.Bus
	publicBase := env.Required("PUBLIC_BASE_URL")
	// The alarms on DeliveryUnknown and EgressIpRejected (template.yaml)
	// have the Stage dimension only.
	emitter := metrics.New(map[string]string{"Stage": env.Optional("STAGE", "dev")})
	alerts := &wechatapi.IPAlerts{EgressIP: env.Optional("EGRESS_IP", ""), Metrics: emitter}
	client := &wechatapi.Client{
		OABase:    env.Optional("WECHAT_API_BASE", "https://api.weixin.qq.com"),
		WeComBase: env.Optional("WECOM_API_BASE", "https://qyapi.weixin.qq.com"),
		Tokens:    &wechatapi.Tokens{Store: table, Now: clk.Now, IPAlerts: alerts},
		Limits:    &wechatapi.Limits{},
		Now:       clk.Now,
	}
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	dir, err := accounts.FromEnv(env.Getenv, base.Parameters)
	if err != nil {
		lambdainit.Fail(err)
	}
	svc := &push.Service{
		Table: table, Accounts: dir, Channels: push.NewChannels(client), Tasks: client, Bus: pub,
		Metrics: emitter, Clock: clk, PublicBaseURL: publicBase, Log: slog.Default(),
	}
	lambda.Start(svc.Invoke)
}
