package sam_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/qunyun/qunyun/internal/sam"
	"gopkg.in/yaml.v3"
)

// The template as CloudFormation reads it for one set of parameter values
// (deploy): conditions evaluated, Fn::If resolved, the resources and outputs
// whose condition is false dropped. The stack tests run it on the template
// as written and, where the SAM translator (Python, aws-sam-translator) is
// installed, on the template it translates to, which holds what SAM
// generates (the implicit HttpApi, its stage, the bus rules) and so shows
// whether every reference to those resolves.

// cfnDoc is a template as JSON values, intrinsics in their long form
// ({"Ref": X}, {"Fn::GetAtt": [X, Attr]}, {"Fn::If": [...]}).
type cfnDoc map[string]any

// readTemplate converts template.yaml's short tags (!Ref, !Sub ...) to the
// long form SAM's translator also writes.
func readTemplate(t *testing.T) cfnDoc {
	t.Helper()
	data, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		t.Fatal(err)
	}
	v, err := sam.LongForm(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	return v.(map[string]any)
}

// translateTemplate runs SAM's translator on template.yaml with the
// parameters' defaults; errNoTranslator when Python or aws-sam-translator
// is missing.
func translateTemplate() (cfnDoc, error) { return translateWith(nil) }

// translateWith runs the translator with parameter values, as
// CloudFormation does on deploy (SAM resolves !Ref of a parameter where
// it must know the value, such as Tracing), once per set and test binary.
func translateWith(params map[string]string) (cfnDoc, error) {
	v, _ := translations.LoadOrStore(jsonString(params), &translation{})
	tr := v.(*translation)
	tr.once.Do(func() { tr.doc, tr.err = runTranslator(params) })
	return tr.doc, tr.err
}

var translations sync.Map // parameters as JSON → *translation

type translation struct {
	once sync.Once
	doc  cfnDoc
	err  error
}

func runTranslator(params map[string]string) (cfnDoc, error) {
	const script = `
import json, sys
try:
    from samtranslator.yaml_helper import yaml_parse
    from samtranslator.translator.transform import transform
    from samtranslator.public.exceptions import InvalidDocumentException
except ImportError:
    sys.exit(3)
class NoManagedPolicies:
    def load(self): return {}
src = open(sys.argv[1]).read().replace("CodeUri: .", "CodeUri: s3://bucket/code.zip")
try:
    out = transform(yaml_parse(src), json.loads(sys.argv[2]), NoManagedPolicies())
except InvalidDocumentException as e:
    sys.exit("\n".join(c.message for c in e.causes))
json.dump(out, sys.stdout, default=str)
`
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, errNoTranslator
	}
	path, err := filepath.Abs("../../template.yaml")
	if err != nil {
		return nil, err
	}
	if params == nil {
		params = map[string]string{}
	}
	cmd := exec.Command(python, "-c", script, path, jsonString(params))
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=us-east-1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 3 {
		return nil, errNoTranslator
	}
	if err != nil {
		return nil, fmt.Errorf("SAM translator: %v: %s", err, stderr.String())
	}
	var doc cfnDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("SAM translator output: %w", err)
	}
	return doc, nil
}

var errNoTranslator = errors.New("python3 with aws-sam-translator is not installed")

// sources runs check on the template as written and, when the translator
// is installed, on its translation.
func sources(t *testing.T, check func(t *testing.T, doc cfnDoc)) { sourcesWith(t, nil, check) }

