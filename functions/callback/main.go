// Command callback is CallbackFunction: it wires the table, the bus, the
// accounts and the clock into internal/callback and starts the Lambda
// handler (HTTP callbacks, and the schedule that resumes unfinished work).
// Everything else lives in internal/callback, so tests, the CLI and the
// local stack run the same code.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/metrics"
)

func main() {
	ctx := context.Background()
	base := lambdainit.Setup(ctx)
	env, clk, table, pub := base.Env, base.Clock, base.Table, base.Bus
	stage := env.Getenv("STAGE")
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	dir, err := accounts.FromEnv(env.Getenv, base.Parameters)
	if err != nil {
		lambdainit.Fail(err)
	}
	// Load the accounts now, not on the first callback: WeCom gives URL
	// verification one second. A failure here is retried on first use.
	if _, err := dir.All(ctx); err != nil {
		slog.Warn("accounts not loaded at start", "error", err.Error())
	}
	svc, err := callback.NewService(table, pub, clk.Now, slog.Default())
	if err != nil {
		lambdainit.Fail(err)
	}
	m := metrics.New(map[string]string{"Stage": stage, "Function": "callback"})
	svc.Metrics = m
	h := callback.NewHandler(dir, svc, slog.Default())
	h.Metrics = m
	h.VerifyCode = env.Optional("WECOM_VERIFY_CODE", "")
	// The HttpApi routes and the resume schedule (template.yaml).
	lambda.Start(h.Invoke)
}
