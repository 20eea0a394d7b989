// Command callback is CallbackFunction: every WeChat, WeCom, bot and bridge
// callback (the HttpApi routes) and the schedule that resumes unfinished
// work. It only wires; the code is internal/callback.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/lambdainit"
)

func main() {
	ctx := context.Background()
	base := lambdainit.Setup(ctx)
	env := base.Env
	dir := lambdainit.Must(accounts.FromEnv(env.Getenv, base.Parameters))
	// Load the accounts now, not on the first callback: WeCom gives URL
	// verification one second. A failure here is retried on first use.
	if _, err := dir.All(ctx); err != nil {
		slog.Warn("accounts not loaded at start", "error", err.Error())
	}
	m := base.Metrics("Function", "callback")
	t := base.Table
	stores := callback.Stores{Log: dynamo.Log{Table: t}, Followups: dynamo.Followups{Table: t}, Sessions: dynamo.Sessions{Table: t},
		Catalog: dynamo.Catalog{Table: t}, Membership: dynamo.Membership{Table: t}, Links: dynamo.Links{Table: t}, Texts: dynamo.Texts{Table: t}}
	svc := lambdainit.Must(callback.NewService(stores, base.Bus, base.Clock.Now, m, slog.Default()))
	svc.Moderation, svc.Contributions, svc.Staff = dynamo.Moderation{Table: t}, dynamo.Contributions{Table: t}, dynamo.People{Table: t}.Staff
	h := callback.NewHandler(dir, svc, slog.Default())
	h.VerifyCode = env.Optional("WECOM_VERIFY_CODE", "")
	lambdainit.Check(env.Err())
	lambda.Start(h.Invoke)
}
