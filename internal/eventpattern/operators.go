package eventpattern

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// numericLimit is the magnitude EventBridge accepts in numeric matching.
const numericLimit = 5e9

// predicate tests one leaf value of an event.
type predicate interface {
	ok(v any) bool
}

// valueTest matches when any leaf value satisfies the predicate.
type valueTest struct{ p predicate }

func (t valueTest) matches(values []any) bool { return slices.ContainsFunc(values, t.p.ok) }

// anythingBut matches when the field has a leaf value the excluded
// predicate rejects.
type anythingBut struct{ excluded predicate }

func (t anythingBut) matches(values []any) bool {
	return slices.ContainsFunc(values, func(v any) bool { return !t.excluded.ok(v) })
}

// existsTest matches on the presence of leaf values.
type existsTest struct{ want bool }

func (t existsTest) matches(values []any) bool { return (len(values) > 0) == t.want }

type equalString string

func (p equalString) ok(v any) bool { s, isStr := v.(string); return isStr && s == string(p) }

type equalNumber float64

func (p equalNumber) ok(v any) bool { f, isNum := number(v); return isNum && f == float64(p) }

type equalBool bool

func (p equalBool) ok(v any) bool { b, isBool := v.(bool); return isBool && b == bool(p) }

type isNull struct{}

func (isNull) ok(v any) bool { return v == nil }

type equalFold string

func (p equalFold) ok(v any) bool {
	s, isStr := v.(string)
	return isStr && strings.EqualFold(s, string(p))
}

type prefix struct {
	s    string
	fold bool
}

func (p prefix) ok(v any) bool {
	s, isStr := v.(string)
	if !isStr {
		return false
	}
	if p.fold {
		return strings.HasPrefix(strings.ToLower(s), strings.ToLower(p.s))
	}
	return strings.HasPrefix(s, p.s)
}

type suffix struct {
	s    string
	fold bool
}

func (p suffix) ok(v any) bool {
	s, isStr := v.(string)
	if !isStr {
		return false
	}
	if p.fold {
		return strings.HasSuffix(strings.ToLower(s), strings.ToLower(p.s))
	}
	return strings.HasSuffix(s, p.s)
}

// anyOf is a list of predicates (OR), for anything-but lists.
type anyOf []predicate

func (p anyOf) ok(v any) bool {
	return slices.ContainsFunc(p, func(q predicate) bool { return q.ok(v) })
}

// wildcard matches strings against a glob whose only metacharacter is *.
// parts are the literal pieces between stars.
type wildcard struct{ parts []string }

func (p wildcard) ok(v any) bool {
	s, isStr := v.(string)
	if !isStr {
		return false
	}
	first, last := p.parts[0], p.parts[len(p.parts)-1]
	if len(p.parts) == 1 {
		return s == first
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range p.parts[1 : len(p.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

// numericRange is a numeric test: = alone, or optional lower and upper bounds.
type numericRange struct {
	eq                   *float64
	lo, hi               *float64
	loInclude, hiInclude bool
}

func (p numericRange) ok(v any) bool {
	f, isNum := number(v)
	switch {
	case !isNum:
		return false
	case p.eq != nil:
		return f == *p.eq
	}
	if p.lo != nil && (f < *p.lo || (f == *p.lo && !p.loInclude)) {
		return false
	}
	if p.hi != nil && (f > *p.hi || (f == *p.hi && !p.hiInclude)) {
		return false
	}
	return true
}

type cidr struct{ prefix netip.Prefix }

func (p cidr) ok(v any) bool {
	s, isStr := v.(string)
	if !isStr {
		return false
	}
	addr, err := netip.ParseAddr(s)
	return err == nil && p.prefix.Contains(addr.Unmap())
}

// exactValue compiles a plain value in a pattern array.
func exactValue(v any, path string) (predicate, error) {
	switch v := v.(type) {
	case string:
		return equalString(v), nil
	case json.Number:
		f, ok := number(v)
		if !ok {
			return nil, fmt.Errorf("%s: invalid number %s", path, v)
		}
		return equalNumber(f), nil
	case bool:
		return equalBool(v), nil
	case nil:
		return isNull{}, nil
	default:
		return nil, fmt.Errorf("%s: unexpected %s", path, typeName(v))
	}
}

// compileOperator compiles an object in a pattern array, such as
// {"prefix": "us-"}.
func compileOperator(obj map[string]any, path string) (test, error) {
	if len(obj) != 1 {
		return nil, fmt.Errorf("%s: an operator object must have exactly one key, got %d", path, len(obj))
	}
	op, arg := only(obj)
	p := path + "." + op
	switch op {
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: want true or false, got %s", p, typeName(arg))
		}
		return existsTest{b}, nil
	case "anything-but":
		excluded, err := compileAnythingBut(arg, p)
		if err != nil {
			return nil, err
		}
		return anythingBut{excluded}, nil
	case "numeric":
		r, err := compileNumeric(arg, p)
		if err != nil {
			return nil, err
		}
		return valueTest{r}, nil
	case "cidr":
		c, err := compileCIDR(arg, p)
		if err != nil {
			return nil, err
		}
		return valueTest{c}, nil
	case "prefix", "suffix", "equals-ignore-case", "wildcard":
		pred, err := compileStringOp(op, arg, p, true)
		if err != nil {
			return nil, err
		}
		return valueTest{pred}, nil
	default:
		return nil, fmt.Errorf("%s: unknown operator %q", path, op)
	}
}

// only returns the single key and value of a one-key object.
func only(obj map[string]any) (string, any) {
	for k, v := range obj {
		return k, v
	}
	return "", nil
}

// compileStringOp compiles prefix, suffix, equals-ignore-case and wildcard.
// prefix and suffix may wrap {"equals-ignore-case": s} when nested is true.
func compileStringOp(op string, arg any, path string, nested bool) (predicate, error) {
	if obj, ok := arg.(map[string]any); ok && nested && (op == "prefix" || op == "suffix") {
		s, ok := obj["equals-ignore-case"].(string)
		if len(obj) != 1 || !ok {
			return nil, fmt.Errorf("%s: want a string or {\"equals-ignore-case\": string}", path)
		}
		if op == "prefix" {
			return prefix{s, true}, nil
		}
		return suffix{s, true}, nil
	}
	s, ok := arg.(string)
	if !ok {
		return nil, fmt.Errorf("%s: want a string, got %s", path, typeName(arg))
	}
	switch op {
	case "prefix":
		return prefix{s, false}, nil
	case "suffix":
		return suffix{s, false}, nil
	case "equals-ignore-case":
		return equalFold(s), nil
	default:
		return compileWildcard(s, path)
	}
}

// compileWildcard splits a glob on unescaped '*'. "\*" is a literal star
// and "\\" a literal backslash; two stars in a row are not allowed.
func compileWildcard(s, path string) (predicate, error) {
	var parts []string
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*':
			if prevStar {
				return nil, fmt.Errorf("%s: %q: consecutive wildcard characters are not allowed", path, s)
			}
			parts = append(parts, cur.String())
			cur.Reset()
			prevStar = true
			continue
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, fmt.Errorf("%s: %q: a backslash must escape * or \\", path, s)
			}
			i++
			cur.WriteByte(s[i])
		default:
			cur.WriteByte(c)
		}
		prevStar = false
	}
	parts = append(parts, cur.String())
	return wildcard{parts}, nil
}

