package sam_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var tracing = map[string]string{"Tracing": "Active"}

// Each function logs to its own group, kept LogRetentionDays (issue #18
// item 2), and the API's access log too; none is left for Lambda to create
// without retention.
func TestLogGroups(t *testing.T) {
	sourcesWith(t, map[string]string{"LogRetentionDays": "90"}, func(t *testing.T, doc cfnDoc) {
		for _, days := range []string{"30", "90"} {
			params := map[string]string{"LogRetentionDays": days}
			if days == "30" {
				params = nil // the default
			}
			st := deploy(t, doc, params)
			var used []string
			for _, fn := range functions(st) {
				group, _ := asMap(at(st.Resources[fn].Properties, "LoggingConfig", "LogGroup"))["Ref"].(string)
				if at(st.Resources[fn].Properties, "LoggingConfig", "LogFormat") == nil && at(map[string]any(doc), "Globals", "Function", "LoggingConfig", "LogFormat") == nil {
					t.Errorf("%s: LoggingConfig lost Globals' LogFormat", fn)
				}
				used = append(used, group)
			}
			// As written in Globals.HttpApi; translated, on the API's stage.
			access := at(map[string]any(doc), "Globals", "HttpApi", "AccessLogSettings", "DestinationArn")
			if stage, ok := st.Resources["ServerlessHttpApiApiGatewayDefaultStage"]; ok {
				access = at(stage.Properties, "AccessLogSettings", "DestinationArn")
			}
			used = append(used, arnOf(access))
			groups := st.ofType("AWS::Logs::LogGroup")
			slices.Sort(used)
			if !slices.Equal(groups, used) {
				t.Errorf("log groups %v; the functions and the API log to %v", groups, used)
			}
			for _, id := range groups {
				if got := fmt.Sprint(st.Resources[id].Properties["RetentionInDays"]); got != days {
					t.Errorf("%s: RetentionInDays %s, want %s", id, got, days)
				}
			}
		}
	})
}

func functions(st stack) []string {
	if fns := st.ofType("AWS::Serverless::Function"); len(fns) > 0 {
		return fns
	}
	return st.ofType("AWS::Lambda::Function")
}

// Tracing=Active turns on X-Ray for every function; the default sets no
// tracing at all (the roles' X-Ray statement is checked with the roles).
func TestTracing(t *testing.T) {
	for _, params := range []map[string]string{nil, tracing} {
		doc, err := translateWith(params)
		if err != nil {
			t.Skip(err)
		}
		st := deploy(t, doc, params)
		for _, fn := range functions(st) {
			got := jsonString(at(st.Resources[fn].Properties, "TracingConfig"))
			want := "null"
			if params != nil {
				want = `{"Mode":"Active"}`
			}
			if got != want {
				t.Errorf("Tracing=%v: %s TracingConfig %s, want %s", params, fn, got, want)
			}
		}
	}
}

// The HTTP API throttles and logs access (issue #18 item 2) and stays the
// implicit ServerlessHttpApi, so a deployed stack keeps its execute-api
// URL: every route integrates its function, its $default stage carries the
// settings, and the custom domain still maps that stage (TestCustomDomain).
func TestHttpApiSettings(t *testing.T) {
	doc, err := translateWith(domainOnly)
	if err != nil {
		t.Skip(err)
	}
	st := deploy(t, doc, domainOnly)
	api, ok := st.Resources["ServerlessHttpApi"]
	if !ok || api.Type != "AWS::ApiGatewayV2::Api" {
		t.Fatalf("ServerlessHttpApi: %+v", api)
	}
	if apis := st.ofType("AWS::ApiGatewayV2::Api"); len(apis) != 1 {
		t.Errorf("APIs %v, want one", apis)
	}
	routes := map[string]string{
		"get /wechat/{account}":  "CallbackFunction",
		"post /wechat/{account}": "CallbackFunction",
		"get /r/{code}":          "CallbackFunction",
		"get /{file}":            "CallbackFunction",
		"get /sessions/{id}":     "SessionFunction",
	}
	paths := asMap(at(api.Properties, "Body", "paths"))
	n := 0
	for path, ops := range paths {
		for method, op := range asMap(ops) {
			n++
			fn, want := routes[method+" "+path]
			if uri := jsonString(at(op, "x-amazon-apigateway-integration", "uri")); !want || !strings.Contains(uri, "${"+fn+".Arn}") {
				t.Errorf("%s %s integrates %s", method, path, uri)
			}
		}
	}
	if n != len(routes) {
		t.Errorf("%d routes, want %d: %v", n, len(routes), jsonString(paths))
	}
	stage := st.Resources["ServerlessHttpApiApiGatewayDefaultStage"]
	if stage.Type != "AWS::ApiGatewayV2::Stage" || stage.Properties["StageName"] != "$default" {
		t.Fatalf("stage %+v", stage)
	}
	if jsonString(at(stage.Properties, "DefaultRouteSettings")) != `{"ThrottlingBurstLimit":"1000","ThrottlingRateLimit":"500"}` {
		t.Errorf("throttling %s", jsonString(at(stage.Properties, "DefaultRouteSettings")))
	}
	format := fmt.Sprint(at(stage.Properties, "AccessLogSettings", "Format"))
	for _, want := range []string{"$context.routeKey", "$context.status", "$context.requestId"} {
		if !strings.Contains(format, want) {
			t.Errorf("access log format lacks %s: %s", want, format)
		}
	}
	if strings.Contains(format, "$context.path") {
		t.Errorf("access log names the path, which holds a host page's key: %s", format)
	}
}

var tomlLine = regexp.MustCompile(`(?m)^(\w+)\s*=\s*"([^"]*)"`)

// samconfig.toml's defaults stay deployable: each environment names the
// IAM capability (the template creates roles), and its parameter overrides
// are template parameters with allowed values.
func TestSamConfig(t *testing.T) {
	data, err := os.ReadFile("../../samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	doc := readTemplate(t)
	envs := map[string]int{}
	for _, m := range tomlLine.FindAllStringSubmatch(string(data), -1) {
		switch m[1] {
		case "capabilities":
			envs["capabilities"]++
			if !strings.Contains(m[2], "CAPABILITY_IAM") {
				t.Errorf("capabilities %q lack CAPABILITY_IAM", m[2])
			}
		case "parameter_overrides":
			envs["overrides"]++
			for _, kv := range strings.Fields(m[2]) {
				k, v, _ := strings.Cut(kv, "=")
				p := asMap(at(map[string]any(doc), "Parameters", k))
				if p == nil {
					t.Errorf("override %s: no such parameter", k)
					continue
				}
				if re, ok := p["AllowedPattern"].(string); ok && !regexp.MustCompile(re).MatchString(v) {
					t.Errorf("override %s=%s does not match %s", k, v, re)
				}
			}
		}
	}
	if envs["capabilities"] == 0 || envs["capabilities"] != envs["overrides"] {
		t.Errorf("found %v; want capabilities and parameter_overrides in each environment", envs)
	}
}
