// Package sandbox is a stand-in for the WeChat Official Account and WeCom
// HTTP APIs, for tests and the local stack: it serves the real paths, issues
// access tokens with expires_in on an injected clock, answers with real
// errcodes (40001/42001 for bad tokens, 45009 over the robot's 20 a minute,
// anything else on demand), records every call, and plays the group owner who
// confirms a customer-group task.
//
// It keeps everything in memory and must never be mounted in a deployed
// function: it accepts any secret.
package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
)

// Errcodes the sandbox answers with.
const (
	codeInvalidCredential = 40001
	codeTokenExpired      = 42001
	codeFreqLimit         = 45009
	codeInvalidParam      = 40058
	// codeRemindLimit answers a 4th reminder within 24 h. The real code is
	// not documented (reference §4.6); push never gets there.
	codeRemindLimit = 41063
	tokenLifetime   = 7200 * time.Second
	// Old tokens stay valid 5 minutes after /cgi-bin/token issues a new one.
	tokenOverlap = 5 * time.Minute
	robotPerMin  = 20
)

// Call is one recorded request.
type Call struct {
	At      time.Time       `json:"at"`
	API     string          `json:"api"` // "oa" or "wecom"
	Path    string          `json:"path"`
	App     string          `json:"app,omitempty"` // appid / corpid the token belongs to
	Body    json.RawMessage `json:"body,omitempty"`
	ErrCode int             `json:"errcode"`
}

// Task is a customer-group (or customer) mass-message task.
type Task struct {
	MsgID     string    `json:"msgid"`
	Sender    string    `json:"sender"`
	ChatIDs   []string  `json:"chatIds,omitempty"`
	Customers []string  `json:"customers,omitempty"`
	Created   time.Time `json:"created"`
	SentAt    time.Time `json:"sentAt,omitzero"`
	Cancelled bool      `json:"cancelled,omitempty"`
	Reminds   []time.Time
	Body      json.RawMessage `json:"body"`
}

// Comment is an OA article comment (for the contest APIs).
type Comment struct {
	UserCommentID int64  `json:"user_comment_id"`
	OpenID        string `json:"openid"`
	CreateTime    int64  `json:"create_time"`
	Content       string `json:"content"`
	CommentType   int    `json:"comment_type"` // 0 normal, 1 elected
	Reply         *struct {
		Content    string `json:"content"`
		CreateTime int64  `json:"create_time"`
	} `json:"reply,omitempty"`
}

type token struct {
	app     string
	expires time.Time
}

// Server is the sandbox. Create it with New.
type Server struct {
	clk clock.Clock

	mu       sync.Mutex
	tokens   map[string]token  // token → owner and expiry
	current  map[string]string // app → its newest token
	calls    []Call
	fails    map[string][]int // path → errcodes for the next calls
	tasks    map[string]*Task
	taskSeq  int
	robot    map[string][]time.Time // key → sends in the last minute
	comments map[string][]*Comment  // msg_data_id#index → comments
	msgSeq   int64
}

// New returns an empty sandbox on clk.
func New(clk clock.Clock) *Server {
	s := &Server{clk: clk}
	s.reset()
	return s
}

func (s *Server) reset() {
	s.tokens = map[string]token{}
	s.current = map[string]string{}
	s.calls = nil
	s.fails = map[string][]int{}
	s.tasks = map[string]*Task{}
	s.robot = map[string][]time.Time{}
	s.comments = map[string][]*Comment{}
}

// Reset forgets everything.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
}

// Fail makes the next n calls to path answer errcode.
func (s *Server) Fail(path string, errcode, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails[path] = append(s.fails[path], errcode)
	}
}

// Calls returns the recorded calls, oldest first; with a path, only those.
func (s *Server) Calls(path ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(path) == 0 || c.Path == path[0] {
			out = append(out, c)
		}
	}
	return out
}

// Confirm plays the owner who confirms task msgid in WeCom: from now on
// get_groupmsg_send_result reports it sent. It reports whether the task
// exists and could be confirmed (not cancelled).
func (s *Server) Confirm(msgID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[msgID]
	if t == nil || t.Cancelled {
		return false
	}
	if t.SentAt.IsZero() {
		t.SentAt = s.clk.Now()
	}
	return true
}

