package accounts_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/paramstore"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// paramSSM serves each line of its text as one account parameter.
type paramSSM struct{ lines []string }

func (p paramSSM) ParametersByPath(_ context.Context, path string) ([]paramstore.Parameter, error) {
	var out []paramstore.Parameter
	for i, l := range p.lines {
		out = append(out, paramstore.Parameter{Name: path + string(rune('a'+i)), Value: l})
	}
	return out, nil
}

// FuzzAccounts loads fuzzed accounts JSON (seeded with
// infra/local/accounts.json) as the local file and as SSM parameters (one
// a line). A file is accepted only when it is one JSON value; what either
// accepts lists every account once, sorted by id, each valid for its kind,
// each found by its id, and written back as a file it loads the same.
func FuzzAccounts(f *testing.F) {
	demo, err := os.ReadFile("../../infra/local/accounts.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	f.Add([]byte(`[{"id":"r","kind":"relay","hmacKey":"k"}]` + "\n" + `{"id":"oa1","kind":"oa","appId":"wx1","token":"t"}`))
	f.Add([]byte(`[{"id":"r","kind":"relay","hmacKey":"k","hmac":"x"}]`))
	ctx := context.Background()
	path := filepath.Join(f.TempDir(), "accounts.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if st, err := accounts.LoadFile(path); err == nil {
			if !json.Valid(data) {
				t.Fatalf("accepted %q, which is not one JSON value", data)
			}
			list := checkDirectory(t, st)
			back, _ := json.Marshal(list)
			if err := os.WriteFile(path, back, 0o600); err != nil {
				t.Fatal(err)
			}
			again, err := accounts.LoadFile(path)
			if err != nil {
				t.Fatalf("written back as %s: %v", back, err)
			}
			if list2, _ := again.All(ctx); !reflect.DeepEqual(list, list2) {
				t.Fatalf("written back as %s, loads as %+v", back, list2)
			}
		}
		dir := &accounts.SSM{Client: paramSSM{strings.Split(string(data), "\n")}, Prefix: "/qunyun/test/accounts/", Now: func() time.Time { return time.Unix(0, 0) }}
		if _, err := dir.All(ctx); err == nil {
			checkDirectory(t, dir)
		}
	})
}

// checkDirectory checks what a directory accepted and returns its list.
func checkDirectory(t *testing.T, dir accounts.Directory) []qunyun.Account {
	t.Helper()
	list, err := dir.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range list {
		if err := a.Validate(); err != nil || i > 0 && list[i-1].ID >= a.ID {
			t.Fatalf("accepted %+v (%v)", list, err)
		}
		if got, err := dir.Account(context.Background(), a.ID); err != nil || !reflect.DeepEqual(got, a) {
			t.Fatalf("account %q: %+v, %v", a.ID, got, err)
		}
	}
	return list
}
