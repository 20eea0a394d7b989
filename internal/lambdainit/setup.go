package lambdainit

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/config"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/metrics"
	"github.com/qunyun/qunyun/internal/paramstore"
)

// Base is what every function wires the same way: its environment, the
// clock, the table, the bus and Parameter Store.
type Base struct {
	Env        *config.Env
	Clock      clock.Clock
	Table      *dynamo.Table
	Bus        *bus.Publisher
	Parameters *paramstore.Client
}

// Setup installs the JSON logger and builds Base from the process
// environment. It calls Fail on errors it can see now; a missing variable is
// recorded in Env, so main reads its own variables and then checks Env.Err()
// once for all of them.
func Setup(ctx context.Context) Base {
	slog.SetDefault(lambdacontext.NewLogger())
	env := config.FromOS()
	clk, err := clock.FromEnv(env.Getenv)
	if err != nil {
		Fail(err)
	}
	cfg := awsConfig(env)
	return Base{
		Env:   env,
		Clock: clk,
		Table: &dynamo.Table{DB: newDynamoAPI(dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.BaseEndpoint = endpoint(env, "DYNAMODB")
			o.Retryer = dynamoRetryer()
		})), Name: env.Required("TABLE_NAME"), Now: clk.Now},
		Bus: &bus.Publisher{Client: newEventBridgeAPI(eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) {
			o.BaseEndpoint = endpoint(env, "EVENTBRIDGE")
		})), BusName: env.Required("EVENT_BUS_NAME")},
		Parameters: &paramstore.Client{Endpoint: aws.ToString(endpoint(env, "SSM")), Region: cfg.Region, Credentials: cfg.Credentials},
	}
}

// Metrics emits EMF metrics with the Stage dimension (what the alarms in
// template.yaml name) and the extra name/value pairs given.
func (b Base) Metrics(dims ...string) *metrics.Emitter {
	m := map[string]string{"Stage": b.Env.Optional("STAGE", "dev")}
	for i := 0; i+1 < len(dims); i += 2 {
		m[dims[i]] = dims[i+1]
	}
	return metrics.New(m)
}

// dynamoRetryer retries a failed DynamoDB request up to three times, after
// full-jitter back-offs of at most 50, 100 and 200 ms (dynamoBackoff). The SDK's
// default for every service waits up to 2 s, then 4 s, before its second
// and third tries, which spends most of the 5 s WeChat gives a callback
// on one throttled or lost request, and holds the function while it
// waits. 25 ms is the base that SDK v1 and the SDK's 2026 retry mode use
// for DynamoDB. The retry quota (token bucket) stays as the SDK has it, so
// a DynamoDB that fails most requests is not hammered.
func dynamoRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 4
		o.Backoff = retry.BackoffDelayerFunc(dynamoBackoff)
	})
}

// dynamoBackoff is the wait before retry attempt (1, 2, …): a random
// share of 25 ms × 2^attempt, never more than 400 ms.
func dynamoBackoff(attempt int, _ error) (time.Duration, error) {
	return time.Duration(rand.Float64() * float64(min(25*time.Millisecond<<attempt, 400*time.Millisecond))), nil
}

// awsConfig is the SDK configuration from what Lambda puts in every
// function's environment: the region and the execution role's credentials
// (static for the life of the execution environment). The local stack sets
// the same variables. config.LoadDefaultConfig would find the same values
// after also looking at shared config files, SSO, STS and the instance
// metadata service, none of which a function uses: 1.7 MB of every binary
// and over a millisecond of every cold start (docs/performance.md).
func awsConfig(env *config.Env) aws.Config {
	creds := aws.Credentials{
		AccessKeyID:     env.Required("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: env.Required("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    env.Optional("AWS_SESSION_TOKEN", ""),
		Source:          "EnvConfigCredentials",
	}
	return aws.Config{
		Region: env.Required("AWS_REGION"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
	}
}

// endpoint is a service's endpoint override, as the SDK reads it:
// AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL; nil for the
// service's public endpoint. The local stack points DynamoDB and
// EventBridge at its own engines this way.
func endpoint(env *config.Env, service string) *string {
	if u := env.Optional("AWS_ENDPOINT_URL_"+service, env.Optional("AWS_ENDPOINT_URL", "")); u != "" {
		return aws.String(u)
	}
	return nil
}
