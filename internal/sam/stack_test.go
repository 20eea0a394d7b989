package sam_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The parameter sets of the custom domain: none, a domain whose DNS is
// elsewhere, and a domain in a Route 53 zone.
var (
	noDomain   = map[string]string{}
	domainOnly = map[string]string{
		"DomainName":     "qunyun.example.cn",
		"CertificateArn": "arn:aws:acm:ap-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000",
	}
	domainZone = map[string]string{
		"DomainName":     "qunyun.example.cn",
		"CertificateArn": "arn:aws:acm:ap-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000",
		"HostedZoneId":   "Z0123456789ABCDEFGHIJ",
	}
)

const executeAPI = "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"

func TestCustomDomain(t *testing.T) {
	sources(t, func(t *testing.T, doc cfnDoc) {
		t.Run("without parameters, as before", func(t *testing.T) {
			st := deploy(t, doc, noDomain)
			for _, typ := range []string{"AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping", "AWS::Route53::RecordSet"} {
				if ids := st.ofType(typ); len(ids) > 0 {
					t.Errorf("%s created without a domain: %v", typ, ids)
				}
			}
			if got, want := jsonString(st.Outputs["CallbackUrl"]), jsonString(map[string]any{"Fn::Sub": executeAPI + "/wechat/{account}"}); got != want {
				t.Errorf("CallbackUrl = %s, want %s", got, want)
			}
			if _, ok := st.Outputs["CustomDomainTarget"]; ok {
				t.Error("CustomDomainTarget output without a domain")
			}
			publicURLs(t, st, map[string]any{"Fn::Sub": executeAPI})
		})
		for name, params := range map[string]map[string]string{"with a domain": domainOnly, "with a domain and its zone": domainZone} {
			t.Run(name, func(t *testing.T) {
				st := deploy(t, doc, params)
				domains := st.ofType("AWS::ApiGatewayV2::DomainName")
				if len(domains) != 1 {
					t.Fatalf("domain names %v, want one", domains)
				}
				d := st.Resources[domains[0]].Properties
				if d["DomainName"] != "qunyun.example.cn" || at(d, "DomainNameConfigurations", "0", "CertificateArn") != params["CertificateArn"] ||
					at(d, "DomainNameConfigurations", "0", "EndpointType") != "REGIONAL" {
					t.Errorf("domain %s", jsonString(d))
				}
				mappings := st.ofType("AWS::ApiGatewayV2::ApiMapping")
				if len(mappings) != 1 {
					t.Fatalf("API mappings %v, want one", mappings)
				}
				m := st.Resources[mappings[0]]
				if jsonString(m.Properties["ApiId"]) != `{"Ref":"ServerlessHttpApi"}` || m.Properties["Stage"] != "$default" ||
					jsonString(m.Properties["DomainName"]) != `{"Ref":"`+domains[0]+`"}` || m.Properties["ApiMappingKey"] != nil {
					t.Errorf("mapping %s: want the implicit API's $default stage at the domain's root", jsonString(m.Properties))
				}
				if !slices.Contains(m.DependsOn, "ServerlessHttpApiApiGatewayDefaultStage") {
					t.Errorf("mapping depends on %v, not on the stage it maps", m.DependsOn)
				}
				if got, want := jsonString(st.Outputs["CallbackUrl"]), `{"Fn::Sub":"https://qunyun.example.cn/wechat/{account}"}`; got != want {
					t.Errorf("CallbackUrl = %s, want %s", got, want)
				}
				if got := jsonString(st.Outputs["CustomDomainTarget"]); got != `{"Fn::GetAtt":["`+domains[0]+`","RegionalDomainName"]}` {
					t.Errorf("CustomDomainTarget = %s", got)
				}
				publicURLs(t, st, map[string]any{"Fn::Sub": "https://qunyun.example.cn"})

				records := st.ofType("AWS::Route53::RecordSet")
				if params["HostedZoneId"] == "" {
					if len(records) > 0 {
						t.Errorf("records %v without a hosted zone", records)
					}
					return
				}
				if len(records) != 1 {
					t.Fatalf("records %v, want one", records)
				}
				r := st.Resources[records[0]].Properties
				if r["HostedZoneId"] != params["HostedZoneId"] || r["Name"] != "qunyun.example.cn" || r["Type"] != "A" ||
					jsonString(at(r, "AliasTarget", "DNSName")) != `{"Fn::GetAtt":["`+domains[0]+`","RegionalDomainName"]}` ||
					jsonString(at(r, "AliasTarget", "HostedZoneId")) != `{"Fn::GetAtt":["`+domains[0]+`","RegionalHostedZoneId"]}` {
					t.Errorf("record %s", jsonString(r))
				}
			})
		}
		t.Run("a hosted zone alone creates nothing", func(t *testing.T) {
			st := deploy(t, doc, map[string]string{"HostedZoneId": "Z0123456789ABCDEFGHIJ"})
			if ids := append(st.ofType("AWS::ApiGatewayV2::DomainName"), st.ofType("AWS::Route53::RecordSet")...); len(ids) > 0 {
				t.Errorf("created %v", ids)
			}
		})
	})
}

