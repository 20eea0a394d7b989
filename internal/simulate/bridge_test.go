package simulate

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/wechat"
)

// The bridge keeps what is signed with its account's key and refuses the
// rest, as a real bridge must.
func TestBridgeKeepsSignedPosts(t *testing.T) {
	now := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	b := &Bridge{Keys: map[string][]byte{"relay": []byte("k")}, Now: func() time.Time { return now }}
	post := func(account, key, body string) int {
		ts := strconv.FormatInt(now.Unix(), 10)
		r := httptest.NewRequest(http.MethodPost, "/relay/"+account, strings.NewReader(body))
		r.Header.Set(wechat.RelayTimestampHeader, ts)
		r.Header.Set(wechat.RelaySignatureHeader, wechat.SignRelay([]byte(key), ts, []byte(body)))
		w := httptest.NewRecorder()
		b.ServeHTTP(w, r)
		return w.Code
	}
	msg := `{"id":"d1","type":"message","group_id":"g-fan","kind":"link","text":"本周好物","url":"https://cb.example/r/abc"}`
	if code := post("relay", "k", msg); code != http.StatusOK {
		t.Fatalf("signed post: %d", code)
	}
	if code := post("relay", "wrong", msg); code != http.StatusUnauthorized {
		t.Fatalf("badly signed post: %d, want 401", code)
	}
	if code := post("other", "k", msg); code != http.StatusNotFound {
		t.Fatalf("unknown account: %d, want 404", code)
	}
	got := b.Posts()
	if len(got) != 1 || got[0].GroupID != "g-fan" || got[0].URL != "https://cb.example/r/abc" {
		t.Fatalf("posts = %+v", got)
	}
}

// A task's random choices (does its owner confirm, when) must not depend on
// the free port the simulation's stack listens on, which its tracked links
// carry: with it in the key, one seed gave 0 or 15 link opens.
func TestTaskKeyIgnoresTheStackAddress(t *testing.T) {
	body := func(base string) []byte {
		return []byte(`{"attachments":[{"link":{"title":"会员专享","url":"` + base + `/r/xrvfc74aqfepbdmp"}}],"chat_id_list":["g-vip-1"]}`)
	}
	a := taskKey("http://127.0.0.1:42149", []string{"g-vip-1"}, body("http://127.0.0.1:42149"))
	b := taskKey("http://127.0.0.1:35499", []string{"g-vip-1"}, body("http://127.0.0.1:35499"))
	if a != b {
		t.Errorf("keys differ with the port:\n%s\n%s", a, b)
	}
	if c := taskKey("http://127.0.0.1:35499", []string{"g-vip-1"}, []byte(strings.Replace(string(body("http://127.0.0.1:35499")), "xrvfc", "abcde", 1))); c == b {
		t.Error("tasks with different links got the same key")
	}
}
