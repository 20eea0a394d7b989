package runtimetest_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/runtimetest"
	"github.com/qunyun/qunyun/internal/sam"
)

func loadTemplate() (*sam.Template, error) { return sam.Load(root + "/template.yaml") }

func TestEventTime(t *testing.T) {
	tests := []struct {
		event string
		want  time.Time
		ok    bool
	}{
		{`{"kind":"tick","scheduledTime":"2026-11-22T01:00:00Z"}`, time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), true},
		{`{"detail-type":"X","time":"2026-11-22T11:55:00Z","detail":{}}`, time.Date(2026, 11, 22, 11, 55, 0, 0, time.UTC), true},
		{`{"rawQueryString":"signature=x&timestamp=1795348800&nonce=1"}`, time.Unix(1795348800, 0).UTC(), true},
		{`{"rawQueryString":"","headers":{"x-qunyun-timestamp":"1795348800"}}`, time.Unix(1795348800, 0).UTC(), true},
		{`{"rawQueryString":"nonce=1"}`, time.Time{}, false},
		{`not json`, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := runtimetest.EventTime([]byte(tt.event))
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%s: got %v %v, want %v %v", tt.event, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEnvironmentOverridesOnlyDeclared(t *testing.T) {
	tpl, err := loadTemplate()
	if err != nil {
		t.Fatal(err)
	}
	push, _ := tpl.Function("PushFunction")
	res := runtimetest.Resources{"Table": "t1", "EventBus": "qunyun-dev", "ServerlessHttpApi": "api", "AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com"}
	env, err := runtimetest.Environment(tpl, push, res, map[string]string{"WECHAT_API_BASE": "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"TABLE_NAME":          "t1",
		"EVENT_BUS_NAME":      "qunyun-dev",
		"STAGE":               "dev",
		"ACCOUNTS_SSM_PREFIX": "/qunyun/dev/accounts/",
		"WECHAT_API_BASE":     "http://127.0.0.1:1",
		"PUBLIC_BASE_URL":     "https://api.execute-api.us-east-1.amazonaws.com",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if _, err := runtimetest.Environment(tpl, push, res, map[string]string{"NOT_DECLARED": "x"}); err == nil {
		t.Error("an override of an undeclared variable was accepted")
	}
	if _, err := runtimetest.Environment(tpl, push, runtimetest.Resources{}, nil); err == nil {
		t.Error("an unresolvable !Ref was accepted")
	}
}
