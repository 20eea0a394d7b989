// Command hello is the cold-start baseline for BenchmarkColdStart: the
// smallest aws-lambda-go function, which answers every event with "hello".
// A function's cold start is reported as a multiple of this one's, measured
// in the same run on the same machine, so the ratio holds while the
// machine's speed and load vary.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "hello", nil })
}