// Tasks returns the tasks created so far, by msgid.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Task, 0, len(s.tasks))
	for _, t := range s.tasks {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MsgID < out[j].MsgID })
	return out
}

// AddComment adds a comment under an article (msg_data_id, index).
func (s *Server) AddComment(msgDataID string, index int, openID, content string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := msgDataID + "#" + strconv.Itoa(index)
	id := int64(len(s.comments[key]) + 1)
	s.comments[key] = append(s.comments[key], &Comment{UserCommentID: id, OpenID: openID, CreateTime: s.clk.Now().Unix(), Content: content})
	return id
}

// OA serves the Official Account API at its root.
func (s *Server) OA() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/token", s.handle("oa", false, s.oaToken))
	mux.HandleFunc("/cgi-bin/stable_token", s.handle("oa", false, s.stableToken))
	mux.HandleFunc("/cgi-bin/message/custom/send", s.handle("oa", true, s.ok))
	mux.HandleFunc("/cgi-bin/message/template/send", s.handle("oa", true, s.templateSend))
	mux.HandleFunc("/cgi-bin/comment/list", s.handle("oa", true, s.commentList))
	mux.HandleFunc("/cgi-bin/comment/markelect", s.handle("oa", true, s.commentMark))
	mux.HandleFunc("/cgi-bin/comment/reply/add", s.handle("oa", true, s.commentReply))
	return mux
}

// WeCom serves the WeCom API (and the group-robot webhook) at its root.
func (s *Server) WeCom() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/gettoken", s.handle("wecom", false, s.getToken))
	mux.HandleFunc("/cgi-bin/externalcontact/add_msg_template", s.handle("wecom", true, s.addMsgTemplate))
	mux.HandleFunc("/cgi-bin/externalcontact/get_groupmsg_send_result", s.handle("wecom", true, s.sendResult))
	mux.HandleFunc("/cgi-bin/externalcontact/remind_groupmsg_send", s.handle("wecom", true, s.remind))
	mux.HandleFunc("/cgi-bin/externalcontact/cancel_groupmsg_send", s.handle("wecom", true, s.cancel))
	mux.HandleFunc("/cgi-bin/appchat/send", s.handle("wecom", true, s.ok))
	mux.HandleFunc("/cgi-bin/message/send", s.handle("wecom", true, s.messageSend))
	mux.HandleFunc("/cgi-bin/webhook/send", s.handle("wecom", false, s.webhook))
	return mux
}

