package bridge_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/wechat"
)

// The bridge keeps what is signed with its account's key, once per id, and
// refuses the rest, as a real bridge must; /_local/bridge lists it.
func TestBridgeKeepsSignedPosts(t *testing.T) {
	now := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	b := &bridge.Server{Keys: map[string][]byte{"relay": []byte("k")}, Now: func() time.Time { return now }}
	post := func(account, key, body string, at time.Time) int {
		ts := strconv.FormatInt(at.Unix(), 10)
		r := httptest.NewRequest(http.MethodPost, "/relay/"+account, strings.NewReader(body))
		r.Header.Set(wechat.RelayTimestampHeader, ts)
		r.Header.Set(wechat.RelaySignatureHeader, wechat.SignRelay([]byte(key), ts, []byte(body)))
		w := httptest.NewRecorder()
		b.ServeHTTP(w, r)
		return w.Code
	}
	msg := `{"id":"d1","type":"message","group_id":"g-fan","kind":"link","text":"本周好物","url":"https://cb.example/r/abc"}`
	for _, c := range []struct {
		name, account, key, body string
		at                       time.Time
		want                     int
	}{
		{"signed", "relay", "k", msg, now, http.StatusOK},
		{"a retry", "relay", "k", msg, now, http.StatusOK},
		{"badly signed", "relay", "wrong", msg, now, http.StatusUnauthorized},
		{"stale timestamp", "relay", "k", msg, now.Add(-10 * time.Minute), http.StatusUnauthorized},
		{"unknown account", "other", "k", msg, now, http.StatusNotFound},
		{"no id", "relay", "k", `{"type":"message","group_id":"g-fan","text":"x"}`, now, http.StatusBadRequest},
	} {
		if got := post(c.account, c.key, c.body, c.at); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	got := b.Posts()
	if len(got) != 1 || got[0].GroupID != "g-fan" || got[0].URL != "https://cb.example/r/abc" || got[0].Account != "relay" ||
		!got[0].ReceivedAt.Equal(now) || string(got[0].Body) != msg {
		t.Fatalf("posts = %+v", got)
	}

	b.AnyTime = true
	if got := post("relay", "k", strings.Replace(msg, "d1", "d2", 1), now.Add(-24*time.Hour)); got != http.StatusOK {
		t.Errorf("AnyTime: a day-old timestamp answered %d", got)
	}
	if got := post("relay", "wrong", strings.Replace(msg, "d1", "d3", 1), now); got != http.StatusUnauthorized {
		t.Errorf("AnyTime: a bad signature answered %d", got)
	}
	if l := b.Listing(); len(l.Posts) != 2 || l.Repeats != 1 {
		t.Fatalf("listing %+v, want one post and one repeat", l)
	}
	b.Reset()
	if l := b.Listing(); len(l.Posts) != 0 || l.Repeats != 0 || l.Posts == nil {
		t.Fatalf("after reset: %+v, want an empty list", l)
	}
}
