package eventpattern_test

import (
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/eventpattern"
)

// ec2Event is the example event of the User Guide's "Event patterns" and
// "Content filtering" pages (EC2 Instance State-change Notification), with
// the detail object left to each test.
func ec2Event(detail string) string {
	return `{
	  "version": "0",
	  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
	  "detail-type": "EC2 Instance State-change Notification",
	  "source": "aws.ec2",
	  "account": "111122223333",
	  "time": "2017-10-02T18:43:48Z",
	  "region": "us-west-1",
	  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
	  "detail": ` + detail + `
	}`
}

type matchCase struct {
	name    string // which documented example, or which rule
	pattern string
	event   string
	want    bool
}

func runMatches(t *testing.T, tests []matchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := eventpattern.Compile([]byte(tt.pattern))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tt.pattern, err)
			}
			got, err := p.Match([]byte(tt.event))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tt.want {
				t.Errorf("pattern %s\nevent %s\nmatch = %v, want %v", tt.pattern, tt.event, got, tt.want)
			}
		})
	}
}

func TestMatchEventPatterns(t *testing.T) {
	terminated := ec2Event(`{"instance-id": "i-1234567890abcdef0", "state": "terminated"}`)
	runMatches(t, []matchCase{
		{"Event patterns: source, detail-type and detail.state",
			`{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["terminated"]}}`,
			terminated, true},
		{"Event patterns: a field the event does not have never matches a value",
			`{"source": ["aws.ec2"], "detail": {"reason": ["terminated"]}}`, terminated, false},
		{"Event patterns: fields AND", `{"source": ["aws.ec2"], "detail": {"state": ["running"]}}`, terminated, false},
		{"Matching on multiple field values: values OR (aws.ec2 or aws.fargate)",
			`{"source": ["aws.ec2", "aws.fargate"]}`, terminated, true},
		{"Event patterns: matching is case-sensitive", `{"source": ["AWS.EC2"]}`, terminated, false},
		{"Event patterns: the structure must match (state is not top level)", `{"state": ["terminated"]}`, terminated, false},
		{"Arrays: the pattern matches if the intersection with the event array is non-empty",
			`{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f", "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}`,
			`{"resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate", "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`,
			true},
		{"Arrays: no common element", `{"resources": ["arn:x"]}`, `{"resources": ["arn:y", "arn:z"]}`, false},
		{"Null values and empty strings: [\"\"] matches an empty string",
			`{"detail": {"eventVersion": [""]}}`, ec2Event(`{"eventVersion": "", "responseElements": null}`), true},
		{"Null values and empty strings: [null] matches null",
			`{"detail": {"responseElements": [null]}}`, ec2Event(`{"eventVersion": "", "responseElements": null}`), true},
		{"Null values and empty strings: [\"\"] does not match null",
			`{"detail": {"responseElements": [""]}}`, ec2Event(`{"eventVersion": "", "responseElements": null}`), false},
		{"Null values and empty strings: [null] does not match an empty string",
			`{"detail": {"eventVersion": [null]}}`, ec2Event(`{"eventVersion": "", "responseElements": null}`), false},
		{"Null values: [null] does not match an absent field",
			`{"detail": {"missing": [null]}}`, ec2Event(`{}`), false},
		{"exact numbers compare as numbers (300 = 3.0e2)", `{"detail": {"n": [300]}}`, ec2Event(`{"n": 3.0e2}`), true},
		{"exact numbers do not match strings", `{"detail": {"n": [300]}}`, ec2Event(`{"n": "300"}`), false},
		{"exact strings do not match numbers", `{"detail": {"n": ["300"]}}`, ec2Event(`{"n": 300}`), false},
		{"booleans", `{"detail": {"ok": [true]}}`, ec2Event(`{"ok": true}`), true},
		{"booleans differ", `{"detail": {"ok": [true]}}`, ec2Event(`{"ok": false}`), false},
		{"nested objects several levels deep", `{"detail": {"a": {"b": {"c": ["x"]}}}}`, ec2Event(`{"a": {"b": {"c": "x"}}}`), true},
		{"a nested pattern matches an array of objects if one element matches",
			`{"detail": {"items": {"sku": ["B"], "qty": [2]}}}`, ec2Event(`{"items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 2}]}`), true},
		{"fields of a nested pattern must match in the same array element",
			`{"detail": {"items": {"sku": ["B"], "qty": [1]}}}`, ec2Event(`{"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}`), false},
		{"Content filtering (note): a key given twice, the last counts",
			`{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}`, ec2Event(`{"location": "eu-west"}`), true},
	})
}

