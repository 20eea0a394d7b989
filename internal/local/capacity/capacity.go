// Package capacity is the local stack's DynamoDB meter: an HTTP proxy in
// front of the engine that counts every request and the read and write
// request units (RRU, WRU) on-demand DynamoDB would bill for it, by the kind
// of event whose invocation sent it.
//
// Attribution follows Lambda's own tracing: the stack gives each invocation
// an X-Ray trace id (Lambda-Runtime-Trace-Id), aws-lambda-go puts it in
// _X_AMZN_TRACE_ID, and the AWS SDK sends it as X-Amzn-Trace-Id on every
// call the invocation makes. Track registers a trace's kind while its
// invocation runs.
//
// The units come from the engine: the meter asks for ReturnConsumedCapacity
// on every request that takes it and takes the answer's ConsumedCapacity
// out again when the caller did not ask, so the caller sees what it would
// have seen. dynalite computes them as DynamoDB does, from item sizes, with
// two differences the meter makes up for and one it does not:
//
//   - a write whose condition fails costs DynamoDB at least 1 WRU and
//     returns no ConsumedCapacity: the meter counts 1 WRU;
//   - a Query or Scan that reads nothing costs DynamoDB the minimum (0.5 RRU,
//     1 strongly consistent), dynalite says 0: the meter counts the minimum;
//   - dynalite sizes strings in UTF-16 units, not UTF-8 bytes, so an item of
//     Chinese text over 1 KB (4 KB for reads) is counted a unit or two short.
//
// dynalite does not count writes to global secondary indexes, which
// DynamoDB bills like table writes. The meter counts them itself (Options.
// Indexes) from the items before and after: for PutItem and DeleteItem it
// asks for ReturnValues ALL_OLD, for UpdateItem ALL_NEW (again removed from
// the answer when the caller did not ask), and for a BatchWriteItem put the
// item in the request. An UpdateItem that changes an index key costs one
// write more than counted (DynamoDB deletes the old entry and puts the
// new), one that removes the key one less, and a BatchWriteItem that
// overwrites or deletes an indexed item is not seen: IndexWriteUnits are
// exact for puts and deletes and a close lower bound for the rest.
//
// It must not change what the engine stores or what a caller reads.
package capacity

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kinds of requests that no tracked invocation sent.
const (
	// Untraced requests carry no trace id: the stack's own calls, or a
	// function's init before its first invocation.
	Untraced = "untraced"
	// Unknown requests carry a trace id that is not (or no longer) tracked.
	Unknown = "unknown"
)

// Usage is what one kind of event cost.
type Usage struct {
	// Invocations are the handled events of this kind (Track calls).
	Invocations int64 `json:"invocations"`
	// Requests are the DynamoDB requests, by operation in Operations.
	Requests   int64            `json:"requests"`
	Operations map[string]int64 `json:"operations,omitempty"`
	// ReadUnits are RRU; WriteUnits are WRU, IndexWriteUnits included.
	ReadUnits       float64 `json:"readUnits"`
	WriteUnits      float64 `json:"writeUnits"`
	IndexWriteUnits float64 `json:"indexWriteUnits"`
	// ConditionalFailures are writes refused by their condition, each
	// counted at 1 WRU.
	ConditionalFailures int64 `json:"conditionalFailures"`
	// Errors are the other error answers (validation, throttling by the
	// engine): DynamoDB bills none of them.
	Errors int64 `json:"errors"`
}

func (u *Usage) add(o Usage, sign float64) {
	s := int64(sign)
	u.Invocations += s * o.Invocations
	u.Requests += s * o.Requests
	u.ReadUnits += sign * o.ReadUnits
	u.WriteUnits += sign * o.WriteUnits
	u.IndexWriteUnits += sign * o.IndexWriteUnits
	u.ConditionalFailures += s * o.ConditionalFailures
	u.Errors += s * o.Errors
	for op, n := range o.Operations {
		if u.Operations == nil {
			u.Operations = map[string]int64{}
		}
		u.Operations[op] += s * n
		if u.Operations[op] == 0 {
			delete(u.Operations, op)
		}
	}
}

// Snapshot is the meter's counts since it started.
type Snapshot struct {
	ByKind map[string]Usage `json:"byKind"`
}

// Sub returns the counts of s that were not yet in before: what happened
// between two snapshots.
func (s Snapshot) Sub(before Snapshot) Snapshot {
	out := Snapshot{ByKind: map[string]Usage{}}
	for k, u := range s.ByKind {
		var d Usage
		d.add(u, 1)
		d.add(before.ByKind[k], -1)
		if d.Invocations != 0 || d.Requests != 0 {
			out.ByKind[k] = d
		}
	}
	return out
}

