// Package runtimeapi is a minimal AWS Lambda Runtime API server: the HTTP
// interface a custom runtime's bootstrap (here, aws-lambda-go with
// lambda.norpc) polls for work. One Server stands for one Lambda execution
// environment: it hands out one invocation at a time through
// GET /2018-06-01/runtime/invocation/next and collects the answer from
// .../invocation/{id}/response or .../invocation/{id}/error, and records an
// init failure posted to /runtime/init/error.
//
// The local stack runs each function process against its own Server; tests
// use it to run built bootstrap binaries the way Lambda does:
//
//	srv := runtimeapi.New(runtimeapi.Config{FunctionName: "CallbackFunction"})
//	addr, err := srv.Start()           // then AWS_LAMBDA_RUNTIME_API=addr
//	defer srv.Close()
//	resp, fnErr, err := srv.Invoke(ctx, event)
//
// It must not start processes, read template.yaml or know any event shape:
// payloads are opaque bytes.
package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FunctionError is what a function (or its runtime) reported as a failure:
// the JSON body Lambda returns for an unhandled error.
type FunctionError struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType,omitempty"`
	StackTrace   []string `json:"stackTrace,omitempty"`
}

func (e *FunctionError) Error() string {
	if e.ErrorType == "" {
		return e.ErrorMessage
	}
	return e.ErrorType + ": " + e.ErrorMessage
}

// Config names the function the Server serves.
type Config struct {
	FunctionName string // for the ARN; "" means "function"
	Region       string // "" means us-east-1
	Account      string // "" means 123456789012
	// Timeout bounds an invocation from the moment the runtime takes it
	// (as Lambda's timeout does: init is not counted) and sets the deadline
	// header, unless the caller's context ends sooner; 0 means 3 s.
	Timeout time.Duration
	// InitTimeout bounds the wait for the runtime to ask for work, like
	// Lambda's 10 s init phase; 0 means 10 s.
	InitTimeout time.Duration
}

// ErrClosed is returned by Invoke once the Server is closed or its runtime
// has been declared dead.
var ErrClosed = errors.New("runtimeapi: runtime is gone")

// maxPayload is Lambda's limit for a synchronous response (6 MB).
const maxPayload = 6 << 20

// Server is one execution environment's Runtime API. Create it with New.
type Server struct {
	arn         string
	timeout     time.Duration
	initTimeout time.Duration

	queue  chan *invocation // an invocation waiting for /next
	closed chan struct{}    // closed by Close or Fail
	once   sync.Once
	busy   sync.Mutex // one invocation at a time, as in Lambda

	mu       sync.Mutex
	inflight map[string]*invocation
	initErr  *FunctionError
	initDone chan struct{} // closed when an init error arrives
	ready    chan struct{} // closed when the runtime first asks for work
	asked    sync.Once
	deadErr  error
	httpSrv  *http.Server
}

type invocation struct {
	id       string
	trace    string // Lambda-Runtime-Trace-Id
	payload  []byte
	deadline time.Time      // the caller's, or zero
	taken    chan time.Time // the effective deadline, sent when /next takes it
	result   chan result
}

type result struct {
	body  []byte
	fnErr *FunctionError
}

// New returns a Server; it serves nothing until Start, or mount it as an
// http.Handler yourself.
func New(cfg Config) *Server {
	name := cfg.FunctionName
	if name == "" {
		name = "function"
	}
	region, account := cfg.Region, cfg.Account
	if region == "" {
		region = "us-east-1"
	}
	if account == "" {
		account = "123456789012"
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	initTimeout := cfg.InitTimeout
	if initTimeout <= 0 {
		initTimeout = 10 * time.Second
	}
	return &Server{
		arn:         fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name),
		timeout:     timeout,
		initTimeout: initTimeout,
		queue:       make(chan *invocation),
		closed:      make(chan struct{}),
		inflight:    map[string]*invocation{},
		initDone:    make(chan struct{}),
		ready:       make(chan struct{}),
	}
}

// Ready is closed when the runtime first asks for work: the end of its init
// phase, which Lambda reports as the Init Duration of a cold start.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Start listens on a free loopback port and returns its host:port, the
// value of AWS_LAMBDA_RUNTIME_API.
func (s *Server) Start() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("runtimeapi: listen: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.httpSrv = srv
	s.mu.Unlock()
	go srv.Serve(l) // returns when Close closes the listener
	return l.Addr().String(), nil
}

// Close stops the listener (if Start opened one) and makes every pending
// and future Invoke return ErrClosed.
func (s *Server) Close() error {
	s.Fail(ErrClosed)
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	if srv != nil {
		return srv.Close()
	}
	return nil
}

// Fail declares the runtime dead (its process exited, say): pending and
// future Invokes return err. Only the first call counts.
func (s *Server) Fail(err error) {
	s.once.Do(func() {
		s.mu.Lock()
		s.deadErr = err
		s.mu.Unlock()
		close(s.closed)
	})
}

// InitError returns the error the runtime posted to /runtime/init/error,
// or nil.
func (s *Server) InitError() *FunctionError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

func (s *Server) dead() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deadErr == nil {
		return ErrClosed
	}
	return s.deadErr
}

// ErrInitTimeout is returned by Invoke when the runtime does not ask for
// work within Config.InitTimeout.
var ErrInitTimeout = errors.New("runtimeapi: the runtime did not ask for work in time (init timeout)")