func TestMatchContentFiltering(t *testing.T) {
	runMatches(t, []matchCase{
		// Prefix matching.
		{"Prefix matching: time starts with 2017-10-02", `{"time": [{"prefix": "2017-10-02"}]}`, ec2Event(`{}`), true},
		{"Prefix matching: other day", `{"time": [{"prefix": "2017-10-03"}]}`, ec2Event(`{}`), false},
		{"Prefix matching example: Auto Scaling events from European regions",
			`{"source": ["aws.autoscaling"], "region": [{"prefix": "eu-"}]}`, `{"source": "aws.autoscaling", "region": "eu-west-1"}`, true},
		{"Prefix matching only works on strings", `{"detail": {"n": [{"prefix": "12"}]}}`, ec2Event(`{"n": 123}`), false},
		{"Prefix matching while ignoring case: EventB matches eventbridge",
			`{"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}`, ec2Event(`{"service": "eventbridge"}`), true},
		{"Prefix matching while ignoring case: EVENTBRIDGE", `{"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}`, ec2Event(`{"service": "EVENTBRIDGE"}`), true},
		{"Prefix matching while ignoring case: no", `{"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}}`, ec2Event(`{"service": "sqs"}`), false},
		// Suffix matching.
		{"Suffix matching: FileName ends with .png", `{"detail": {"FileName": [{"suffix": ".png"}]}}`, ec2Event(`{"FileName": "image.png"}`), true},
		{"Suffix matching: .PNG is a different case", `{"detail": {"FileName": [{"suffix": ".png"}]}}`, ec2Event(`{"FileName": "image.PNG"}`), false},
		{"Suffix matching while ignoring case: .PNG", `{"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}`, ec2Event(`{"FileName": "image.PNG"}`), true},
		// Anything-but matching.
		{"Anything-but: state is not initializing", `{"detail": {"state": [{"anything-but": "initializing"}]}}`, ec2Event(`{"state": "running"}`), true},
		{"Anything-but: state is initializing", `{"detail": {"state": [{"anything-but": "initializing"}]}}`, ec2Event(`{"state": "initializing"}`), false},
		{"Anything-but: a missing field does not match", `{"detail": {"state": [{"anything-but": "initializing"}]}}`, ec2Event(`{}`), false},
		{"Anything-but a number: x-limit 123", `{"detail": {"x-limit": [{"anything-but": 123}]}}`, ec2Event(`{"x-limit": 123}`), false},
		{"Anything-but a number: x-limit 124", `{"detail": {"x-limit": [{"anything-but": 123}]}}`, ec2Event(`{"x-limit": 124}`), true},
		{"Anything-but a list of strings: stopped", `{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}`, ec2Event(`{"state": "stopped"}`), false},
		{"Anything-but a list of strings: running", `{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}`, ec2Event(`{"state": "running"}`), true},
		{"Anything-but a list of numbers: 200", `{"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}`, ec2Event(`{"x-limit": 200}`), false},
		{"Anything-but a list of numbers: 250", `{"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}`, ec2Event(`{"x-limit": 250}`), true},
		{"Anything-but prefix: init...", `{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}`, ec2Event(`{"state": "initializing"}`), false},
		{"Anything-but prefix: running", `{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}`, ec2Event(`{"state": "running"}`), true},
		{"Anything-but matching example: not from aws.", `{"source": [{"anything-but": {"prefix": "aws."}}]}`, `{"source": "qunyun"}`, true},
		{"Anything-but matching example: from aws.", `{"source": [{"anything-but": {"prefix": "aws."}}]}`, ec2Event(`{}`), false},
		{"Anything-but matching example: not CloudTrail", `{"detail-type": [{"anything-but": "AWS API Call via CloudTrail"}]}`, ec2Event(`{}`), true},
		{"Anything-but matching example: not EC2 or S3", `{"source": [{"anything-but": ["aws.ec2", "aws.s3"]}]}`, ec2Event(`{}`), false},
		{"Anything-but suffix: not .png", `{"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}`, ec2Event(`{"FileName": "a.png"}`), false},
		{"Anything-but suffix: .jpg", `{"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}`, ec2Event(`{"FileName": "a.jpg"}`), true},
		{"Anything-but ignore case: INITIALIZING", `{"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}}`, ec2Event(`{"state": "INITIALIZING"}`), false},
		{"Anything-but ignore case, list", `{"detail": {"state": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]}}`, ec2Event(`{"state": "Stopped"}`), false},
		{"Anything-but wildcard: path with /lib/", `{"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}`, ec2Event(`{"FilePath": "/usr/lib/x.so"}`), false},
		{"Anything-but wildcard: path without /lib/", `{"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}`, ec2Event(`{"FilePath": "/usr/bin/x"}`), true},
		{"anything-but on an array field: one element not excluded is enough", `{"detail": {"state": [{"anything-but": "stopped"}]}}`, ec2Event(`{"state": ["stopped", "running"]}`), true},
		// Numeric matching.
		{"Numeric matching: all three fields true", numericPattern, ec2Event(`{"c-count": 5, "d-count": 9.99, "x-limit": 301.8}`), true},
		{"Numeric matching: c-count 0 is not > 0", numericPattern, ec2Event(`{"c-count": 0, "d-count": 9, "x-limit": 301.8}`), false},
		{"Numeric matching: d-count 10 is not < 10", numericPattern, ec2Event(`{"c-count": 1, "d-count": 10, "x-limit": 301.8}`), false},
		{"Numeric matching: x-limit must equal 3.018e2", numericPattern, ec2Event(`{"c-count": 1, "d-count": 1, "x-limit": 301}`), false},
		{"Numeric matching only works with JSON numbers", `{"detail": {"c-count": [{"numeric": [">", 0]}]}}`, ec2Event(`{"c-count": "5"}`), false},
		{"Numeric: >= includes the bound", `{"detail": {"n": [{"numeric": [">=", 5, "<", 6]}]}}`, ec2Event(`{"n": 5}`), true},
		{"Numeric: bounds in either order", `{"detail": {"n": [{"numeric": ["<=", 6, ">", 5]}]}}`, ec2Event(`{"n": 6}`), true},
		// IP address matching.
		{"IP address matching: 10.0.0.0/24 contains 10.0.0.255", `{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}`, ec2Event(`{"sourceIPAddress": "10.0.0.255"}`), true},
		{"IP address matching: 10.0.1.0 is outside", `{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}`, ec2Event(`{"sourceIPAddress": "10.0.1.0"}`), false},
		{"IP address matching: IPv6", `{"detail": {"sourceIPAddress": [{"cidr": "2001:db8::/32"}]}}`, ec2Event(`{"sourceIPAddress": "2001:db8::1"}`), true},
		{"IP address matching: not an IP", `{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}`, ec2Event(`{"sourceIPAddress": "example.com"}`), false},
		// Exists matching.
		{"Exists matching: exists true, detail.state present", `{"detail": {"state": [{"exists": true}]}}`, ec2Event(`{"instance-id": "i-abcd1111", "state": "pending"}`), true},
		{"Exists matching: exists true does not match an event without detail.state", `{"detail": {"state": [{"exists": true}]}}`, ec2Event(`{"c-count": {"c1": 100}}`), false},
		{"Exists matching: exists false, no detail.c-count", `{"detail": {"c-count": [{"exists": false}]}}`, ec2Event(`{"state": ["initializing", "running"]}`), true},
		{"Exists matching: exists false also matches because c-count is not a leaf", `{"detail": {"c-count": [{"exists": false}]}}`, ec2Event(`{"state": ["initializing", "running"], "c-count": {"c1": 100}}`), true},
		{"Exists matching: exists false, c-count is a leaf", `{"detail": {"c-count": [{"exists": false}]}}`, ec2Event(`{"c-count": 3}`), false},
		{"Exists matching: exists false when the parent is missing", `{"detail": {"c-count": [{"exists": false}]}}`, `{"source": "qunyun"}`, true},
		{"Exists matching: exists true on null", `{"detail": {"r": [{"exists": true}]}}`, ec2Event(`{"r": null}`), true},
		{"Exists matching: exists true on an empty array", `{"detail": {"r": [{"exists": true}]}}`, ec2Event(`{"r": []}`), false},
		// Equals-ignore-case, wildcard.
		{"Equals-ignore-case: Name is alice", `{"detail": {"Name": [{"equals-ignore-case": "alice"}]}}`, ec2Event(`{"Name": "Alice"}`), true},
		{"Equals-ignore-case: Bob", `{"detail": {"Name": [{"equals-ignore-case": "alice"}]}}`, ec2Event(`{"Name": "Bob"}`), false},
		{"Wildcard matching: EventBusArn in us-east-1, any account",
			`{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/default"}`, true},
		{"Wildcard matching: other region",
			`{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/default"}`, false},
		{"Wildcard: *.png", `{"detail": {"f": [{"wildcard": "*.png"}]}}`, ec2Event(`{"f": "dir/a.png"}`), true},
		{"Wildcard: a*b*c needs the pieces in order", `{"detail": {"f": [{"wildcard": "a*b*c"}]}}`, ec2Event(`{"f": "acb"}`), false},
		{"Wildcard: a*b*c", `{"detail": {"f": [{"wildcard": "a*b*c"}]}}`, ec2Event(`{"f": "axxbyyc"}`), true},
		{"Wildcard: escaped star is literal", `{"detail": {"f": [{"wildcard": "a\\*"}]}}`, ec2Event(`{"f": "a*"}`), true},
		{"Wildcard: escaped star does not glob", `{"detail": {"f": [{"wildcard": "a\\*"}]}}`, ec2Event(`{"f": "abc"}`), false},
		{"Wildcard: no star is an exact match", `{"detail": {"f": [{"wildcard": "abc"}]}}`, ec2Event(`{"f": "abcd"}`), false},
		// $or.
		{"$or matching: metricName or namespace (namespace matches)", orPattern, `{"source": "aws.cloudwatch", "metricName": "Other", "namespace": "AWS/EC2"}`, true},
		{"$or matching: metricName matches", orPattern, `{"source": "aws.cloudwatch", "metricName": "ReadLatency"}`, true},
		{"$or matching: neither", orPattern, `{"source": "aws.cloudwatch", "metricName": "Other", "namespace": "AWS/S3"}`, false},
		{"$or matching: source must still match", orPattern, `{"source": "aws.ec2", "metricName": "CPUUtilization"}`, false},
		{"$or matching inside detail: d-count < 10", orDetailPattern, ec2Event(`{"c-count": 9, "d-count": 3}`), true},
		{"$or matching inside detail: none", orDetailPattern, ec2Event(`{"c-count": 9, "d-count": 30, "x-limit": 1}`), false},
		// Complex example.
		{"Complex example with multiple matching", complexPattern, ec2Event(`{"state": "running", "c-count": 3, "d-count": 1, "x-limit": 150}`), true},
		{"Complex example with multiple matching: x-limit excluded", complexPattern, ec2Event(`{"state": "running", "c-count": 3, "d-count": 1, "x-limit": 200}`), false},
	})
}

