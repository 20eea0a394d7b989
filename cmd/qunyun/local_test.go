package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/local"
)

func TestLocalUpRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(broken, []byte("Resources:\n  Table: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free := []string{"--addr", "127.0.0.1:0", "--bus-addr", "127.0.0.1:0", "--dynamodb-addr", "127.0.0.1:0"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed template", []string{"--template", broken}, "is not valid YAML"},
		{"missing accounts file", []string{"--accounts", filepath.Join(dir, "nope.json")}, "accounts file"},
		{"port in use", []string{"--addr", busy.Addr().String()}, "address already in use"},
		{"bad clock start", []string{"--clock-start", "tomorrow"}, "want an RFC 3339 time"},
		{"bad clock speed", []string{"--clock-speed", "-2"}, "want a positive number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"local", "up"}, free...), tt.args...)
			_, _, err := run(t, "", args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestInvokeRunsTheBuiltFunction(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "stack.json")
	e := local.Endpoints{Gateway: "http://127.0.0.1:1", DynamoDB: "http://127.0.0.1:1", EventBus: "http://127.0.0.1:1",
		TableName: "t", EventBusName: "b", Region: local.Region, Stage: local.Stage, Accounts: "/a.json"}
	data, _ := json.Marshal(e)
	if err := os.WriteFile(state, data, 0o644); err != nil {
		t.Fatal(err)
	}
	echo := []string{"--package", "./internal/local/testdata/echo", "--stack", state}

	out, _, err := run(t, `{"echo:env":["TABLE_NAME","AWS_ENDPOINT_URL_DYNAMODB","QUNYUN_ACCOUNTS"]}`,
		append([]string{"invoke", "PushFunction", "-e", "-"}, echo...)...)
	if err != nil || strings.TrimSpace(out) != `{"AWS_ENDPOINT_URL_DYNAMODB":"http://127.0.0.1:1","QUNYUN_ACCOUNTS":"/a.json","TABLE_NAME":"t"}` {
		t.Fatalf("out %q err %v", out, err)
	}

	out, _, err = run(t, `{"echo:fail":"no such group"}`, append([]string{"invoke", "PushFunction", "-e", "-"}, echo...)...)
	if err == nil || !strings.Contains(err.Error(), "PushFunction failed: errorString: no such group") ||
		strings.TrimSpace(out) != `{"errorMessage":"no such group","errorType":"errorString"}` {
		t.Fatalf("function error: out %q err %v", out, err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"invoke", "NoSuchFunction"}, `no function "NoSuchFunction"`},
		{[]string{"invoke", "PushFunction", "-e", filepath.Join(dir, "missing.json")}, "event: open"},
	} {
		if _, _, err := run(t, "", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
	if _, _, err := run(t, "not json", append([]string{"invoke", "PushFunction", "-e", "-"}, echo...)...); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("bad event: err = %v", err)
	}
}

func TestDropMetrics(t *testing.T) {
	var out strings.Builder
	w := dropMetrics{&out}
	for _, line := range []string{
		`[PushFunction] {"level":"WARN","message":"send refused"}` + "\n",
		`[PushFunction] {"DeliveriesSent":1,"Stage":"local","_aws":{"CloudWatchMetrics":[{"Namespace":"Qunyun"}],"Timestamp":1}}` + "\n",
		"[dynalite] Dynalite listening\n",
	} {
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := out.String(); strings.Contains(got, "_aws") || !strings.Contains(got, "send refused") || !strings.Contains(got, "dynalite") {
		t.Errorf("console:\n%s", got)
	}
}