// Control serves the developer endpoints: GET /calls[?path=], POST /fail
// {"path","errcode","n"}, POST /confirm {"msgid"}, GET /tasks, POST /reset.
func (s *Server) Control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /calls", func(w http.ResponseWriter, r *http.Request) {
		var calls []Call
		if p := r.URL.Query().Get("path"); p != "" {
			calls = s.Calls(p)
		} else {
			calls = s.Calls()
		}
		writeJSON(w, calls)
	})
	mux.HandleFunc("GET /tasks", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, s.Tasks()) })
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Path    string `json:"path"`
			ErrCode int    `json:"errcode"`
			N       int    `json:"n"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Path == "" || in.ErrCode == 0 || in.N <= 0 {
			http.Error(w, `want {"path":"/cgi-bin/...","errcode":45009,"n":1}`, http.StatusBadRequest)
			return
		}
		s.Fail(in.Path, in.ErrCode, in.N)
		writeJSON(w, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /confirm", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			MsgID string `json:"msgid"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.MsgID == "" {
			http.Error(w, `want {"msgid":"..."}`, http.StatusBadRequest)
			return
		}
		if !s.Confirm(in.MsgID) {
			http.Error(w, "no such open task", http.StatusNotFound)
			return
		}
		writeJSON(w, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		writeJSON(w, map[string]string{"status": "ok"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// request is what an API handler gets: the decoded body, the query and the
// app the access token belongs to.
type request struct {
	r    *http.Request
	body []byte
	app  string
}

type handler func(req request) (answer map[string]any, errcode int)

// withoutSecret hides a top-level "secret" (OA stable_token) from the
// recorded call, which the developer endpoint lists.
func withoutSecret(body []byte) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m["secret"] == nil {
		return body
	}
	m["secret"] = json.RawMessage(`"(hidden)"`)
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// handle wraps an API: read the body, check the token (if auth), apply an
// injected failure, record the call, answer with errcode/errmsg.
func (s *Server) handle(api string, auth bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		defer s.mu.Unlock()
		req := request{r: r, body: body}
		call := Call{At: s.clk.Now(), API: api, Path: r.URL.Path}
		if json.Valid(body) {
			call.Body = withoutSecret(body)
		}
		answer, code := s.serve(req, auth, h, &call)
		call.ErrCode = code
		s.calls = append(s.calls, call)
		if answer == nil {
			answer = map[string]any{}
		}
		answer["errcode"] = code
		answer["errmsg"] = errmsg(code)
		writeJSON(w, answer)
	}
}

func (s *Server) serve(req request, auth bool, h handler, call *Call) (map[string]any, int) {
	path := req.r.URL.Path
	if auth {
		tok := req.r.URL.Query().Get("access_token")
		t, ok := s.tokens[tok]
		if !ok {
			return nil, codeInvalidCredential
		}
		call.App = t.app
		if !s.clk.Now().Before(t.expires) {
			return nil, codeTokenExpired
		}
		req.app = t.app
	}
	if q := s.fails[path]; len(q) > 0 {
		s.fails[path] = q[1:]
		return nil, q[0]
	}
	return h(req)
}

func errmsg(code int) string {
	switch code {
	case 0:
		return "ok"
	case codeInvalidCredential:
		return "invalid credential, access_token is invalid or not latest"
	case codeTokenExpired:
		return "access_token expired"
	case codeFreqLimit:
		return "api freq out of limit"
	case 45011:
		return "api minute-quota reach limit"
	case 45015:
		return "response out of time limit or subscription is canceled"
	case 45047:
		return "out of response count limit"
	case codeRemindLimit:
		return "remind limit: at most 3 reminders in 24 hours"
	// The platforms' own wording, with a documentation address (TEST-NET-3),
	// so a client can be tested on reading the IP out of it.
	case 40164:
		return "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 0"
	case 60020:
		return "not allow to access from your ip, hint: [0], from ip: 203.0.113.7"
	}
	return "error " + strconv.Itoa(code)
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

func (s *Server) ok(request) (map[string]any, int) { return nil, 0 }

func (s *Server) templateSend(request) (map[string]any, int) {
	s.msgSeq++
	return map[string]any{"msgid": s.msgSeq}, 0
}

func (s *Server) messageSend(request) (map[string]any, int) {
	s.msgSeq++
	return map[string]any{"invaliduser": "", "msgid": fmt.Sprint(s.msgSeq)}, 0
}

func (s *Server) addMsgTemplate(req request) (map[string]any, int) {
	var in struct {
		ChatType   string   `json:"chat_type"`
		ChatIDs    []string `json:"chat_id_list"`
		ExternalID []string `json:"external_userid"`
		Sender     string   `json:"sender"`
	}
	if json.Unmarshal(req.body, &in) != nil {
		return nil, codeInvalidParam
	}
	if in.ChatType == "group" && (in.Sender == "" || len(in.ChatIDs) == 0 || len(in.ChatIDs) > 2000) {
		return nil, codeInvalidParam
	}
	s.taskSeq++
	id := fmt.Sprintf("msgSBX%06d", s.taskSeq)
	s.tasks[id] = &Task{MsgID: id, Sender: in.Sender, ChatIDs: in.ChatIDs, Customers: in.ExternalID, Created: s.clk.Now(), Body: req.body}
	return map[string]any{"msgid": id, "fail_list": []string{}}, 0
}

func (s *Server) task(body []byte) (*Task, int) {
	var in struct {
		MsgID string `json:"msgid"`
	}
	if json.Unmarshal(body, &in) != nil || s.tasks[in.MsgID] == nil {
		return nil, codeInvalidParam
	}
	return s.tasks[in.MsgID], 0
}

func (s *Server) sendResult(req request) (map[string]any, int) {
	t, code := s.task(req.body)
	if code != 0 {
		return nil, code
	}
	status, sendTime := 0, int64(0)
	if !t.SentAt.IsZero() {
		status, sendTime = 1, t.SentAt.Unix()
	}
	list := []map[string]any{}
	for _, c := range t.ChatIDs {
		list = append(list, map[string]any{"chat_id": c, "userid": t.Sender, "status": status, "send_time": sendTime})
	}
	for _, c := range t.Customers {
		list = append(list, map[string]any{"external_userid": c, "userid": t.Sender, "status": status, "send_time": sendTime})
	}
	return map[string]any{"send_list": list, "next_cursor": ""}, 0
}

func (s *Server) remind(req request) (map[string]any, int) {
	t, code := s.task(req.body)
	if code != 0 {
		return nil, code
	}
	now := s.clk.Now()
	recent := 0
	for _, at := range t.Reminds {
		if now.Sub(at) < 24*time.Hour {
			recent++
		}
	}
	if recent >= 3 {
		return nil, codeRemindLimit
	}
	t.Reminds = append(t.Reminds, now)
	return nil, 0
}

func (s *Server) cancel(req request) (map[string]any, int) {
	t, code := s.task(req.body)
	if code != 0 {
		return nil, code
	}
	if t.SentAt.IsZero() {
		t.Cancelled = true
	}
	return nil, 0
}

func (s *Server) webhook(req request) (map[string]any, int) {
	key := req.r.URL.Query().Get("key")
	if key == "" {
		return nil, 93000 // invalid webhook url
	}
	now := s.clk.Now()
	var recent []time.Time
	for _, at := range s.robot[key] {
		if now.Sub(at) < time.Minute {
			recent = append(recent, at)
		}
	}
	if len(recent) >= robotPerMin {
		s.robot[key] = recent
		return nil, codeFreqLimit
	}
	s.robot[key] = append(recent, now)
	return nil, 0
}

func (s *Server) commentList(req request) (map[string]any, int) {
	var in struct {
		MsgDataID json.Number `json:"msg_data_id"`
		Index     int         `json:"index"`
		Begin     int         `json:"begin"`
		Count     int         `json:"count"`
		Type      int         `json:"type"`
	}
	if json.Unmarshal(req.body, &in) != nil || in.Count <= 0 || in.Count >= 50 || in.Begin < 0 {
		return nil, codeInvalidParam
	}
	all := s.comments[in.MsgDataID.String()+"#"+strconv.Itoa(in.Index)]
	var sel []*Comment
	for _, c := range all {
		if in.Type == 0 || (in.Type == 1 && c.CommentType == 0) || (in.Type == 2 && c.CommentType == 1) {
			sel = append(sel, c)
		}
	}
	page := []*Comment{}
	for i := in.Begin; i < len(sel) && i < in.Begin+in.Count; i++ {
		page = append(page, sel[i])
	}
	return map[string]any{"total": len(sel), "comment": page}, 0
}

func (s *Server) findComment(body []byte) (*Comment, string, int) {
	var in struct {
		MsgDataID     json.Number `json:"msg_data_id"`
		Index         int         `json:"index"`
		UserCommentID int64       `json:"user_comment_id"`
		Content       string      `json:"content"`
	}
	if json.Unmarshal(body, &in) != nil {
		return nil, "", codeInvalidParam
	}
	for _, c := range s.comments[in.MsgDataID.String()+"#"+strconv.Itoa(in.Index)] {
		if c.UserCommentID == in.UserCommentID {
			return c, in.Content, 0
		}
	}
	return nil, "", codeInvalidParam
}

func (s *Server) commentMark(req request) (map[string]any, int) {
	c, _, code := s.findComment(req.body)
	if code != 0 {
		return nil, code
	}
	c.CommentType = 1
	return nil, 0
}

func (s *Server) commentReply(req request) (map[string]any, int) {
	c, content, code := s.findComment(req.body)
	if code != 0 || strings.TrimSpace(content) == "" {
		return nil, codeInvalidParam
	}
	c.Reply = &struct {
		Content    string `json:"content"`
		CreateTime int64  `json:"create_time"`
	}{content, s.clk.Now().Unix()}
	return nil, 0
}