const (
	numericPattern = `{"detail": {
	  "c-count": [{"numeric": [">", 0, "<=", 5]}],
	  "d-count": [{"numeric": ["<", 10]}],
	  "x-limit": [{"numeric": ["=", 3.018e2]}]}}`
	orPattern = `{"source": ["aws.cloudwatch"], "$or": [
	  {"metricName": ["CPUUtilization", "ReadLatency"]},
	  {"namespace": ["AWS/EC2", "AWS/ES"]}]}`
	orDetailPattern = `{"detail": {"$or": [
	  {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
	  {"d-count": [{"numeric": ["<", 10]}]},
	  {"x-limit": [{"numeric": ["=", 3.018e2]}]}]}}`
	complexPattern = `{
	  "time": [{"prefix": "2017-10-02"}],
	  "detail": {
	    "state": [{"anything-but": "initializing"}],
	    "c-count": [{"numeric": [">", 0, "<=", 5]}],
	    "d-count": [{"numeric": ["<", 10]}],
	    "x-limit": [{"anything-but": [100, 200, 300]}]}}`
)

// The shape the Qunyun bus uses (DESIGN.md §5): source qunyun, PascalCase
// detail-type.
func TestMatchQunyunRule(t *testing.T) {
	runMatches(t, []matchCase{
		{"SessionOpened goes to the push rule", `{"source": ["qunyun"], "detail-type": ["SessionOpened", "DeliveryRequested"]}`,
			`{"source": "qunyun", "detail-type": "SessionOpened", "detail": {"id": "s1"}}`, true},
		{"MemberJoined does not", `{"source": ["qunyun"], "detail-type": ["SessionOpened", "DeliveryRequested"]}`,
			`{"source": "qunyun", "detail-type": "MemberJoined", "detail": {"id": "m1"}}`, false},
	})
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, pattern, want string
	}{
		{"not JSON", `{"source": [`, "invalid JSON"},
		{"trailing data", `{"source": ["a"]} {}`, "data after the top-level value"},
		{"not an object", `["aws.ec2"]`, "the pattern must be a JSON object"},
		{"empty pattern", `{}`, "pattern: an object in a pattern must not be empty"},
		{"empty nested object", `{"detail": {}}`, "detail: an object in a pattern must not be empty"},
		{"leaf is not an array", `{"source": "aws.ec2"}`, "source: a pattern value must be an array or an object, got a string"},
		{"empty array", `{"source": []}`, "source: a pattern array must not be empty"},
		{"nested array", `{"source": [["a"]]}`, "source[0]: arrays inside a pattern array are not allowed"},
		{"unknown operator", `{"detail": {"state": [{"contains": "x"}]}}`, `detail.state[0]: unknown operator "contains"`},
		{"two keys in an operator", `{"a": [{"prefix": "x", "suffix": "y"}]}`, "a[0]: an operator object must have exactly one key, got 2"},
		{"prefix not a string", `{"a": [{"prefix": 1}]}`, "a[0].prefix: want a string, got a number"},
		{"prefix with a bad object", `{"a": [{"prefix": {"ignore-case": "x"}}]}`, `a[0].prefix: want a string or {"equals-ignore-case": string}`},
		{"exists not a boolean", `{"a": [{"exists": "yes"}]}`, "a[0].exists: want true or false, got a string"},
		{"anything-but mixed list", `{"a": [{"anything-but": ["x", 1]}]}`, "a[0].anything-but[1]: the list must hold only strings or only numbers"},
		{"anything-but empty list", `{"a": [{"anything-but": []}]}`, "the list must not be empty"},
		{"anything-but boolean", `{"a": [{"anything-but": true}]}`, "a[0].anything-but: want a string, a number, a list, or an operator object, got a boolean"},
		{"anything-but prefix list", `{"a": [{"anything-but": {"prefix": ["x", "y"]}}]}`, "a[0].anything-but.prefix: want a string, got an array"},
		{"anything-but unknown", `{"a": [{"anything-but": {"numeric": [">", 1]}}]}`, `unknown operator "numeric" inside anything-but`},
		{"numeric odd length", `{"a": [{"numeric": [">", 0, "<"]}]}`, "a[0].numeric: want [op, number]"},
		{"numeric bad op", `{"a": [{"numeric": ["!=", 0]}]}`, `a[0].numeric[0]: unknown numeric operator "!="`},
		{"numeric not a number", `{"a": [{"numeric": [">", "0"]}]}`, `a[0].numeric[1]: want a number after ">", got a string`},
		{"numeric two lower bounds", `{"a": [{"numeric": [">", 0, ">=", 1]}]}`, "more than one lower bound"},
		{"numeric = combined", `{"a": [{"numeric": ["=", 0, "<", 1]}]}`, `"=" cannot be combined`},
		{"numeric empty range", `{"a": [{"numeric": [">", 5, "<", 1]}]}`, "the lower bound 5 is above the upper bound 1"},
		{"numeric out of range", `{"a": [{"numeric": [">", 6e9]}]}`, "is outside -5e9..5e9"},
		{"cidr invalid", `{"a": [{"cidr": "10.0.0.0/33"}]}`, `a[0].cidr: "10.0.0.0/33" is not an IP address or CIDR block`},
		{"wildcard double star", `{"a": [{"wildcard": "a**b"}]}`, "consecutive wildcard characters are not allowed"},
		{"wildcard bad escape", `{"a": [{"wildcard": "a\\b"}]}`, `a backslash must escape * or \`},
		{"$or not an array", `{"$or": {"a": ["x"]}}`, "$or: $or must be a non-empty array of pattern objects"},
		{"$or holding a value", `{"$or": [{"a": ["x"]}, "b"]}`, "$or[1]: $or must hold pattern objects, got a string"},
		{"$or alternative invalid", `{"detail": {"$or": [{"a": "x"}]}}`, "detail.$or[0].a: a pattern value must be an array or an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eventpattern.Compile([]byte(tt.pattern))
			if err == nil {
				t.Fatalf("Compile(%s) succeeded, want error containing %q", tt.pattern, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile(%s) error %q, want it to contain %q", tt.pattern, err, tt.want)
			}
		})
	}
}

func TestMatchBadEvent(t *testing.T) {
	p, err := eventpattern.Compile([]byte(`{"source": ["qunyun"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, event := range []string{`not json`, `["qunyun"]`, `"qunyun"`} {
		if _, err := p.Match([]byte(event)); err == nil {
			t.Errorf("Match(%s) succeeded, want an error", event)
		}
	}
	if p.String() != `{"source": ["qunyun"]}` {
		t.Errorf("String() = %q", p.String())
	}
}
