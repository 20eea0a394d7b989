// Package lambdainit reports a function's start-up failure (bad configuration,
// unreachable SSM) to the Lambda Runtime API's init-error endpoint, which
// aws-lambda-go does not do for errors found before lambda.Start. Lambda then
// shows the message as the init error instead of a bare "exit status 1".
// It also does the wiring every function shares (Setup). It is for a
// function's main only.
package lambdainit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// ErrorType is the type Lambda records for configuration failures.
const ErrorType = "Runtime.ConfigError"

// Report posts err to the init-error endpoint when running under a Lambda
// Runtime API; it returns the error from that call, if any.
func Report(err error) error {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": ErrorType})
	req, rerr := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if rerr != nil {
		return rerr
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", ErrorType)
	resp, rerr := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if rerr != nil {
		return rerr
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("init error endpoint answered %s", resp.Status)
	}
	return nil
}

// Fail logs err, reports it and exits the process with status 1.
func Fail(err error) {
	slog.Error("init failed", "error", err.Error())
	if rerr := Report(err); rerr != nil {
		slog.Error("report init error", "error", rerr.Error())
	}
	os.Exit(1)
}

// Check calls Fail when err is not nil: main's check of Env.Err() after it
// has read its variables.
func Check(err error) {
	if err != nil {
		Fail(err)
	}
}

// Must returns v, or calls Fail with err: for the constructors a main
// cannot go on without.
func Must[T any](v T, err error) T {
	if err != nil {
		Fail(err)
	}
	return v
}
