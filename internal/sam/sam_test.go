package sam_test

import (
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/sam"
)

func TestLoadProjectTemplate(t *testing.T) {
	tpl, err := sam.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CallbackFunction", "PushFunction", "ScoringFunction", "SessionFunction"}
	if len(tpl.Functions) != len(want) {
		t.Fatalf("functions = %d, want %d", len(tpl.Functions), len(want))
	}
	for i, f := range tpl.Functions {
		if f.LogicalID != want[i] {
			t.Errorf("function %d = %s, want %s", i, f.LogicalID, want[i])
		}
		if f.Handler != "bootstrap" || f.Runtime != "provided.al2023" || f.BuildMethod != "makefile" {
			t.Errorf("%s: handler/runtime/build = %s/%s/%s", f.LogicalID, f.Handler, f.Runtime, f.BuildMethod)
		}
		if _, ok := f.Environment["TABLE_NAME"]; !ok {
			t.Errorf("%s: TABLE_NAME not merged from Globals", f.LogicalID)
		}
	}
	cb, _ := tpl.Function("CallbackFunction")
	if cb.Timeout != 5 {
		t.Errorf("callback timeout = %d", cb.Timeout)
	}
	push, _ := tpl.Function("PushFunction")
	var sawRule, sawTick bool
	for _, e := range push.Events {
		switch e.Type {
		case "EventBridgeRule":
			sawRule = strings.Contains(string(e.Pattern), `"DeliveryRequested"`) && e.EventBusName.Ref == "EventBus"
		case "ScheduleV2":
			sawTick = e.ScheduleExpression == "cron(* * * * ? *)" && e.Timezone == "Asia/Shanghai"
		}
	}
	if !sawRule || !sawTick {
		t.Errorf("push events not parsed: rule=%v tick=%v %+v", sawRule, sawTick, push.Events)
	}
	if len(tpl.Tables) != 1 || tpl.Tables[0].TTLAttribute != "expiresAt" || len(tpl.Tables[0].GlobalSecondaryIndexes) != 2 {
		t.Errorf("table = %+v", tpl.Tables)
	}
}

func TestValueResolve(t *testing.T) {
	refs := func(n string) (string, bool) {
		m := map[string]string{"Stage": "dev", "SsmPrefix": "qunyun", "Table": "qunyun-local"}
		v, ok := m[n]
		return v, ok
	}
	tests := []struct {
		v       sam.Value
		want    string
		wantErr bool
	}{
		{sam.Value{Literal: "x"}, "x", false},
		{sam.Value{Ref: "Table"}, "qunyun-local", false},
		{sam.Value{Sub: "/${SsmPrefix}/${Stage}/accounts/"}, "/qunyun/dev/accounts/", false},
		{sam.Value{Ref: "Nope"}, "", true},
		{sam.Value{Sub: "${Nope}"}, "", true},
		{sam.Value{Sub: "${Stage"}, "", true},
	}
	for _, tt := range tests {
		got, err := tt.v.Resolve(refs)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%+v: got %q, %v", tt.v, got, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"not yaml":     "Resources: [",
		"no resources": "AWSTemplateFormatVersion: x\n",
		"no type":      "Resources:\n  X:\n    Properties: {}\n",
		"table no key": "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n",
	} {
		if _, err := sam.Parse([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
