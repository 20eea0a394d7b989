package local

import (
	"context"
	"net/http"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/local/bridge"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// BridgePath is where the stack's relay bridge takes posts: a relay
// account whose webhook is <gateway>/_bridge/relay/<id> posts to it, as
// infra/local/accounts.json's demo-relay does.
const BridgePath = "/_bridge"

// newBridge is the relay bridge for the accounts file's relay accounts. It
// checks signatures but takes any timestamp: `qunyun invoke` runs a
// function on a sample's own clock against the running stack.
func newBridge(dir *accounts.Static, clk *stackClock) *bridge.Server {
	keys := map[string][]byte{}
	list, _ := dir.All(context.Background()) // a static directory cannot fail
	for _, a := range list {
		if a.Kind == qunyun.ChannelRelay && a.HMACKey != "" {
			keys[a.ID] = []byte(a.HMACKey)
		}
	}
	return &bridge.Server{Keys: keys, Now: clk.Now, AnyTime: true}
}

// Bridge is the relay bridge: what push posted to the relay groups.
func (s *Stack) Bridge() *bridge.Server { return s.bridge }

// bridgeRoutes serves the bridge's webhook under BridgePath and its
// developer endpoints: GET /_local/bridge lists what it took, POST
// /_local/bridge/reset forgets it.
func (s *Stack) bridgeRoutes(mux *http.ServeMux) {
	mux.Handle(BridgePath+"/", http.StripPrefix(BridgePath, s.bridge))
	mux.HandleFunc("GET /_local/bridge", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.bridge.Listing())
	})
	mux.HandleFunc("POST /_local/bridge/reset", func(w http.ResponseWriter, r *http.Request) {
		s.bridge.Reset()
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
