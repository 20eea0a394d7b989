// Package eventpattern compiles EventBridge event patterns and matches them
// against events, with the semantics of the EventBridge User Guide ("Event
// patterns", "Content filtering", "Arrays", "Null values and empty strings"):
//
//   - fields AND, the values in a field's array OR;
//   - an array-valued event field matches if any element matches, and a
//     nested pattern matches an array of objects if one object matches it;
//   - strings, numbers (compared as numbers), booleans and null match exactly;
//     "" and null are different;
//   - operators: prefix, suffix (both also with equals-ignore-case),
//     equals-ignore-case, wildcard, anything-but (a value, a list of strings
//     or of numbers, or prefix/suffix/equals-ignore-case/wildcard), numeric,
//     exists, cidr, and "$or" at any object level;
//   - exists works on leaves only: an object is not a leaf, so
//     {"exists": false} matches a field whose value is an object;
//   - a key given twice in a pattern: the last one counts.
//
// Choices where the guide is silent: anything-but matches any present leaf
// value the excluded set does not match, of any type (so null and numbers
// pass an anything-but on strings); exists:true matches a null value; numeric
// accepts bounds in either order (at most one lower and one upper, or "="
// alone) within ±5e9.
//
// It is for the local stack and tests. It must not fetch rules, deliver
// events or know about buses: the caller owns routing.
package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Pattern is a compiled event pattern. It is safe for concurrent use.
type Pattern struct {
	src  string
	root *node
}

// node is a pattern object: every field must match, and, if present, one of
// the "$or" alternatives.
type node struct {
	fields []field
	or     []*node
}

// field is one key of a pattern object: either a nested object or a leaf
// array of tests (OR).
type field struct {
	key   string
	sub   *node
	tests []test
}

// test is one element of a leaf array.
type test interface {
	// matches reports whether the event field, given as its leaf values
	// (none when absent or not a leaf), satisfies the test.
	matches(values []any) bool
}

// Compile parses an event pattern (a JSON object).
func Compile(pattern []byte) (*Pattern, error) {
	v, err := decode(pattern)
	if err != nil {
		return nil, fmt.Errorf("compile event pattern: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("compile event pattern: the pattern must be a JSON object")
	}
	root, err := compileObject(obj, "")
	if err != nil {
		return nil, fmt.Errorf("compile event pattern: %w", err)
	}
	return &Pattern{src: string(pattern), root: root}, nil
}

// String returns the pattern's source JSON.
func (p *Pattern) String() string { return p.src }

// Match reports whether the event (the full EventBridge envelope JSON)
// matches the pattern. It fails only when the event is not a JSON object.
func (p *Pattern) Match(event []byte) (bool, error) {
	v, err := decode(event)
	if err != nil {
		return false, fmt.Errorf("match event pattern: event: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false, errors.New("match event pattern: the event must be a JSON object")
	}
	return p.root.matches(obj), nil
}

// decode reads exactly one JSON value, keeping numbers as json.Number so
// that large or precise numbers survive.
func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	return v, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func compileObject(obj map[string]any, path string) (*node, error) {
	if len(obj) == 0 {
		return nil, fmt.Errorf("%s: an object in a pattern must not be empty", nameOf(path))
	}
	n := &node{}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic evaluation and error order
	for _, k := range keys {
		p := join(path, k)
		if k == "$or" {
			alts, err := compileOr(obj[k], p)
			if err != nil {
				return nil, err
			}
			n.or = alts
			continue
		}
		switch v := obj[k].(type) {
		case map[string]any:
			sub, err := compileObject(v, p)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, sub: sub})
		case []any:
			tests, err := compileLeaf(v, p)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, tests: tests})
		default:
			return nil, fmt.Errorf("%s: a pattern value must be an array or an object, got %s", p, typeName(v))
		}
	}
	return n, nil
}

func nameOf(path string) string {
	if path == "" {
		return "pattern"
	}
	return path
}

func compileOr(v any, path string) ([]*node, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("%s: $or must be a non-empty array of pattern objects", path)
	}
	alts := make([]*node, 0, len(arr))
	for i, el := range arr {
		obj, ok := el.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: $or must hold pattern objects, got %s", path, i, typeName(el))
		}
		alt, err := compileObject(obj, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		alts = append(alts, alt)
	}
	return alts, nil
}

func compileLeaf(arr []any, path string) ([]test, error) {
	if len(arr) == 0 {
		return nil, fmt.Errorf("%s: a pattern array must not be empty", path)
	}
	tests := make([]test, 0, len(arr))
	for i, el := range arr {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch v := el.(type) {
		case map[string]any:
			t, err := compileOperator(v, p)
			if err != nil {
				return nil, err
			}
			tests = append(tests, t)
		case []any:
			return nil, fmt.Errorf("%s: arrays inside a pattern array are not allowed", p)
		default:
			eq, err := exactValue(v, p)
			if err != nil {
				return nil, err
			}
			tests = append(tests, valueTest{eq})
		}
	}
	return tests, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// number returns v as a float64 if it is a JSON number.
func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return f, err == nil
}

// matches evaluates the pattern object against an event object; obj is nil
// when the event has no object at this place.
func (n *node) matches(obj map[string]any) bool {
	for _, f := range n.fields {
		v, present := obj[f.key]
		if f.sub != nil {
			if !f.sub.matchesValue(v, present) {
				return false
			}
			continue
		}
		values := leaves(v, present)
		if !slices.ContainsFunc(f.tests, func(t test) bool { return t.matches(values) }) {
			return false
		}
	}
	if len(n.or) > 0 {
		return slices.ContainsFunc(n.or, func(alt *node) bool { return alt.matches(obj) })
	}
	return true
}

// matchesValue applies a nested pattern to an event value: an object, an
// array holding objects (one must match), or anything else (as absent).
func (n *node) matchesValue(v any, present bool) bool {
	switch v := v.(type) {
	case map[string]any:
		return n.matches(v)
	case []any:
		objs := objects(v, nil)
		if len(objs) > 0 {
			return slices.ContainsFunc(objs, n.matches)
		}
	}
	return n.matches(nil)
}

func objects(arr []any, out []map[string]any) []map[string]any {
	for _, el := range arr {
		switch el := el.(type) {
		case map[string]any:
			out = append(out, el)
		case []any:
			out = objects(el, out)
		}
	}
	return out
}

// leaves returns the leaf values of an event field: the value itself, or the
// non-object elements of an array (flattened). Objects are not leaves.
func leaves(v any, present bool) []any {
	if !present {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		return nil
	case []any:
		var out []any
		for _, el := range v {
			out = append(out, leaves(el, true)...)
		}
		return out
	default:
		return []any{v}
	}
}
