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
