// Command push is PushFunction: every outbound message (the minute tick and
// the bus's delivery requests). It only wires; the code is internal/push.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

func main() {
	base := lambdainit.Setup(context.Background())
	env, clk, table := base.Env, base.Clock, base.Table
	m := base.Metrics() // the alarms on DeliveryUnknown and EgressIpRejected name Stage only
	client := &wechatapi.Client{
		OABase:    env.Optional("WECHAT_API_BASE", "https://api.weixin.qq.com"),
		WeComBase: env.Optional("WECOM_API_BASE", "https://qyapi.weixin.qq.com"),
		Tokens:    &wechatapi.Tokens{Store: dynamo.Tokens{Table: table}, Now: clk.Now, IPAlerts: &wechatapi.IPAlerts{EgressIP: env.Optional("EGRESS_IP", ""), Metrics: m}},
		Limits:    &wechatapi.Limits{},
		Now:       clk.Now,
	}
	svc := &push.Service{
		Store: push.Stores{Catalog: dynamo.Catalog{Table: table}, Deliveries: dynamo.Deliveries{Table: table}, Log: dynamo.Log{Table: table},
			Links: dynamo.Links{Table: table}, Moderation: dynamo.Moderation{Table: table}, Membership: dynamo.Membership{Table: table}},
		Accounts: lambdainit.Must(accounts.FromEnv(env.Getenv, base.Parameters)),
		Channels: push.NewChannels(client), Tasks: client, GroupChats: client, Bus: base.Bus, Metrics: m, Clock: clk,
		PublicBaseURL: env.Required("PUBLIC_BASE_URL"), Log: slog.Default(),
	}
	lambdainit.Check(env.Err())
	lambda.Start(svc.Invoke)
}