// Invoke hands payload to the runtime's next /next call and waits for its
// answer. It returns the response body, or the FunctionError the function
// (or its init) reported; err is for everything else: the timeout (an
// error wrapping context.DeadlineExceeded), ctx done, ErrInitTimeout, or
// the runtime gone. Calls are serialised: one invocation at a time.
func (s *Server) Invoke(ctx context.Context, payload []byte) (response []byte, fnErr *FunctionError, err error) {
	s.busy.Lock()
	defer s.busy.Unlock()
	if ie := s.InitError(); ie != nil {
		return nil, ie, nil
	}
	callerDeadline, _ := ctx.Deadline()
	trace, _ := ctx.Value(traceKey{}).(string)
	if trace == "" {
		trace = NewTraceID(time.Now()) // wallclock: a trace id, as in Lambda
	}
	inv := &invocation{id: newRequestID(), trace: trace, payload: payload, deadline: callerDeadline,
		taken: make(chan time.Time, 1), result: make(chan result, 1)}
	s.mu.Lock()
	s.inflight[inv.id] = inv
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, inv.id)
		s.mu.Unlock()
	}()

	initTimer := time.NewTimer(s.initTimeout)
	defer initTimer.Stop()
	select {
	case s.queue <- inv:
	case <-s.initDone:
		return nil, s.InitError(), nil
	case <-s.closed:
		return nil, nil, s.dead()
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("runtimeapi: waiting for the runtime to ask for work: %w", ctx.Err())
	case <-initTimer.C:
		return nil, nil, ErrInitTimeout
	}
	deadline := <-inv.taken // sent by next as soon as it has the invocation
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case r := <-inv.result:
		return r.body, r.fnErr, nil
	case <-s.initDone:
		return nil, s.InitError(), nil
	case <-s.closed:
		return nil, nil, s.dead()
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("runtimeapi: invocation %s: %w", inv.id, ctx.Err())
	case <-timer.C:
		return nil, nil, fmt.Errorf("runtimeapi: invocation %s: %w", inv.id, context.DeadlineExceeded)
	}
}

const prefix = "/2018-06-01/runtime/"

// ServeHTTP implements the Runtime API routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "unknown path "+r.URL.Path)
		return
	}
	switch {
	case path == "invocation/next" && r.Method == http.MethodGet:
		s.next(w, r)
	case path == "init/error" && r.Method == http.MethodPost:
		s.postInitError(w, r)
	case strings.HasPrefix(path, "invocation/") && r.Method == http.MethodPost:
		id, kind, ok := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		if !ok || (kind != "response" && kind != "error") {
			writeError(w, http.StatusNotFound, "NotFound", "unknown path "+r.URL.Path)
			return
		}
		s.post(w, r, id, kind)
	default:
		writeError(w, http.StatusNotFound, "NotFound", r.Method+" "+r.URL.Path+" is not a Runtime API route")
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.asked.Do(func() { close(s.ready) })
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-s.closed:
		writeError(w, http.StatusGone, "Runtime.Closed", "the execution environment is shutting down")
		return
	case <-r.Context().Done():
		return
	}
	deadline := time.Now().Add(s.timeout) // wallclock: the invocation timeout is real time, as in Lambda
	if !inv.deadline.IsZero() && inv.deadline.Before(deadline) {
		deadline = inv.deadline
	}
	inv.taken <- deadline
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", s.arn)
	h.Set("Lambda-Runtime-Trace-Id", inv.trace)
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

func (s *Server) post(w http.ResponseWriter, r *http.Request, id, kind string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "read body: "+err.Error())
		return
	}
	if len(body) > maxPayload {
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "payload over 6 MB")
		return
	}
	s.mu.Lock()
	inv := s.inflight[id]
	s.mu.Unlock()
	if inv == nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with id "+id)
		return
	}
	res := result{body: body}
	if kind == "error" {
		res = result{fnErr: parseError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))}
	}
	select {
	case inv.result <- res:
	default: // answered twice: keep the first answer, as Lambda does
		writeError(w, http.StatusBadRequest, "InvalidStateTransition", "invocation "+id+" already answered")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func (s *Server) postInitError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "read body: "+err.Error())
		return
	}
	fe := parseError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	s.mu.Lock()
	first := s.initErr == nil
	if first {
		s.initErr = fe
	}
	s.mu.Unlock()
	if first {
		close(s.initDone)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

// parseError reads an error body; a body that is not the usual JSON still
// becomes a message, so nothing the runtime said is lost.
func parseError(body []byte, typ string) *FunctionError {
	var fe FunctionError
	if err := json.Unmarshal(body, &fe); err != nil || fe.ErrorMessage == "" && fe.ErrorType == "" {
		fe = FunctionError{ErrorMessage: strings.TrimSpace(string(body))}
	}
	if fe.ErrorType == "" {
		fe.ErrorType = typ
	}
	return &fe
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(FunctionError{ErrorMessage: msg, ErrorType: typ})
}

// newRequestID returns a random UUID, the shape of Lambda request ids.
func newRequestID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

type traceKey struct{}

// WithTraceID returns a context that makes Invoke hand the runtime this
// Lambda-Runtime-Trace-Id (made by NewTraceID) instead of a fresh one.
// aws-lambda-go puts it in _X_AMZN_TRACE_ID and the AWS SDK sends it as
// X-Amzn-Trace-Id on the invocation's calls: the local stack tells by it
// which invocation made a DynamoDB request.
func WithTraceID(ctx context.Context, trace string) context.Context {
	return context.WithValue(ctx, traceKey{}, trace)
}

// NewTraceID returns an X-Ray trace header value, not sampled, with a
// random root.
func NewTraceID(now time.Time) string {
	var r [12]byte
	var p [8]byte
	_, _ = rand.Read(r[:])
	_, _ = rand.Read(p[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), hex.EncodeToString(r[:]), hex.EncodeToString(p[:]))
}
