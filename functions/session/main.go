// Command session is SessionFunction: it wires the table, the bus and the
// clock into internal/session and starts the Lambda handler (the minute
// tick, the QuestionAsked/DeliveryFinished bus events and the host's page,
// GET /sessions/{id}). Everything else lives in internal/session, so
// tests, the CLI and the local stack run the same code. The
// word-segmentation dictionaries load on the first recap, not at start-up:
// most ticks never need them.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/segment"
	"github.com/qunyun/qunyun/internal/session"
)

func main() {
	ctx := context.Background()
	base := lambdainit.Setup(ctx)
	env, clk, table, pub := base.Env, base.Clock, base.Table, base.Bus
	publicBase := env.Optional("PUBLIC_BASE_URL", "")
	publicBaseParam := env.Optional("PUBLIC_BASE_URL_PARAMETER", "")
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	// In AWS the API's URL comes from an SSM parameter the stack writes: the
	// function serves a route of that API, so naming the API in its own
	// environment would be a circular dependency (template.yaml).
	if publicBase == "" && publicBaseParam != "" {
		p, err := base.Parameters.GetParameter(ctx, publicBaseParam)
		if err != nil {
			// Sessions must still run: reminders go out without the link.
			slog.Error("public base URL not loaded; reminders carry no page link", "parameter", publicBaseParam, "error", err.Error())
		} else {
			publicBase = p.Value
		}
	}
	svc := &session.Service{Store: table, Bus: pub, Clock: clk, Segmenter: segment.Shared, PublicBaseURL: publicBase}
	lambda.Start(svc.Invoke)
}