// publicURLs checks the base of the links the functions hand out (tracked
// links, the host's page): on the custom domain when there is one.
func publicURLs(t *testing.T, st stack, want any) {
	t.Helper()
	if got := at(st.Resources["PushFunction"].Properties, "Environment", "Variables", "PUBLIC_BASE_URL"); jsonString(got) != jsonString(want) {
		t.Errorf("PushFunction PUBLIC_BASE_URL = %s, want %s", jsonString(got), jsonString(want))
	}
	if got := st.Resources["PublicBaseUrlParameter"].Properties["Value"]; jsonString(got) != jsonString(want) {
		t.Errorf("PublicBaseUrlParameter = %s, want %s", jsonString(got), jsonString(want))
	}
}

// The verify code reaches the callback as WECOM_VERIFY_CODE, and the route
// that serves the file is the callback's.
func TestVerifyFileRoute(t *testing.T) {
	sources(t, func(t *testing.T, doc cfnDoc) {
		st := deploy(t, doc, map[string]string{"WeComVerifyCode": "Ab12Cd34"})
		cb := st.Resources["CallbackFunction"].Properties
		if got := at(cb, "Environment", "Variables", "WECOM_VERIFY_CODE"); got != "Ab12Cd34" {
			t.Errorf("WECOM_VERIFY_CODE = %v", got)
		}
		if at(cb, "Events") != nil { // as written
			if at(cb, "Events", "VerifyFile", "Properties", "Path") != "/{file}" || at(cb, "Events", "VerifyFile", "Properties", "Method") != "GET" {
				t.Errorf("VerifyFile event %s", jsonString(at(cb, "Events", "VerifyFile")))
			}
			return
		}
		uri := at(st.Resources["ServerlessHttpApi"].Properties, "Body", "paths", "/{file}", "get", "x-amazon-apigateway-integration", "uri")
		if !strings.Contains(jsonString(uri), "${CallbackFunction.Arn}") {
			t.Errorf("GET /{file} integrates %s, want CallbackFunction", jsonString(uri))
		}
	})
}

// EventBridge may send a rule's failed events to its dead-letter queue only
// if the queue's policy lets events.amazonaws.com do so for that rule
// (issue #14, item 8). Every rule with a DeadLetterConfig is checked.
func TestDeadLetterQueuePolicy(t *testing.T) {
	sources(t, func(t *testing.T, doc cfnDoc) {
		st := deploy(t, doc, nil)
		// queue id → the rules (their SAM-generated ids) that send to it.
		rules := map[string][]string{}
		for id, r := range st.Resources {
			switch r.Type {
			case "AWS::Serverless::Function":
				for name, ev := range asMap(r.Properties["Events"]) {
					if at(ev, "Type") == "EventBridgeRule" {
						if q := arnOf(at(ev, "Properties", "DeadLetterConfig", "Arn")); q != "" {
							rules[q] = append(rules[q], id+name)
						}
					}
				}
			case "AWS::Events::Rule":
				for _, target := range asList(r.Properties["Targets"]) {
					if q := arnOf(at(target, "DeadLetterConfig", "Arn")); q != "" {
						rules[q] = append(rules[q], id)
					}
				}
			}
		}
		if len(rules) == 0 {
			t.Fatal("no rule has a dead-letter queue; the test reads the wrong shape")
		}
		for queue, senders := range rules {
			var allowed []string
			for _, id := range st.ofType("AWS::SQS::QueuePolicy") {
				p := st.Resources[id].Properties
				if !slices.ContainsFunc(asList(p["Queues"]), func(q any) bool { return jsonString(q) == `{"Ref":"`+queue+`"}` }) {
					continue
				}
				for _, s := range asList(at(p, "PolicyDocument", "Statement")) {
					if at(s, "Effect") != "Allow" || at(s, "Principal", "Service") != "events.amazonaws.com" ||
						at(s, "Action") != "sqs:SendMessage" || jsonString(at(s, "Resource")) != `{"Fn::GetAtt":["`+queue+`","Arn"]}` {
						continue
					}
					for _, arn := range asList(at(s, "Condition", "ArnEquals", "aws:SourceArn")) {
						allowed = append(allowed, strings.TrimSuffix(strings.TrimPrefix(jsonString(arn), `{"Fn::GetAtt":["`), `","Arn"]}`))
					}
				}
			}
			sort.Strings(senders)
			sort.Strings(allowed)
			if !slices.Equal(senders, allowed) {
				t.Errorf("queue %s: rules %v send to it, its policy lets EventBridge send for %v", queue, senders, allowed)
			}
		}
	})
}

