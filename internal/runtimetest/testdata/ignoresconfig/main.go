// Command ignoresconfig is a broken function for
// TestHarnessCatchesMisbehaviour: it answers every event and never checks
// its configuration, so a missing TABLE_NAME goes unreported.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, event json.RawMessage) (any, error) {
		return map[string]string{"status": "ok"}, nil
	})
}
