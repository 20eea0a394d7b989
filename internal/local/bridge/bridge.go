// Package bridge is a stand-in for a relay bridge (docs/relay-protocol.md)
// for the local stack and tests: it takes what Qunyun posts to a relay
// account's webhook (POST /relay/{account}), checks the signature and its
// timestamp as a real bridge must, and keeps every post in memory, so the
// stack can list what its relay groups would have seen (/_local/bridge).
//
// It plays only the bridge's receiving half: what a bridge posts to Qunyun
// (the group chat) comes from the demo or the simulation. It keeps what it
// is sent and delivers it nowhere, and must never be mounted in a deployed
// function.
package bridge

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/wechat"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// maxBody is the protocol's limit on a body, either way.
const maxBody = 1 << 20

// Post is one message Qunyun posted to a relay group through the bridge.
type Post struct {
	Account    string    `json:"account"`
	ReceivedAt time.Time `json:"receivedAt"` // on the stack's clock
	ID         string    `json:"id"`         // the delivery id: a bridge posts it at most once
	GroupID    string    `json:"groupId"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	URL        string    `json:"url,omitempty"`
	// Body is the request body as signed, with whatever fields a newer
	// Qunyun sends beyond the ones above.
	Body json.RawMessage `json:"body"`
}

// Server is the bridge. Its zero value refuses every post: set Keys.
type Server struct {
	Keys map[string][]byte // HMAC key by relay account id
	Now  func() time.Time  // the stack's clock: timestamps are checked against it
	// AnyTime checks the signature but not how far its timestamp is from
	// Now: the local stack's bridge takes what `qunyun invoke` replays on a
	// sample's own clock, as its API sandbox does.
	AnyTime bool

	mu      sync.Mutex
	posts   []Post
	ids     map[string]bool // account/id received
	repeats int             // posts of an id already received
}

// ServeHTTP takes one post at /relay/{account}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	account, ok := strings.CutPrefix(r.URL.Path, "/relay/")
	key := s.Keys[account]
	if !ok || r.Method != http.MethodPost || key == nil {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxBody {
		http.Error(w, "body larger than 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	ts, now := r.Header.Get(wechat.RelayTimestampHeader), s.Now()
	if sec, err := strconv.ParseInt(ts, 10, 64); err == nil && s.AnyTime {
		now = time.Unix(sec, 0)
	}
	if err := wechat.VerifyRelay(key, ts, r.Header.Get(wechat.RelaySignatureHeader), body, now); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var m wechatapi.RelayMessage
	if err := json.Unmarshal(body, &m); err != nil || m.ID == "" || m.GroupID == "" {
		http.Error(w, "want a JSON message with an id and a group_id", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[string]bool{}
	}
	// A retry of a post already taken is answered as taken, and not
	// posted to the group again: the id is the bridge's idempotency key.
	if k := account + "/" + m.ID; s.ids[k] {
		s.repeats++
	} else {
		s.ids[k] = true
		s.posts = append(s.posts, Post{Account: account, ReceivedAt: s.Now(), ID: m.ID, GroupID: m.GroupID,
			Kind: m.Kind, Text: m.Text, URL: m.URL, Body: body})
	}
	w.WriteHeader(http.StatusOK)
}

// Posts returns the posts taken so far, oldest first.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Listing is what GET /_local/bridge answers.
type Listing struct {
	Posts []Post `json:"posts"`
	// Repeats counts posts of an id the bridge had already taken (retries):
	// none reached a group twice.
	Repeats int `json:"repeats"`
}

// Listing returns every post taken and the count of repeats.
func (s *Server) Listing() Listing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Listing{Posts: append([]Post{}, s.posts...), Repeats: s.repeats}
}

// Reset forgets every post.
func (s *Server) Reset() {
	s.mu.Lock()
	s.posts, s.ids, s.repeats = nil, nil, 0
	s.mu.Unlock()
}
