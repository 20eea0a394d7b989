// Command session is SessionFunction: it wires the table, the bus and the
// clock into internal/session and starts the Lambda handler (the minute
// tick and the QuestionAsked/DeliveryFinished bus events). Everything else
// lives in internal/session, so tests, the CLI and the local stack run the
// same code. The word-segmentation dictionaries load on the first recap,
// not at start-up: most ticks never need them.
package main

import (
	"context"

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
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	svc := &session.Service{Store: table, Bus: pub, Clock: clk, Segmenter: segment.Shared, PublicBaseURL: publicBase}
	lambda.Start(svc.Handle)
}
