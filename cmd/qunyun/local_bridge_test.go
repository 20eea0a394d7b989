package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/wechat"
)

// `local bridge` lists what a running stack's bridge took, as a table and
// as --json in the CLI's style.
func TestLocalBridge(t *testing.T) {
	at := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	b := &bridge.Server{Keys: map[string][]byte{"demo-relay": []byte("k")}, Now: func() time.Time { return at }}
	body := `{"id":"p-lunch|slot|g-fan","type":"send","group_id":"g-fan","kind":"text","text":"午饭时间快到啦","time":1763866800}`
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, "/relay/demo-relay", strings.NewReader(body))
	r.Header.Set(wechat.RelayTimestampHeader, ts)
	r.Header.Set(wechat.RelaySignatureHeader, wechat.SignRelay([]byte("k"), ts, []byte(body)))
	b.ServeHTTP(httptest.NewRecorder(), r)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_local/bridge" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(b.Listing())
	}))
	defer srv.Close()
	state := filepath.Join(t.TempDir(), "stack.json")
	if err := os.WriteFile(state, []byte(`{"gateway":"`+srv.URL+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	out, _, err := run(t, "", "local", "bridge", "--stack", state)
	if err != nil || !strings.Contains(out, "2026-11-23 11:00:00  g-fan  text  午饭时间快到啦") {
		t.Errorf("local bridge: %v\n%s", err, out)
	}
	out, _, err = run(t, "", "local", "bridge", "--stack", state, "--json")
	if err != nil {
		t.Fatal(err)
	}
	list, _ := checkStyle(t, "local bridge", out).([]any)
	if len(list) != 1 {
		t.Fatalf("local bridge --json: %s", out)
	}
	hasKeys(t, "local bridge", list[0], "account", "receivedAt", "id", "groupId", "kind", "text")

	if _, _, err := run(t, "", "local", "bridge", "--stack", filepath.Join(t.TempDir(), "none.json")); err == nil ||
		!strings.Contains(err.Error(), "make run") {
		t.Errorf("no stack: %v, want a hint to start one", err)
	}
}