// sourcesWith is sources with the template translated for params (check
// still deploys with the parameters it wants).
func sourcesWith(t *testing.T, params map[string]string, check func(t *testing.T, doc cfnDoc)) {
	t.Run("template", func(t *testing.T) { check(t, readTemplate(t)) })
	t.Run("translated", func(t *testing.T) {
		doc, err := translateWith(params)
		if errors.Is(err, errNoTranslator) {
			// The CI machine's image ships aws-sam-translator: there a
			// missing translator is a broken set-up, not a reason to skip.
			if os.Getenv("CI") != "" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		check(t, doc)
	})
}

// stack is what CloudFormation would create from a cfnDoc for some
// parameter values.
type stack struct {
	Params    map[string]string
	Resources map[string]resource
	Outputs   map[string]any // output name → Value
}

type resource struct {
	Type       string
	Properties map[string]any
	DependsOn  []string
}

// deploy evaluates doc for params (the others keep their defaults).
func deploy(t *testing.T, doc cfnDoc, params map[string]string) stack {
	t.Helper()
	st := stack{Params: map[string]string{}, Resources: map[string]resource{}, Outputs: map[string]any{}}
	for name, p := range asMap(doc["Parameters"]) {
		st.Params[name] = fmt.Sprint(asMap(p)["Default"])
	}
	for name, v := range params {
		if _, ok := st.Params[name]; !ok {
			t.Fatalf("template has no parameter %s", name)
		}
		st.Params[name] = v
	}
	conds := asMap(doc["Conditions"])
	var cond func(name string) bool
	var eval func(expr any) bool
	cond = func(name string) bool {
		expr, ok := conds[name]
		if !ok {
			t.Fatalf("unknown condition %s", name)
		}
		return eval(expr)
	}
	eval = func(expr any) bool {
		m := asMap(expr)
		switch {
		case m["Condition"] != nil:
			return cond(m["Condition"].(string))
		case m["Fn::Not"] != nil:
			return !eval(asList(m["Fn::Not"])[0])
		case m["Fn::And"] != nil:
			for _, e := range asList(m["Fn::And"]) {
				if !eval(e) {
					return false
				}
			}
			return true
		case m["Fn::Or"] != nil:
			return slices.ContainsFunc(asList(m["Fn::Or"]), eval)
		case m["Fn::Equals"] != nil:
			args := asList(m["Fn::Equals"])
			return st.scalar(t, args[0]) == st.scalar(t, args[1])
		}
		t.Fatalf("condition %v: not understood", expr)
		return false
	}
	present := func(v any) bool {
		c, ok := asMap(v)["Condition"].(string)
		return !ok || cond(c)
	}
	for id, r := range asMap(doc["Resources"]) {
		if !present(r) {
			continue
		}
		m := asMap(r)
		res := resource{Type: m["Type"].(string), Properties: asMap(st.resolve(t, m["Properties"], cond))}
		switch d := m["DependsOn"].(type) {
		case string:
			res.DependsOn = []string{d}
		case []any:
			for _, x := range d {
				res.DependsOn = append(res.DependsOn, x.(string))
			}
		}
		st.Resources[id] = res
	}
	for name, o := range asMap(doc["Outputs"]) {
		if present(o) {
			st.Outputs[name] = st.resolve(t, asMap(o)["Value"], cond)
		}
	}
	return st
}

// scalar is a literal or a parameter's value.
func (st stack) scalar(t *testing.T, v any) string {
	if ref, ok := asMap(v)["Ref"].(string); ok {
		p, ok := st.Params[ref]
		if !ok {
			t.Fatalf("!Ref %s: not a parameter", ref)
		}
		return p
	}
	return fmt.Sprint(v)
}

var noValue = &struct{}{}

// resolve picks Fn::If branches, drops AWS::NoValue, and puts parameter
// values in for !Ref and ${Name}; other references stay as they are.
func (st stack) resolve(t *testing.T, v any, cond func(string) bool) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if args, ok := x["Fn::If"]; ok {
				l := asList(args)
				if cond(l[0].(string)) {
					return st.resolve(t, l[1], cond)
				}
				return st.resolve(t, l[2], cond)
			}
			if ref, ok := x["Ref"].(string); ok {
				if ref == "AWS::NoValue" {
					return noValue
				}
				if p, ok := st.Params[ref]; ok {
					return p
				}
			}
			if s, ok := x["Fn::Sub"].(string); ok {
				for name, p := range st.Params {
					s = strings.ReplaceAll(s, "${"+name+"}", p)
				}
				return map[string]any{"Fn::Sub": s}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			if r := st.resolve(t, e, cond); r != noValue {
				out[k] = r
			}
		}
		return out
	case []any:
		out := []any{}
		for _, e := range x {
			if r := st.resolve(t, e, cond); r != noValue {
				out = append(out, r)
			}
		}
		return out
	}
	return v
}

// ofType returns the ids of the resources of a type, sorted.
func (st stack) ofType(typ string) []string {
	var ids []string
	for id, r := range st.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// at walks a path of map keys and list indexes ("0").
func at(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var subName = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z0-9.]+)?\}`)

// references lists the logical ids a value names through Ref, Fn::GetAtt
// and Fn::Sub.
func references(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 {
			return []string{ref}
		}
		if l := asList(x["Fn::GetAtt"]); len(x) == 1 && len(l) > 0 {
			return []string{fmt.Sprint(l[0])}
		}
		if sub, ok := x["Fn::Sub"]; ok && len(x) == 1 {
			s, vars := sub, map[string]any{}
			if l := asList(sub); len(l) == 2 {
				s, vars = l[0], asMap(l[1])
				out = append(out, references(l[1])...)
			}
			if str, ok := s.(string); ok {
				for _, m := range subName.FindAllStringSubmatch(str, -1) {
					if _, local := vars[m[1]]; !local {
						out = append(out, m[1])
					}
				}
			}
			return out
		}
		for _, e := range x {
			out = append(out, references(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, references(e)...)
		}
	}
	return out
}