// compileAnythingBut compiles the argument of anything-but into the
// predicate of what is excluded.
func compileAnythingBut(arg any, path string) (predicate, error) {
	switch v := arg.(type) {
	case string, json.Number:
		return exactValue(v, path)
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: the list must not be empty", path)
		}
		list := make(anyOf, 0, len(v))
		_, wantString := v[0].(string)
		for i, el := range v {
			_, isString := el.(string)
			_, isNumber := el.(json.Number)
			if (!isString && !isNumber) || isString != wantString {
				return nil, fmt.Errorf("%s[%d]: the list must hold only strings or only numbers", path, i)
			}
			p, err := exactValue(el, path)
			if err != nil {
				return nil, err
			}
			list = append(list, p)
		}
		return list, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, fmt.Errorf("%s: want one of prefix, suffix, equals-ignore-case, wildcard", path)
		}
		op, inner := only(v)
		p := path + "." + op
		switch op {
		case "prefix", "suffix":
			return compileStringOp(op, inner, p, false)
		case "equals-ignore-case", "wildcard":
			return compileStringList(op, inner, p)
		default:
			return nil, fmt.Errorf("%s: unknown operator %q inside anything-but", path, op)
		}
	}
	return nil, fmt.Errorf("%s: want a string, a number, a list, or an operator object, got %s", path, typeName(arg))
}

// compileStringList accepts a string or a non-empty list of strings.
func compileStringList(op string, arg any, path string) (predicate, error) {
	list, ok := arg.([]any)
	if !ok {
		return compileStringOp(op, arg, path, false)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: the list must not be empty", path)
	}
	out := make(anyOf, 0, len(list))
	for i, el := range list {
		p, err := compileStringOp(op, el, fmt.Sprintf("%s[%d]", path, i), false)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func compileNumeric(arg any, path string) (predicate, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return nil, fmt.Errorf("%s: want [op, number] or [lower-op, number, upper-op, number]", path)
	}
	var r numericRange
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want an operator (=, <, <=, >, >=), got %s", path, i, typeName(list[i]))
		}
		f, ok := number(list[i+1])
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want a number after %q, got %s", path, i+1, op, typeName(list[i+1]))
		}
		if f < -numericLimit || f > numericLimit {
			return nil, fmt.Errorf("%s[%d]: %v is outside -5e9..5e9", path, i+1, f)
		}
		switch op {
		case "=":
			if len(list) != 2 {
				return nil, fmt.Errorf("%s: \"=\" cannot be combined with other operators", path)
			}
			r.eq = &f
		case ">", ">=":
			if r.lo != nil {
				return nil, fmt.Errorf("%s: more than one lower bound", path)
			}
			r.lo, r.loInclude = &f, op == ">="
		case "<", "<=":
			if r.hi != nil {
				return nil, fmt.Errorf("%s: more than one upper bound", path)
			}
			r.hi, r.hiInclude = &f, op == "<="
		default:
			return nil, fmt.Errorf("%s[%d]: unknown numeric operator %q", path, i, op)
		}
	}
	if r.lo != nil && r.hi != nil && *r.lo > *r.hi {
		return nil, fmt.Errorf("%s: the lower bound %v is above the upper bound %v", path, *r.lo, *r.hi)
	}
	return r, nil
}

func compileCIDR(arg any, path string) (predicate, error) {
	s, ok := arg.(string)
	if !ok {
		return nil, fmt.Errorf("%s: want a CIDR string, got %s", path, typeName(arg))
	}
	if pfx, err := netip.ParsePrefix(s); err == nil {
		return cidr{pfx.Masked()}, nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an IP address or CIDR block", path, s)
	}
	return cidr{netip.PrefixFrom(addr, addr.BitLen())}, nil
}
