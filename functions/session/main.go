// Command session is SessionFunction: host sessions (the minute tick, the
// QuestionAsked/DeliveryFinished bus events and the host's page). It only
// wires; the code is internal/session. The word-segmentation dictionaries
// load on the first recap, not at start-up: most ticks never need them.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/lambdainit"
	"github.com/qunyun/qunyun/internal/segment"
	"github.com/qunyun/qunyun/internal/session"
)

func main() {
	ctx := context.Background()
	base := lambdainit.Setup(ctx)
	// In AWS the API's URL comes from an SSM parameter the stack writes: the
	// function serves a route of that API, so naming the API in its own
	// environment would be a circular dependency (template.yaml).
	publicBase := base.Env.Optional("PUBLIC_BASE_URL", "")
	if name := base.Env.Optional("PUBLIC_BASE_URL_PARAMETER", ""); publicBase == "" && name != "" {
		p, err := base.Parameters.GetParameter(ctx, name) // sessions still run without it: no page link
		if err != nil {
			slog.Error("public base URL not loaded; reminders carry no page link", "parameter", name, "error", err.Error())
		} else {
			publicBase = p.Value
		}
	}
	lambdainit.Check(base.Env.Err())
	svc := &session.Service{Sessions: dynamo.Sessions{Table: base.Table}, Catalog: dynamo.Catalog{Table: base.Table}, Bus: base.Bus, Clock: base.Clock, Segmenter: segment.Shared, PublicBaseURL: publicBase}
	lambda.Start(svc.Invoke)
}
