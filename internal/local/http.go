package local

import (
	"encoding/json"
	"net/http"
)

// mux serves the developer endpoints, the sandbox and the gateway.
func (s *Stack) mux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.ready:
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		default:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		}
	})
	mux.Handle("GET /_local/bus", s.bus.DeliveriesHandler())
	mux.HandleFunc("GET /_local/invocations", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"invocations": s.Invocations()})
	})
	mux.HandleFunc("GET /_local/inflight", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.InFlight())
	})
	mux.HandleFunc("GET /_local/capacity", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Capacity())
	})
	mux.HandleFunc("GET /_local/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"endpoints": s.Endpoints(), "developer": []string{
			"/healthz", "/_local/bus", "/_local/invocations", "/_local/inflight", "/_local/capacity", "/_local/sandbox/calls", "/_local/sandbox/tasks",
			"/_local/sandbox/fail", "/_local/sandbox/confirm", "/_local/sandbox/reset", "/_local/bridge", "/_local/bridge/reset"}})
	})
	mux.Handle("/_local/sandbox/", http.StripPrefix("/_local/sandbox", s.sandbox.Control()))
	s.bridgeRoutes(mux)
	mux.Handle("/_sandbox/oa/", http.StripPrefix("/_sandbox/oa", s.sandbox.OA()))
	mux.Handle("/_sandbox/wecom/", http.StripPrefix("/_sandbox/wecom", s.sandbox.WeCom()))
	mux.Handle("/", s.whenReady(s.gateway))
	return mux
}

// whenReady answers 503, as an overloaded AWS endpoint would, until the
// stack is up.
func (s *Stack) whenReady(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.ready:
			h.ServeHTTP(w, r)
		default:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "Service Unavailable"})
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
