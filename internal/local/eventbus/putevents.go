package eventbus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// Entry is one event given to PutEvents.
type Entry struct {
	Source       string
	DetailType   string
	Detail       string // a JSON object
	EventBusName string // name or ARN; "" means "default"
	Resources    []string
	Time         time.Time // zero means the clock's time
}

// Result is the outcome of one Entry: an EventID, or an error code and
// message, as in the PutEvents response.
type Result struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// maxEntries is PutEvents' limit per request.
const maxEntries = 10

// envelope is the event as EventBridge delivers it to a target.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// PutEvents puts entries on their buses and starts delivering each to the
// functions whose rules match; it does not wait for the deliveries (see
// Wait). Results are in the order of entries.
func (b *Bus) PutEvents(ctx context.Context, entries []Entry) []Result {
	results := make([]Result, len(entries))
	for i, e := range entries {
		results[i] = b.put(ctx, e)
	}
	return results
}

func (b *Bus) put(ctx context.Context, e Entry) Result {
	busName := busNameOf(e.EventBusName)
	switch {
	case e.Source == "":
		return Result{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Source is not valid. Reason: Source is a required argument."}
	case e.DetailType == "":
		return Result{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter DetailType is not valid. Reason: DetailType is a required argument."}
	case e.Detail == "":
		return Result{ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Detail is not valid. Reason: Detail is a required argument."}
	case !isJSONObject(e.Detail):
		return Result{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."}
	case !b.buses[busName]:
		return Result{ErrorCode: "ResourceNotFoundException", ErrorMessage: fmt.Sprintf("Event bus %s does not exist.", busName)}
	}
	at := e.Time
	if at.IsZero() {
		at = b.clock.Now()
	}
	var detail bytes.Buffer
	_ = json.Compact(&detail, []byte(e.Detail)) // valid JSON, checked above
	env := envelope{
		Version:    "0",
		ID:         b.newID(),
		DetailType: e.DetailType,
		Source:     e.Source,
		Account:    b.account,
		Time:       at.UTC().Format(time.RFC3339),
		Region:     b.region,
		Resources:  e.Resources,
		Detail:     detail.Bytes(),
	}
	if env.Resources == nil {
		env.Resources = []string{}
	}
	payload, err := json.Marshal(env)
	if err != nil {
		return Result{ErrorCode: "InternalFailure", ErrorMessage: err.Error()}
	}
	matched := 0
	for _, r := range b.rules {
		if r.EventBusName != busName {
			continue
		}
		ok, err := r.pattern.Match(payload)
		if err != nil || !ok {
			continue // the envelope is always a JSON object, so err is nil
		}
		matched++
		d := Delivery{Kind: "rule", Function: r.Function, ID: env.ID, EventBusName: busName, Source: e.Source, DetailType: e.DetailType}
		b.deliver(context.WithoutCancel(ctx), d, payload)
	}
	if matched == 0 {
		b.log.DebugContext(ctx, "eventbus: no rule matched", "bus", busName, "source", e.Source, "detailType", e.DetailType)
	}
	return Result{EventID: env.ID}
}

// busNameOf accepts a bus name or ARN (arn:aws:events:...:event-bus/name).
func busNameOf(s string) string {
	if s == "" {
		return "default"
	}
	if i := strings.LastIndex(s, ":event-bus/"); i >= 0 && strings.HasPrefix(s, "arn:") {
		return s[i+len(":event-bus/"):]
	}
	return s
}

func isJSONObject(s string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &m) == nil && m != nil
}

// Wire types of the AWS JSON 1.1 PutEvents operation.
type putEventsRequest struct {
	Entries []struct {
		Source       string
		DetailType   string
		Detail       string
		EventBusName string
		Resources    []string
		Time         json.RawMessage // epoch seconds, as the SDKs send it
		TraceHeader  string
	}
	EndpointId string
}

type putEventsResponse struct {
	FailedEntryCount int
	Entries          []Result
}

// maxBody bounds a PutEvents request; AWS allows 256 KB of entries.
const maxBody = 1 << 20

// ServeHTTP serves the EventBridge PutEvents API as the AWS SDKs call it:
// POST, Content-Type application/x-amz-json-1.1, X-Amz-Target
// AWSEvents.PutEvents. Request signatures are not checked.
func (b *Bus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "UnknownOperationException", "EventBridge operations are POST requests")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "AWSEvents.PutEvents" {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("operation %q is not emulated; only AWSEvents.PutEvents is", target))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "read request: "+err.Error())
		return
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "ValidationException", "request is larger than 1 MB")
		return
	}
	var req putEventsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "decode request: "+err.Error())
		return
	}
	if n := len(req.Entries); n < 1 || n > maxEntries {
		writeError(w, http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and %d (got %d)", maxEntries, n))
		return
	}
	entries := make([]Entry, len(req.Entries))
	for i, e := range req.Entries {
		at, err := parseTime(e.Time)
		if err != nil {
			writeError(w, http.StatusBadRequest, "SerializationException", fmt.Sprintf("entry %d: Time: %v", i, err))
			return
		}
		entries[i] = Entry{Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, EventBusName: e.EventBusName, Resources: e.Resources, Time: at}
	}
	resp := putEventsResponse{Entries: b.PutEvents(r.Context(), entries)}
	for _, res := range resp.Entries {
		if res.ErrorCode != "" {
			resp.FailedEntryCount++
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", b.newID())
	if err := json.NewEncoder(w).Encode(resp); err != nil {
		b.log.WarnContext(r.Context(), "eventbus: write PutEvents response", "err", err)
	}
}

// parseTime reads an entry's Time: epoch seconds (a JSON number, possibly
// fractional), an RFC 3339 string, or nothing.
func parseTime(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err == nil {
		whole, frac := math.Modf(secs)
		return time.Unix(int64(whole), int64(frac*1e9)).UTC(), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, errors.New("want epoch seconds or an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want epoch seconds or an RFC 3339 string: %w", err)
	}
	return t, nil
}

// writeError writes an AWS JSON 1.1 error, which the SDKs read from
// "__type" and "message".
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg}) // the client is gone if this fails
}
