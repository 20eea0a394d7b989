package simulate

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/wechat"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// Bridge plays the relay bridge of the simulated community's relay
// accounts: it takes what Qunyun posts to an account's webhook
// (POST /relay/{account}), checks the signature as a bridge must, and
// keeps the messages, so relay groups receive their pushes and members
// open the links in them. The demo accounts file has no bridge, so
// without it every push to a relay group fails with "no webhook".
type Bridge struct {
	Keys map[string][]byte // HMAC key by relay account id
	Now  func() time.Time  // the stack's clock: the signature's timestamp is checked against it

	mu    sync.Mutex
	posts []wechatapi.RelayMessage
}

// ServeHTTP takes one post.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/relay/")
	key := b.Keys[id]
	if !ok || r.Method != http.MethodPost || key == nil {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := wechat.VerifyRelay(key, r.Header.Get(wechat.RelayTimestampHeader), r.Header.Get(wechat.RelaySignatureHeader), body, b.Now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var m wechatapi.RelayMessage
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.posts = append(b.posts, m)
	b.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Posts returns the messages posted so far, oldest first.
func (b *Bridge) Posts() []wechatapi.RelayMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]wechatapi.RelayMessage(nil), b.posts...)
}
