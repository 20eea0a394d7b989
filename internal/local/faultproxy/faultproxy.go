// Package faultproxy is an HTTP proxy that the local stack can put in front
// of dynalite to make the DynamoDB path fail the way the real service does:
// throttling (400 ThrottlingException / ProvisionedThroughputExceededException
// with DynamoDB's JSON error body), 5xx (InternalServerError,
// ServiceUnavailable), timeouts (the connection hangs, then drops, and the
// request never reached the engine) and lost answers (the request reached the
// engine and was applied, but the caller never hears back — the case that
// tests idempotency).
//
// A fault is drawn for each request with probability Rate from one seeded
// random source, so a run's fault pattern depends only on the seed and the
// order of requests. Everything else passes through untouched.
//
// It must not look into or change the requests it forwards: it knows nothing
// of tables or items, only of HTTP, so it can sit in front of any engine.
package faultproxy

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is one kind of injected failure.
type Fault string

const (
	// Throttle answers 400 with a ThrottlingException or
	// ProvisionedThroughputExceededException body, as DynamoDB does.
	Throttle Fault = "throttle"
	// ServerError answers 500 InternalServerError or 503 ServiceUnavailable.
	ServerError Fault = "5xx"
	// Timeout holds the request for Options.Hold, then drops the connection
	// without forwarding it: nothing was applied.
	Timeout Fault = "timeout"
	// LostAnswer forwards the request, lets the engine apply it, then drops
	// the connection: the write happened but the caller cannot know.
	LostAnswer Fault = "lost"
)

// AllFaults is what a bare rate injects, in equal shares.
var AllFaults = []Fault{Throttle, ServerError, Timeout, LostAnswer}

// Options configure a Proxy.
type Options struct {
	// Rate is the share of requests that get a fault, from 0 to 1.
	Rate float64
	// Faults are the kinds drawn from, in equal shares; empty means AllFaults.
	Faults []Fault
	// Hold is how long a Timeout keeps the connection open before it drops
	// it; 0 means 500 ms. It is shortened when the caller gives up first.
	Hold time.Duration
	// Seed seeds the random source that decides which requests fail.
	Seed uint64
}

// Stats counts what the proxy did.
type Stats struct {
	Passed   int64
	Injected map[Fault]int64
}

// Total is the number of requests seen.
func (s Stats) Total() int64 {
	n := s.Passed
	for _, v := range s.Injected {
		n += v
	}
	return n
}

// Proxy is an http.Handler that forwards to one target and injects faults.
type Proxy struct {
	opts   Options
	target *url.URL
	fwd    *httputil.ReverseProxy

	mu  sync.Mutex // guards rnd: math/rand sources are not safe for concurrent use
	rnd *rand.Rand

	passed   atomic.Int64
	injected [4]atomic.Int64 // indexed like AllFaults
}

// New returns a proxy to target (e.g. dynalite's http://127.0.0.1:PORT).
func New(target string, opts Options) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("fault proxy: target %q is not an absolute URL", target)
	}
	if opts.Rate < 0 || opts.Rate > 1 {
		return nil, fmt.Errorf("fault proxy: rate %v is not between 0 and 1", opts.Rate)
	}
	if len(opts.Faults) == 0 {
		opts.Faults = AllFaults
	}
	for _, f := range opts.Faults {
		if faultIndex(f) < 0 {
			return nil, fmt.Errorf("fault proxy: unknown fault %q (want throttle, 5xx, timeout or lost)", f)
		}
	}
	if opts.Hold <= 0 {
		opts.Hold = 500 * time.Millisecond
	}
	fwd := httputil.NewSingleHostReverseProxy(u)
	// A tuned transport: the stack's four functions talk through one proxy
	// at hundreds of requests a second.
	fwd.Transport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Proxy{
		opts:   opts,
		target: u,
		fwd:    fwd,
		rnd:    rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)),
	}, nil
}