// Kinds returns the snapshot's kinds, sorted.
func (s Snapshot) Kinds() []string {
	out := make([]string, 0, len(s.ByKind))
	for k := range s.ByKind {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Index names a global secondary index by its key attributes.
type Index struct {
	Name string
	Keys []string // partition key, then sort key if any
}

// Options configure a Meter.
type Options struct {
	// Indexes are the table's global secondary indexes, all projecting
	// ALL attributes (as Qunyun's do): an index entry is the size of its item.
	Indexes []Index
}

// Meter is an http.Handler that forwards DynamoDB requests to one engine
// and counts them.
type Meter struct {
	target string
	opts   Options
	client *http.Client
	mu     sync.Mutex
	traces map[string]string // trace root → kind
	byKind map[string]*Usage
}

// New returns a meter in front of target (e.g. dynalite's http://127.0.0.1:PORT).
func New(target string, opts Options) (*Meter, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("capacity meter: target %q is not an absolute URL", target)
	}
	return &Meter{
		target: strings.TrimRight(target, "/"),
		opts:   opts,
		client: &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		}},
		traces: map[string]string{},
		byKind: map[string]*Usage{},
	}, nil
}

// Track attributes the requests that carry trace (a Lambda-Runtime-Trace-Id
// value) to kind and counts one invocation of kind, until done is called.
func (m *Meter) Track(trace, kind string) (done func()) {
	root := TraceRoot(trace)
	m.mu.Lock()
	m.traces[root] = kind
	m.usage(kind).Invocations++
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.traces, root)
		m.mu.Unlock()
	}
}

// Snapshot returns the counts so far.
func (m *Meter) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Snapshot{ByKind: map[string]Usage{}}
	for k, u := range m.byKind {
		var c Usage
		c.add(*u, 1)
		s.ByKind[k] = c
	}
	return s
}

// usage returns kind's counters; m.mu must be held.
func (m *Meter) usage(kind string) *Usage {
	u := m.byKind[kind]
	if u == nil {
		u = &Usage{}
		m.byKind[kind] = u
	}
	return u
}

// TraceRoot returns the Root field of an X-Ray trace header (as Lambda and
// the SDK send it, percent-encoded or not), or the whole value without one.
func TraceRoot(header string) string {
	if s, err := url.PathUnescape(header); err == nil {
		header = s
	}
	for _, part := range strings.Split(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return header
}

func (m *Meter) kindOf(traceHeader string) string {
	if traceHeader == "" {
		return Untraced
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.traces[TraceRoot(traceHeader)]; ok {
		return k
	}
	return Unknown
}

// maxBody bounds what the meter buffers: DynamoDB's requests are at most
// 16 MB, its answers (a 1 MB page or a batch) well under that.
const maxBody = 32 << 20

func (m *Meter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := m.kindOf(r.Header.Get("X-Amzn-Trace-Id"))
	op := r.Header.Get("X-Amz-Target")
	if _, after, ok := strings.Cut(op, "."); ok {
		op = after
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "capacity meter: read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := prepare(op, body)
	// The engine finishes a request it has received whether or not the
	// caller still waits, and DynamoDB bills it: so does the meter.
	ctx := context.WithoutCancel(r.Context())
	out, err := http.NewRequestWithContext(ctx, r.Method, m.target+r.URL.RequestURI(), bytes.NewReader(req.body))
	if err != nil {
		http.Error(w, "capacity meter: "+err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Content-Length")
	resp, err := m.client.Do(out)
	if err != nil {
		http.Error(w, "capacity meter: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		http.Error(w, "capacity meter: read answer: "+err.Error(), http.StatusBadGateway)
		return
	}
	cost, answer := m.account(req, resp.StatusCode, answer)

	m.mu.Lock()
	u := m.usage(kind)
	u.Requests++
	if op != "" {
		if u.Operations == nil {
			u.Operations = map[string]int64{}
		}
		u.Operations[op]++
	}
	u.ReadUnits += cost.ReadUnits
	u.WriteUnits += cost.WriteUnits + cost.IndexWriteUnits
	u.IndexWriteUnits += cost.IndexWriteUnits
	u.ConditionalFailures += cost.ConditionalFailures
	u.Errors += cost.Errors
	m.mu.Unlock()

	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(answer)))
	if h.Get("X-Amz-Crc32") != "" {
		// The SDK checks the answer against it.
		h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(answer)), 10))
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

// Server is a Meter listening on a loopback port.
type Server struct {
	*Meter
	URL string // http://127.0.0.1:PORT
	srv *http.Server
}

// Start listens on addr ("127.0.0.1:0" for a free port) and serves m until
// Close.
func Start(addr string, m *Meter) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("capacity meter: listen %s: %w", addr, err)
	}
	s := &Server{Meter: m, URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}}
	go s.srv.Serve(ln) //nolint:errcheck // ErrServerClosed after Close
	return s, nil
}

// Close stops the server, waiting for in-flight requests up to ctx.
func (s *Server) Close(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("capacity meter: shutdown: %w", err)
	}
	return nil
}
