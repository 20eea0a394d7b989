// Command echo is a test-only Lambda function: it answers every event with
// the event itself, so tests can see exactly what a function received. A few
// keys that no real event carries make it misbehave on purpose:
//
//	{"echo:fail": "msg"}     returns an error (a function error)
//	{"echo:sleepMs": 2000}   sleeps first (to hit the timeout)
//	{"echo:exit": 3}         exits the process mid-invocation
//	{"echo:env": ["NAME"]}   answers with those environment variables
//
// ECHO_INIT_SLEEP_MS, in its environment, makes its init that slow; it
// writes "echo: starting" first.
// The keys also work inside an EventBridge event's detail and an HTTP
// request's JSON body.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type control struct {
	Fail    string   `json:"echo:fail"`
	SleepMs int      `json:"echo:sleepMs"`
	Exit    *int     `json:"echo:exit"`
	Env     []string `json:"echo:env"`
	Detail  *control `json:"detail"`
	Body    string   `json:"body"` // API Gateway's
}

func handle(ctx context.Context, event json.RawMessage) (any, error) {
	var c control
	_ = json.Unmarshal(event, &c) // not an object: just echo it
	if c.Detail != nil {
		c = *c.Detail
	} else if c.Body != "" {
		var b control
		if json.Unmarshal([]byte(c.Body), &b) == nil {
			c = b
		}
	}
	lc, _ := lambdacontext.FromContext(ctx)
	fmt.Fprintf(os.Stderr, "echo %s request %s: %s\n", os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), lc.AwsRequestID, event)
	if c.SleepMs > 0 {
		time.Sleep(time.Duration(c.SleepMs) * time.Millisecond)
	}
	if c.Exit != nil {
		os.Exit(*c.Exit)
	}
	if c.Fail != "" {
		return nil, errors.New(c.Fail)
	}
	if c.Env != nil {
		out := map[string]string{}
		for _, k := range c.Env {
			out[k] = os.Getenv(k)
		}
		return out, nil
	}
	return event, nil
}

func main() {
	if ms, err := strconv.Atoi(os.Getenv("ECHO_INIT_SLEEP_MS")); err == nil {
		fmt.Fprintln(os.Stderr, "echo: starting")
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	lambda.Start(handle)
}
