package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// accountsFile writes a demo-like accounts file for commands that need one.
func accountsFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "accounts.json")
	const aes = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	body := `[
 {"id":"demo-relay","kind":"relay","hmacKey":"s"},
 {"id":"demo-oa","kind":"oa","appId":"wx1","token":"t","encodingAESKey":"` + aes + `"}
]`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadBadFlags(t *testing.T) {
	acc := accountsFile(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mix", "sms=1"}, "--mix"},
		{[]string{"--rate", "0"}, "--rate"},
		{[]string{"--dup", "1"}, "--dup"},
		{[]string{"--addr", "nowhere"}, "--addr"},
		{[]string{"--accounts", filepath.Join(t.TempDir(), "missing.json")}, "--accounts"},
	} {
		args := append([]string{"load", "--stack", "no-stack.json", "--accounts", acc, "--addr", "127.0.0.1:1"}, tc.args...)
		_, _, err := run(t, "", args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("load %v: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}

func TestLoadUnreachableStack(t *testing.T) {
	_, _, err := run(t, "", "load", "--stack", "no-stack.json", "--accounts", accountsFile(t), "--addr", "127.0.0.1:1", "--duration", "1s")
	if err == nil || !strings.Contains(err.Error(), "no stack answers at http://127.0.0.1:1") {
		t.Errorf("error %v, want a clear 'no stack answers'", err)
	}
}