// arnOf is X for {"Fn::GetAtt": ["X", "Arn"]} (a queue, a log group).
func arnOf(arn any) string {
	l := asList(asMap(arn)["Fn::GetAtt"])
	if len(l) != 2 || l[1] != "Arn" {
		return ""
	}
	return l[0].(string)
}

// Callback failures alarm (issue #14, item 9): the metrics the callback
// emits when a record or a resumed step fails, its Lambda errors and
// throttles, and the API's 5xx, each to the alarm topic.
func TestCallbackAlarms(t *testing.T) {
	emitted := callbackMetrics(t)
	sources(t, func(t *testing.T, doc cfnDoc) {
		st := deploy(t, doc, map[string]string{"AlarmEmail": "ops@example.cn"})
		topics := st.ofType("AWS::SNS::Topic")
		if len(topics) != 1 || at(st.Resources[topics[0]].Properties, "Subscription", "0", "Endpoint") != "ops@example.cn" {
			t.Fatalf("topics %v: want one, subscribed by AlarmEmail", topics)
		}
		emf := []map[string]any{{"Name": "Function", "Value": "callback"}, {"Name": "Stage", "Value": "dev"}}
		fn := []map[string]any{{"Name": "FunctionName", "Value": map[string]any{"Ref": "CallbackFunction"}}}
		api := []map[string]any{{"Name": "ApiId", "Value": map[string]any{"Ref": "ServerlessHttpApi"}}}
		want := []struct {
			namespace, metric string
			dims              []map[string]any
		}{
			{"Qunyun", "RecordFailures", emf},
			{"Qunyun", "ResumeFailed", emf},
			{"AWS/Lambda", "Errors", fn},
			{"AWS/Lambda", "Throttles", fn},
			{"AWS/ApiGateway", "5xx", api},
		}
		for _, w := range want {
			if w.namespace == "Qunyun" && !emitted[w.metric] {
				t.Errorf("alarm on %s, which internal/callback does not emit (emits %v)", w.metric, emitted)
			}
			found := false
			for _, id := range st.ofType("AWS::CloudWatch::Alarm") {
				p := st.Resources[id].Properties
				if p["Namespace"] != w.namespace || p["MetricName"] != w.metric || jsonString(p["Dimensions"]) != jsonString(w.dims) {
					continue
				}
				found = true
				if jsonString(p["AlarmActions"]) != `[{"Ref":"`+topics[0]+`"}]` || p["ComparisonOperator"] != "GreaterThanThreshold" ||
					fmt.Sprint(p["Threshold"]) != "0" || p["TreatMissingData"] != "notBreaching" {
					t.Errorf("alarm %s: %s", id, jsonString(p))
				}
			}
			if !found {
				t.Errorf("no alarm on %s %s with dimensions %s", w.namespace, w.metric, jsonString(w.dims))
			}
		}
	})
}

var metricName = regexp.MustCompile(`metrics\.Metric\{Name: "(\w+)"`)

// callbackMetrics lists the metric names internal/callback emits, and
// checks the dimensions CallbackFunction gives them, so an alarm cannot
// watch a metric that no longer exists.
func callbackMetrics(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../callback/*.go")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricName.FindAllSubmatch(src, -1) {
			names[string(m[1])] = true
		}
	}
	main, err := os.ReadFile("../../functions/callback/main.go")
	if err != nil {
		t.Fatal(err)
	}
	// base.Metrics always carries Stage (lambdainit.Base.Metrics).
	if !strings.Contains(string(main), `base.Metrics("Function", "callback")`) {
		t.Error("functions/callback/main.go no longer emits with the dimensions Stage and Function=callback the alarms name")
	}
	return names
}

// Every reference in the translated template, for each parameter set, is
// to a resource that set creates, a parameter or a pseudo parameter: a
// name SAM does not generate, or a conditional resource used where its
// condition may be false, fails here rather than in CloudFormation.
func TestTranslatedReferences(t *testing.T) {
	for name, params := range map[string]map[string]string{"no domain": noDomain, "domain": domainOnly, "domain and zone": domainZone, "fixed egress": fixedEgress} {
		t.Run(name, func(t *testing.T) {
			doc, err := translateWith(params)
			if errors.Is(err, errNoTranslator) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			st := deploy(t, doc, params)
			known := func(id string) bool {
				_, res := st.Resources[id]
				_, par := st.Params[id]
				return res || par || strings.HasPrefix(id, "AWS::")
			}
			for id, r := range st.Resources {
				for _, d := range r.DependsOn {
					if !known(d) {
						t.Errorf("%s DependsOn %s, which is not created", id, d)
					}
				}
				for _, ref := range references(r.Properties) {
					if !known(ref) {
						t.Errorf("%s refers to %s, which is not created", id, ref)
					}
				}
			}
			for out, v := range st.Outputs {
				for _, ref := range references(v) {
					if !known(ref) {
						t.Errorf("output %s refers to %s, which is not created", out, ref)
					}
				}
			}
		})
	}
}
