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
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	codeInvalidChatID     = 40050 // groupchat/get of a group the sandbox does not know
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
	// Robot is the key of the group robot a webhook call posted through:
	// each robot is in one group.
	Robot string `json:"robot,omitempty"`
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
	chats    map[string]*Chat
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
	s.chats = map[string]*Chat{}
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
	mux.HandleFunc("/cgi-bin/externalcontact/groupchat/get", s.handle("wecom", true, s.groupChat))
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
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20)) // a robot image is up to 2 MB, base64
		s.mu.Lock()
		defer s.mu.Unlock()
		req := request{r: r, body: body}
		call := Call{At: s.clk.Now(), API: api, Path: r.URL.Path}
		if r.URL.Path == "/cgi-bin/webhook/send" {
			call.Robot = r.URL.Query().Get("key")
		}
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
	case codeInvalidChatID:
		return "invalid chatid"
	// The platforms' own wording, with a documentation address (TEST-NET-3),
	// so a client can be tested on reading the IP out of it.
	case 40164:
		return "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 0"
	case 60020:
		return "not allow to access from your ip, hint: [0], from ip: 203.0.113.7"
	}
	return "error " + strconv.Itoa(code)
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
	return nil, robotBody(req.body)
}

// robotBody checks a robot message as the robot does: an image is the
// picture itself, base64 with the MD5 of its bytes, at most 2 MB.
func robotBody(body []byte) int {
	var in struct {
		MsgType string `json:"msgtype"`
		Image   *struct {
			Base64  string `json:"base64"`
			MD5     string `json:"md5"`
			MediaID string `json:"media_id"`
		} `json:"image"`
	}
	if json.Unmarshal(body, &in) != nil || in.MsgType == "" {
		return codeInvalidParam
	}
	if in.MsgType != "image" {
		return 0
	}
	if in.Image == nil || in.Image.Base64 == "" {
		return codeInvalidParam // a media_id is not what a robot takes
	}
	data, err := base64.StdEncoding.DecodeString(in.Image.Base64)
	sum := md5.Sum(data)
	if err != nil || len(data) > 2<<20 || hex.EncodeToString(sum[:]) != strings.ToLower(in.Image.MD5) {
		return codeInvalidParam
	}
	return 0
}
