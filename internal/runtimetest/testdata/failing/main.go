// Command failing is a broken function for TestHarnessCatchesMisbehaviour:
// it reads its configuration properly but fails every event.
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/qunyun/qunyun/internal/config"
	"github.com/qunyun/qunyun/internal/lambdainit"
)

func main() {
	env := config.FromOS()
	env.Required("TABLE_NAME")
	if err := env.Err(); err != nil {
		lambdainit.Fail(err)
	}
	lambda.Start(func(ctx context.Context, event json.RawMessage) (any, error) {
		return nil, errors.New("this function fails every event")
	})
}
