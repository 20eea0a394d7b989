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
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
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

// request is a request as forwarded, with what the meter changed in it.
type request struct {
	op   string
	body []byte
	// in is the parsed request (nil when it is not a JSON object).
	in map[string]json.RawMessage
	// addedCapacity and addedValues say the meter asked for
	// ConsumedCapacity or ReturnValues on its own: they leave the answer.
	addedCapacity, addedValues bool
	consistent                 bool
}

// metered are the operations whose cost the meter counts, true for writes.
var metered = map[string]bool{
	"GetItem": false, "Query": false, "Scan": false, "BatchGetItem": false,
	"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true,
}

// prepare asks for the consumed capacity, and for the items an index
// write needs, where the caller did not.
func prepare(op string, body []byte) request {
	req := request{op: op, body: body}
	if _, ok := metered[op]; !ok {
		return req
	}
	if json.Unmarshal(body, &req.in) != nil || req.in == nil {
		return req // the engine answers it with the error
	}
	changed := false
	switch str(req.in["ReturnConsumedCapacity"]) {
	case "TOTAL", "INDEXES":
	default:
		req.in["ReturnConsumedCapacity"] = json.RawMessage(`"TOTAL"`)
		req.addedCapacity, changed = true, true
	}
	if rv := str(req.in["ReturnValues"]); rv == "" || rv == "NONE" {
		switch op {
		case "PutItem", "DeleteItem":
			req.in["ReturnValues"] = json.RawMessage(`"ALL_OLD"`)
			req.addedValues, changed = true, true
		case "UpdateItem":
			req.in["ReturnValues"] = json.RawMessage(`"ALL_NEW"`)
			req.addedValues, changed = true, true
		}
	}
	req.consistent = string(req.in["ConsistentRead"]) == "true"
	if changed {
		req.body = encode(req.in)
	}
	return req
}

// str decodes a JSON string, or returns "".
func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// encode writes v as JSON without escaping <, > and & (the values are
// copied as they came) and without a trailing newline.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // maps of RawMessage that were just decoded
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// account returns what an answer cost and the answer as the caller asked
// for it.
func (m *Meter) account(req request, status int, answer []byte) (Usage, []byte) {
	var u Usage
	write, known := metered[req.op]
	if !known || req.in == nil {
		if status != http.StatusOK {
			u.Errors++
		}
		return u, answer
	}
	if status != http.StatusOK {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(answer, &e)
		if write && strings.HasSuffix(e.Type, "ConditionalCheckFailedException") {
			u.ConditionalFailures++
			u.WriteUnits++
		} else {
			u.Errors++
		}
		return u, answer
	}
	var out map[string]json.RawMessage
	if json.Unmarshal(answer, &out) != nil {
		return u, answer
	}
	units := capacityUnits(out["ConsumedCapacity"])
	if write {
		u.WriteUnits = units
		u.IndexWriteUnits = m.indexWrites(req, out)
	} else {
		if (req.op == "Query" || req.op == "Scan") && units == 0 {
			units = 0.5
			if req.consistent {
				units = 1
			}
		}
		u.ReadUnits = units
	}
	if req.addedCapacity || req.addedValues {
		if req.addedCapacity {
			delete(out, "ConsumedCapacity")
		}
		if req.addedValues {
			delete(out, "Attributes")
		}
		answer = encode(out)
	}
	return u, answer
}

// capacityUnits sums a ConsumedCapacity object, or the list a batch
// answers with.
func capacityUnits(raw json.RawMessage) float64 {
	type consumed struct {
		CapacityUnits float64
	}
	var one consumed
	if json.Unmarshal(raw, &one) == nil {
		return one.CapacityUnits
	}
	var many []consumed
	if json.Unmarshal(raw, &many) != nil {
		return 0
	}
	total := 0.0
	for _, c := range many {
		total += c.CapacityUnits
	}
	return total
}

// item is an item in DynamoDB's JSON: attribute name → {"S": …}.
type item map[string]map[string]json.RawMessage

