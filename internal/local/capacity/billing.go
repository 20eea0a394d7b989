package capacity

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strings"
)

// How a request is billed: what it asked, the units the engine answered,
// and the index writes the meter counts from the items before and after.

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
