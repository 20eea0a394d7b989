package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// token is an issued access token: the app it belongs to and its expiry.
type token struct {
	app     string
	expires time.Time
}

func newToken() string {
	b := make([]byte, 48)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// issue gives app a new token; old ones stay valid for overlap.
func (s *Server) issue(app string, overlap time.Duration) string {
	now := s.clk.Now()
	if old, ok := s.current[app]; ok {
		if t := s.tokens[old]; t.expires.After(now.Add(overlap)) {
			t.expires = now.Add(overlap)
			s.tokens[old] = t
		}
	}
	tok := newToken()
	s.tokens[tok] = token{app: app, expires: now.Add(tokenLifetime)}
	s.current[app] = tok
	return tok
}

func (s *Server) tokenAnswer(tok string) map[string]any {
	return map[string]any{"access_token": tok, "expires_in": int(s.tokens[tok].expires.Sub(s.clk.Now()).Seconds())}
}

// /cgi-bin/token: always a new token (the old one lives 5 more minutes).
func (s *Server) oaToken(req request) (map[string]any, int) {
	q := req.r.URL.Query()
	if q.Get("appid") == "" || q.Get("secret") == "" {
		return nil, codeInvalidCredential
	}
	return s.tokenAnswer(s.issue("oa:"+q.Get("appid"), tokenOverlap)), 0
}

// /cgi-bin/stable_token: the same token while it has more than 5 minutes
// left, unless force_refresh.
func (s *Server) stableToken(req request) (map[string]any, int) {
	var in struct {
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if json.Unmarshal(req.body, &in) != nil || in.AppID == "" || in.Secret == "" {
		return nil, codeInvalidCredential
	}
	app := "oa:" + in.AppID
	if cur, ok := s.current[app]; ok && !in.ForceRefresh && s.tokens[cur].expires.After(s.clk.Now().Add(tokenOverlap)) {
		return s.tokenAnswer(cur), 0
	}
	overlap := tokenOverlap
	if in.ForceRefresh {
		overlap = 0 // a forced refresh ends the old token at once
	}
	return s.tokenAnswer(s.issue(app, overlap)), 0
}

// /cgi-bin/gettoken: WeCom returns the valid token until it expires.
func (s *Server) getToken(req request) (map[string]any, int) {
	q := req.r.URL.Query()
	if q.Get("corpid") == "" || q.Get("corpsecret") == "" {
		return nil, codeInvalidCredential
	}
	// WeCom issues one token per secret; the app is named by a digest of it,
	// so the recorded calls (/_local/sandbox/calls) never show the secret.
	digest := sha256.Sum256([]byte(q.Get("corpsecret")))
	app := "wecom:" + q.Get("corpid") + ":" + hex.EncodeToString(digest[:4])
	if cur, ok := s.current[app]; ok && s.tokens[cur].expires.After(s.clk.Now()) {
		return s.tokenAnswer(cur), 0
	}
	return s.tokenAnswer(s.issue(app, 0)), 0
}

// Invalidate ends every token of every app now (simulates a refresh
// elsewhere or a platform reset): the next call gets 40001... via 42001.
func (s *Server) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.tokens {
		delete(s.tokens, k)
	}
}