// indexWrites counts the WRU of the index entries a successful write put
// or deleted (see the package comment for what it cannot see).
func (m *Meter) indexWrites(req request, out map[string]json.RawMessage) float64 {
	if len(m.opts.Indexes) == 0 {
		return 0
	}
	var before, after item
	switch req.op {
	case "PutItem":
		_ = json.Unmarshal(req.in["Item"], &after)
		_ = json.Unmarshal(out["Attributes"], &before)
	case "DeleteItem":
		_ = json.Unmarshal(out["Attributes"], &before)
	case "UpdateItem":
		// ALL_NEW: the item after; taken to have had the same index keys.
		if str(req.in["ReturnValues"]) != "ALL_NEW" {
			return 0
		}
		_ = json.Unmarshal(out["Attributes"], &after)
	case "BatchWriteItem":
		var batch map[string][]struct {
			PutRequest *struct{ Item item }
		}
		_ = json.Unmarshal(req.in["RequestItems"], &batch)
		total := 0.0
		for _, reqs := range batch {
			for _, r := range reqs {
				if r.PutRequest != nil {
					total += m.entryWrites(nil, r.PutRequest.Item)
				}
			}
		}
		return total
	}
	return m.entryWrites(before, after)
}

// entryWrites is the WRU of an item going from before to after (either
// may be nil) in each index: a put where it enters or stays, a delete
// where it leaves, both where its index key changes.
func (m *Meter) entryWrites(before, after item) float64 {
	total := 0.0
	for _, ix := range m.opts.Indexes {
		wasIn, isIn := before.indexed(ix), after.indexed(ix)
		switch {
		case wasIn && isIn && !sameKeys(before, after, ix):
			total += writeUnits(before) + writeUnits(after)
		case isIn:
			total += writeUnits(after)
		case wasIn:
			total += writeUnits(before)
		}
	}
	return total
}

func (it item) indexed(ix Index) bool {
	if it == nil || len(ix.Keys) == 0 {
		return false
	}
	for _, k := range ix.Keys {
		if _, ok := it[k]; !ok {
			return false
		}
	}
	return true
}

func sameKeys(a, b item, ix Index) bool {
	for _, k := range ix.Keys {
		if !bytes.Equal(encode(a[k]), encode(b[k])) {
			return false
		}
	}
	return true
}

// writeUnits is DynamoDB's WRU for writing an item: its size rounded up
// to the next KB, at least 1.
func writeUnits(it item) float64 {
	return math.Max(1, math.Ceil(float64(it.size())/1024))
}

// size is the item's size as DynamoDB counts it: each attribute's name in
// UTF-8 bytes plus its value.
func (it item) size() int {
	n := 0
	for name, v := range it {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize sizes one typed value ({"S": "…"}) as DynamoDB documents it:
// strings and binaries by their bytes, numbers by their significant
// digits, a list or map by its elements plus 3 bytes and 1 per element.
func valueSize(v map[string]json.RawMessage) int {
	for typ, raw := range v {
		switch typ {
		case "S":
			return len(str(raw))
		case "N":
			return numberSize(str(raw))
		case "B":
			return len(raw) * 3 / 4 // base64
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			var list []string
			_ = json.Unmarshal(raw, &list)
			n := 0
			for _, s := range list {
				switch typ {
				case "SS":
					n += len(s)
				case "NS":
					n += numberSize(s)
				default:
					n += len(s) * 3 / 4
				}
			}
			return n
		case "L":
			var list []map[string]json.RawMessage
			_ = json.Unmarshal(raw, &list)
			n := 3
			for _, e := range list {
				n += 1 + valueSize(e)
			}
			return n
		case "M":
			var m item
			_ = json.Unmarshal(raw, &m)
			return 3 + len(m) + m.size()
		}
	}
	return 0
}

// numberSize is about 1 byte per two significant digits, plus 1.
func numberSize(s string) int {
	digits := 0
	for _, r := range strings.TrimLeft(strings.TrimLeft(s, "-+"), "0.") {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return 1 + (digits+1)/2
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
