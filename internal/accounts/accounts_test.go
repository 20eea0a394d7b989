package accounts_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/qunyun/qunyun/internal/accounts"
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

func (f *fakeSSM) GetParametersByPath(_ context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	f.calls++
	if !aws.ToBool(in.WithDecryption) {
		panic("must decrypt SecureStrings")
	}
	return &ssm.GetParametersByPathOutput{Parameters: []types.Parameter{
		{Name: aws.String(aws.ToString(in.Path) + "r1"), Value: aws.String(`{"id":"r1","kind":"relay","hmacKey":"k"}`)},
	}}, nil
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
