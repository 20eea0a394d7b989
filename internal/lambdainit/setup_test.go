package lambdainit

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/qunyun/qunyun/internal/config"
)

func TestAWSConfigFromLambdaEnvironment(t *testing.T) {
	vars := map[string]string{
		"AWS_REGION": "cn-north-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
	}
	env := config.New(func(k string) string { return vars[k] })
	cfg := awsConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || cfg.Region != "cn-north-1" || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Fatalf("region %q credentials %+v %v", cfg.Region, creds, err)
	}
	for service, want := range map[string]string{"DYNAMODB": "http://127.0.0.1:8000", "EVENTBRIDGE": "http://127.0.0.1:9000"} {
		if got := aws.ToString(endpoint(env, service)); got != want {
			t.Errorf("endpoint(%s) = %q, want %q", service, got, want)
		}
	}
	delete(vars, "AWS_ENDPOINT_URL")
	if got := endpoint(env, "SSM"); got != nil {
		t.Errorf("endpoint(SSM) = %q, want the public endpoint (nil)", *got)
	}
}

func TestAWSConfigNamesWhatIsMissing(t *testing.T) {
	env := config.New(func(string) string { return "" })
	awsConfig(env)
	err := env.Err()
	for _, name := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

// The alarms in template.yaml name Stage (and the callback's Function):
// every function's metrics carry the stage its environment says.
func TestMetricsCarryTheStage(t *testing.T) {
	env := map[string]string{"STAGE": "prod"}
	b := Base{Env: config.New(func(k string) string { return env[k] })}
	got := b.Metrics("Function", "callback").Dimensions
	if len(got) != 2 || got["Stage"] != "prod" || got["Function"] != "callback" {
		t.Errorf("dimensions %v, want Stage=prod and Function=callback", got)
	}
	if got := (Base{Env: config.New(func(string) string { return "" })}).Metrics().Dimensions; got["Stage"] != "dev" {
		t.Errorf("no STAGE: dimensions %v, want Stage=dev", got)
	}
}
