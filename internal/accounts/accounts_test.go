package accounts_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/paramstore"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`[{"id":"oa1","kind":"oa","appId":"wx1","token":"t"},{"id":"r","kind":"relay","hmacKey":"k"}]`), 0o600)
	s, err := accounts.LoadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Account(context.Background(), "oa1")
	if err != nil || a.AppID != "wx1" || a.ReceiveID() != "wx1" {
		t.Fatalf("oa1 = %+v, %v", a, err)
	}
	if _, err := s.Account(context.Background(), "nope"); qunyun.ErrorCode(err) != qunyun.ENOTFOUND {
		t.Fatalf("unknown: %v", err)
	}

	for name, body := range map[string]string{
		"not an array":  `{"id":"x"}`,
		"missing token": `[{"id":"oa1","kind":"oa","appId":"wx"}]`,
		"bad kind":      `[{"id":"x","kind":"sms"}]`,
		"duplicate":     `[{"id":"r","kind":"relay","hmacKey":"k"},{"id":"r","kind":"relay","hmacKey":"k"}]`,
		"unknown field": `[{"id":"r","kind":"relay","hmacKey":"k","hmac":"x"}]`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := accounts.LoadFile(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := accounts.LoadFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

type fakeSSM struct{ calls int }

func (f *fakeSSM) ParametersByPath(_ context.Context, path string) ([]paramstore.Parameter, error) {
	f.calls++
	return []paramstore.Parameter{{Name: path + "r1", Value: `{"id":"r1","kind":"relay","hmacKey":"k"}`}}, nil
}

func TestSSMCaches(t *testing.T) {
	f := &fakeSSM{}
	s := &accounts.SSM{Client: f, Prefix: "/qunyun/dev/accounts/"}
	for i := 0; i < 3; i++ {
		if _, err := s.Account(context.Background(), "r1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Account(context.Background(), "unknown"); qunyun.ErrorCode(err) != qunyun.ENOTFOUND {
		t.Fatalf("unknown: %v", err)
	}
	if f.calls != 1 {
		t.Fatalf("SSM calls = %d, want 1 (cached)", f.calls)
	}
}

// An account whose EncodingAESKey cannot be a key is refused at load,
// naming the account (not the key): otherwise it loads and then answers 500
// on every callback.
func TestMalformedAESKeyRefusedAtLoad(t *testing.T) {
	good := "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	for name, key := range map[string]string{
		"42 characters":  good[:42],
		"44 characters":  good + "H",
		"not base64":     "abcdefghijklmnopqrstuvwxyz0123456789ABCD!!!",
		"padding inside": "abcdefghijklmnopqrstuvwxyz0123456789ABCD==A",
	} {
		for _, kind := range []qunyun.Channel{qunyun.ChannelOA, qunyun.ChannelWeCom, qunyun.ChannelWeComBot} {
			a := qunyun.Account{ID: "acct-" + string(kind), Kind: kind, AppID: "wx1", CorpID: "ww1", Token: "t", EncodingAESKey: key}
			_, err := accounts.NewStatic([]qunyun.Account{a})
			if err == nil {
				t.Errorf("%s, %s: loaded", name, kind)
				continue
			}
			if !strings.Contains(err.Error(), a.ID) || strings.Contains(err.Error(), key) {
				t.Errorf("%s, %s: %q should name the account and not show the key", name, kind, err)
			}
		}
	}
	// The file and SSM loaders go through the same check.
	p := filepath.Join(t.TempDir(), "a.json")
	os.WriteFile(p, []byte(`[{"id":"oa1","kind":"oa","appId":"wx1","token":"t","encodingAESKey":"`+good[:42]+`"}]`), 0o600)
	if _, err := accounts.LoadFile(p); err == nil || !strings.Contains(err.Error(), "oa1") {
		t.Errorf("LoadFile: %v", err)
	}
	// A well-formed key, and no key (an OA in plaintext mode), load.
	if _, err := accounts.NewStatic([]qunyun.Account{
		{ID: "safe", Kind: qunyun.ChannelOA, AppID: "wx1", Token: "t", EncodingAESKey: good},
		{ID: "plain", Kind: qunyun.ChannelOA, AppID: "wx1", Token: "t"},
	}); err != nil {
		t.Fatal(err)
	}
}

// pathSSM serves parameters by path and records the paths asked for.
type pathSSM struct {
	params map[string]map[string]string // path → name → value
	asked  []string
}

func (f *pathSSM) ParametersByPath(_ context.Context, p string) ([]paramstore.Parameter, error) {
	f.asked = append(f.asked, p)
	var out []paramstore.Parameter
	for name, v := range f.params[p] {
		out = append(out, paramstore.Parameter{Name: p + name, Value: v})
	}
	return out, nil
}

const (
	inbound = "/qunyun/dev/accounts/"
	sending = "/qunyun/dev/sending/"
)

// The split layout (issue #14): a sender gets each account's secret and
// webhook from its sending half; a directory without a sending prefix (the
// callback) never asks for that path and holds neither.
func TestSSMSendingHalf(t *testing.T) {
	f := &pathSSM{params: map[string]map[string]string{
		inbound: {
			"oa1": `{"id":"oa1","kind":"oa","appId":"wx1","token":"t","encodingAESKey":"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}`,
			"bot": `{"id":"bot","kind":"wecom-bot","token":"t","encodingAESKey":"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}`,
		},
		sending: {
			"oa1": `{"secret":"s3cret"}`,
			"bot": `{"webhooks":{"kitchen":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}}`,
			// A stray parameter (a renamed account's) is skipped, not fatal.
			"gone": `{"secret":"old"}`,
		},
	}}
	sender := &accounts.SSM{Client: f, Prefix: inbound, SendingPrefix: sending}
	oa, err := sender.Account(context.Background(), "oa1")
	if err != nil || oa.Secret != "s3cret" || oa.Token != "t" {
		t.Fatalf("sender's oa1 = %+v, %v", oa, err)
	}
	if bot, _ := sender.Account(context.Background(), "bot"); bot.Webhooks["kitchen"] == "" {
		t.Errorf("sender's bot has no kitchen robot: %v", bot.Webhooks)
	}

	f.asked = nil
	receiver := &accounts.SSM{Client: f, Prefix: inbound}
	all, err := receiver.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.Secret != "" || a.Webhook != "" || a.Webhooks != nil {
			t.Errorf("receiver holds %s's sending half", a.ID)
		}
	}
	if len(f.asked) != 1 || f.asked[0] != inbound {
		t.Errorf("receiver asked SSM for %v, want only %s", f.asked, inbound)
	}
}

// The layout before the split keeps working for senders, so a deploy does
// not stop sending before the operator moves the secrets; a receiver drops
// them and the load warns.
func TestSSMLegacyLayout(t *testing.T) {
	f := &pathSSM{params: map[string]map[string]string{
		inbound: {"oa1": `{"id":"oa1","kind":"oa","appId":"wx1","token":"t","secret":"s3cret"}`},
	}}
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	sender := &accounts.SSM{Client: f, Prefix: inbound, SendingPrefix: sending, Log: log}
	if a, err := sender.Account(context.Background(), "oa1"); err != nil || a.Secret != "s3cret" {
		t.Fatalf("sender's oa1 = %+v, %v", a, err)
	}
	receiver := &accounts.SSM{Client: f, Prefix: inbound, Log: log}
	if a, err := receiver.Account(context.Background(), "oa1"); err != nil || a.Secret != "" {
		t.Fatalf("receiver's oa1 = %+v, %v", a, err)
	}
	if !strings.Contains(logs.String(), "parameter=/qunyun/dev/accounts/oa1") || strings.Contains(logs.String(), "s3cret") {
		t.Errorf("warning should name the parameter and never the secret:\n%s", logs.String())
	}
}

func TestSSMSendingHalfErrors(t *testing.T) {
	for name, value := range map[string]string{
		"unknown field": `{"secret":"s","token":"t"}`,
		"not JSON":      `s3cret`,
	} {
		t.Run(name, func(t *testing.T) {
			id := "oa1"
			f := &pathSSM{params: map[string]map[string]string{
				inbound: {"oa1": `{"id":"oa1","kind":"oa","appId":"wx1","token":"t"}`},
				sending: {id: value},
			}}
			s := &accounts.SSM{Client: f, Prefix: inbound, SendingPrefix: sending}
			_, err := s.All(context.Background())
			if err == nil || !strings.Contains(err.Error(), sending+id) {
				t.Fatalf("err = %v, want one naming %s", err, sending+id)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
}

// The local file holds whole accounts; a function without a sending prefix
// gets them without their sending half, as in AWS.
func TestFromEnvFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "accounts.json")
	os.WriteFile(file, []byte(`[{"id":"oa1","kind":"oa","appId":"wx1","token":"t","secret":"s3cret"}]`), 0o600)
	for _, tt := range []struct {
		sending    string
		wantSecret string
	}{{"", ""}, {sending, "s3cret"}} {
		env := map[string]string{"QUNYUN_ACCOUNTS": file, "ACCOUNTS_SENDING_SSM_PREFIX": tt.sending}
		dir, err := accounts.FromEnv(func(k string) string { return env[k] }, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := dir.Account(context.Background(), "oa1"); a.Secret != tt.wantSecret {
			t.Errorf("sending prefix %q: secret %q, want %q", tt.sending, a.Secret, tt.wantSecret)
		}
	}
	env := map[string]string{"QUNYUN_ACCOUNTS": filepath.Join(t.TempDir(), "missing.json")}
	if dir, err := accounts.FromEnv(func(k string) string { return env[k] }, nil); err == nil || dir != nil {
		t.Errorf("missing file: %v, %v", dir, err)
	}
}