// ParseFaults reads a comma-separated list such as "throttle,5xx"; "" and
// "all" mean AllFaults.
func ParseFaults(s string) ([]Fault, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return AllFaults, nil
	}
	var out []Fault
	for _, part := range strings.Split(s, ",") {
		f := Fault(strings.TrimSpace(part))
		if faultIndex(f) < 0 {
			return nil, fmt.Errorf("unknown fault %q (want throttle, 5xx, timeout or lost)", part)
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseRate reads a fault rate such as "0.05" or "5%".
func ParseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("fault rate %q: want a number such as 0.05 or 5%%", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("fault rate %q: must be between 0 and 1 (or 0%% and 100%%)", s)
	}
	return v, nil
}

func faultIndex(f Fault) int {
	for i, g := range AllFaults {
		if g == f {
			return i
		}
	}
	return -1
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	s := Stats{Passed: p.passed.Load(), Injected: map[Fault]int64{}}
	for i, f := range AllFaults {
		if n := p.injected[i].Load(); n > 0 {
			s.Injected[f] = n
		}
	}
	return s
}

// draw decides the fate of one request: "" means pass through. variant picks
// between the two bodies of Throttle and ServerError.
func (p *Proxy) draw() (f Fault, variant int) {
	if p.opts.Rate == 0 {
		return "", 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rnd.Float64() >= p.opts.Rate {
		return "", 0
	}
	return p.opts.Faults[p.rnd.IntN(len(p.opts.Faults))], p.rnd.IntN(2)
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, variant := p.draw()
	if f == "" {
		p.passed.Add(1)
		p.fwd.ServeHTTP(w, r)
		return
	}
	p.injected[faultIndex(f)].Add(1)
	switch f {
	case Throttle:
		typ := "ThrottlingException"
		msg := "Rate of requests exceeds the allowed throughput."
		if variant == 1 {
			typ = "ProvisionedThroughputExceededException"
			msg = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
		}
		writeError(w, http.StatusBadRequest, typ, msg)
	case ServerError:
		if variant == 1 {
			writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Service Unavailable")
		} else {
			writeError(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
		}
	case Timeout:
		// Drain the body so the caller is not blocked writing it, then wait.
		_, _ = io.Copy(io.Discard, r.Body)
		hold(r.Context(), p.opts.Hold)
		drop(w)
	case LostAnswer:
		rec := &discard{header: http.Header{}}
		p.fwd.ServeHTTP(rec, r)
		drop(w)
	}
}

// writeError writes a DynamoDB JSON 1.0 error, which the SDK maps to its
// typed errors and retries like the real ones.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "FAULTPROXY")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, typ, msg)
}

func hold(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// drop closes the connection without an answer, as a timed-out or broken
// network path would. Where the connection cannot be hijacked (HTTP/2), the
// handler panics with http.ErrAbortHandler, the standard library's way to
// abort a response; net/http recovers it.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// discard is a ResponseWriter that throws the engine's answer away.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// Server is a Proxy listening on a loopback port.
type Server struct {
	*Proxy
	URL string // http://127.0.0.1:PORT
	srv *http.Server
	ln  net.Listener
}

// Start listens on addr ("127.0.0.1:0" for a free port) and serves p until
// Close.
func Start(addr string, p *Proxy) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fault proxy: listen %s: %w", addr, err)
	}
	s := &Server{Proxy: p, URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}}
	// Serve returns ErrServerClosed after Close; nothing else can end it
	// short of a broken listener, which the callers' requests then show.
	go s.srv.Serve(ln) //nolint:errcheck
	return s, nil
}

// Close stops the server, waiting for in-flight requests up to ctx.
func (s *Server) Close(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("fault proxy: shutdown: %w", err)
	}
	return nil
}

// EnvFaults is the variable the local stack reads to start a proxy:
// "0.05" (5 % of requests, every kind of fault) or "0.05:throttle,5xx".
const EnvFaults = "QUNYUN_FAULTS"

// ParseSpec reads a fault spec: a rate, optionally followed by ":" and the
// kinds of fault. An empty spec means no proxy (ok is false).
func ParseSpec(spec string) (opts Options, ok bool, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Options{}, false, nil
	}
	rateS, kindsS, _ := strings.Cut(spec, ":")
	if opts.Rate, err = ParseRate(rateS); err != nil {
		return Options{}, false, err
	}
	if opts.Faults, err = ParseFaults(kindsS); err != nil {
		return Options{}, false, err
	}
	return opts, true, nil
}
