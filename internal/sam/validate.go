package sam

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// The official SAM schema (schema_source/sam.schema.json, draft-04) and
// policy-template list (policy_templates_data/policy_templates.json), copied
// from aws/serverless-application-model at commit 7000d0a. Embedded so
// Validate works from any working directory, including the local stack's
// binary; the tests read the same copies.
var (
	//go:embed testdata/sam.schema.json
	samSchemaJSON []byte
	//go:embed testdata/sam-policy-templates.json
	policyTemplatesJSON []byte
)

// Validate checks a template file for the mistakes `sam validate` or
// `sam build` would otherwise find late: it must match the official SAM JSON
// schema, name only known policy templates, have a Makefile build target for
// every function built with `BuildMethod: makefile`, and parse (Parse). It
// returns one error that lists every problem, or nil.
func Validate(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read template: %w", err)
	}
	var probe any
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return fmt.Errorf("template %s is not valid YAML: %w", path, err)
	}
	var problems []string
	if err := CheckSchema(data); err != nil {
		problems = append(problems, err.Error())
	}
	tpl, err := Parse(data)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if err := CheckPolicyTemplates(data); err != nil {
		problems = append(problems, err.Error())
	}
	if tpl != nil {
		if err := CheckMakefileTargets(tpl, filepath.Dir(path)); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("template %s is not valid:\n  %s", path, strings.Join(problems, "\n  "))
	}
	return nil
}

// compiledSchema compiles the embedded schema once: it is large (750 KB).
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(samSchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("read SAM schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	// The schema uses look-ahead patterns such as ^(?!AWS::Serverless::).+$,
	// which Go's RE2 cannot compile; JSON Schema means ECMAScript regexps.
	c.UseRegexpEngine(func(s string) (jsonschema.Regexp, error) {
		re, err := regexp2.Compile(s, regexp2.ECMAScript)
		if err != nil {
			return nil, err
		}
		return ecmaRegexp{re}, nil
	})
	const url = "https://qunyun.local/sam.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("load SAM schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile SAM schema: %w", err)
	}
	return s, nil
})

type ecmaRegexp struct{ re *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return err == nil && ok
}

func (r ecmaRegexp) String() string { return r.re.String() }

// CheckSchema validates template YAML against the official SAM schema.
// CloudFormation short tags (!Ref X, !Sub ...) decode as plain scalars or
// lists, which the schema accepts where an intrinsic may stand.
func CheckSchema(data []byte) error {
	schema, err := compiledSchema()
	if err != nil {
		return err
	}
	doc, err := yamlAsJSON(data)
	if err != nil {
		return err
	}
	err = schema.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("SAM schema: %w", err)
	}
	return fmt.Errorf("does not match the SAM schema:\n    %s", strings.Join(explain(ve), "\n    "))
}

// yamlAsJSON decodes YAML into the plain JSON values the validator expects
// (float64 numbers, map[string]any objects), with CloudFormation's short
// tags in their long form ({"Ref": X}, {"Fn::Sub": ...}), as the schema
// expects an intrinsic: a !Ref where the schema allows an intrinsic or a
// few literal strings (Tracing) is an intrinsic, not an unknown literal.
func yamlAsJSON(data []byte) (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	var v any
	if len(n.Content) > 0 {
		var err error
		if v, err = longForm(n.Content[0]); err != nil {
			return nil, err
		}
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("template as JSON: %w", err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(j))
}

// longForm decodes a node, turning a short-tagged value into its intrinsic.
func longForm(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			x, err := longForm(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = x
		}
		v = m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			x, err := longForm(c)
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		v = l
	case yaml.AliasNode:
		return longForm(n.Alias)
	default:
		if strings.HasPrefix(n.Tag, "!!") || n.Tag == "" {
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
		} else {
			v = n.Value
		}
	}
	switch tag := n.Tag; {
	case tag == "!Ref", tag == "!Condition":
		return map[string]any{tag[1:]: v}, nil
	case tag == "!GetAtt":
		if s, ok := v.(string); ok {
			id, attr, _ := strings.Cut(s, ".")
			v = []any{id, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!"):
		return map[string]any{"Fn::" + tag[1:]: v}, nil
	}
	return v, nil
}

// explain turns a validation error tree into a few readable lines. The SAM
// schema offers every resource and event type as an anyOf branch, so the raw
// tree is mostly "this is not an SQS event" noise. A branch whose Type
// does not match is dropped; when no branch's Type matches, the Type itself is
// the mistake and one line lists the types allowed.
func explain(ve *jsonschema.ValidationError) []string {
	var out []string
	for _, l := range reduce(ve) {
		line := "at /" + strings.Join(l.at, "/") + ": " + l.msg
		if !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	sort.Strings(out)
	return out
}

type schemaLeaf struct {
	at       []string
	msg      string
	typeWant []any // set when the leaf is a Type const/enum mismatch
	typeGot  any
}

var english = message.NewPrinter(language.English)

func reduce(e *jsonschema.ValidationError) []schemaLeaf {
	if len(e.Causes) == 0 {
		l := schemaLeaf{at: e.InstanceLocation, msg: e.ErrorKind.LocalizedString(english)}
		if n := len(e.InstanceLocation); n > 0 && e.InstanceLocation[n-1] == "Type" {
			switch k := e.ErrorKind.(type) {
			case *kind.Const:
				l.typeWant, l.typeGot = []any{k.Want}, k.Got
			case *kind.Enum:
				l.typeWant, l.typeGot = k.Want, k.Got
			}
		}
		return []schemaLeaf{l}
	}
	var all []schemaLeaf
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		var kept [][]schemaLeaf
		var wants []any
		var got any
		for _, c := range e.Causes {
			leaves := reduce(c)
			if w, g, mismatch := typeMismatch(leaves, len(e.InstanceLocation)); mismatch {
				wants, got = append(wants, w...), g
				continue
			}
			kept = append(kept, leaves)
		}
		if len(kept) == 0 && len(wants) > 0 {
			names := make([]string, 0, len(wants))
			for _, w := range wants {
				if s := fmt.Sprint(w); !slices.Contains(names, s) {
					names = append(names, s)
				}
			}
			sort.Strings(names)
			at := append(slices.Clone(e.InstanceLocation), "Type")
			return []schemaLeaf{{at: at, msg: fmt.Sprintf("unknown type %v; want one of %s", got, strings.Join(names, ", "))}}
		}
		// Of the branches whose Type fits, the one with the fewest
		// complaints is the one the author meant.
		for i, k := range kept {
			if i == 0 || len(k) < len(all) {
				all = k
			}
		}
		return all
	}
	for _, c := range e.Causes {
		all = append(all, reduce(c)...)
	}
	return all
}

// typeMismatch reports whether a branch failed because the value's Type
// (directly under the location the anyOf applies to) is another one.
func typeMismatch(leaves []schemaLeaf, depth int) (want []any, got any, ok bool) {
	for _, l := range leaves {
		if l.typeWant != nil && len(l.at) == depth+1 {
			return l.typeWant, l.typeGot, true
		}
	}
	return nil, nil, false
}

// CheckPolicyTemplates checks that every SAM policy template a function names
// under Policies (in the form `- DynamoDBCrudPolicy: {...}`) is one SAM knows;
// a misspelt name would otherwise surface only at deploy time.
func CheckPolicyTemplates(data []byte) error {
	var doc struct {
		Globals struct {
			Function struct {
				Policies any `yaml:"Policies"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Policies any `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parse YAML: %w", err)
	}
	known, err := PolicyTemplateNames()
	if err != nil {
		return err
	}
	var bad []string
	check := func(where string, policies any) {
		list, ok := policies.([]any)
		if !ok {
			return // a single managed policy name or ARN
		}
		for _, p := range list {
			m, ok := p.(map[string]any)
			if !ok || len(m) != 1 {
				continue // managed policy name/ARN, or an inline policy document
			}
			for name := range m {
				if name == "Statement" || name == "Version" {
					continue
				}
				if !known[name] {
					bad = append(bad, fmt.Sprintf("%s: unknown policy template %q", where, name))
				}
			}
		}
	}
	check("Globals.Function", doc.Globals.Function.Policies)
	for id, r := range doc.Resources {
		if r.Type == "AWS::Serverless::Function" {
			check(id, r.Properties.Policies)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("policy templates: %s", strings.Join(bad, "; "))
	}
	return nil
}

// PolicyTemplateNames returns the names in SAM's official policy-template list.
func PolicyTemplateNames() (map[string]bool, error) {
	var list struct {
		Templates map[string]json.RawMessage `json:"Templates"`
	}
	if err := json.Unmarshal(policyTemplatesJSON, &list); err != nil {
		return nil, fmt.Errorf("read SAM policy templates: %w", err)
	}
	names := make(map[string]bool, len(list.Templates))
	for n := range list.Templates {
		names[n] = true
	}
	return names, nil
}

// CheckMakefileTargets checks that each function built with
// `BuildMethod: makefile` has a `build-<LogicalId>:` target in the Makefile
// of its CodeUri (relative to dir, the template's folder), which is where
// `sam build` looks.
func CheckMakefileTargets(tpl *Template, dir string) error {
	var bad []string
	targets := map[string]map[string]bool{} // Makefile path → targets
	for _, f := range tpl.Functions {
		if f.BuildMethod != "makefile" {
			continue
		}
		mk := filepath.Join(dir, f.CodeURI, "Makefile")
		if _, seen := targets[mk]; !seen {
			data, err := os.ReadFile(mk)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s builds with a Makefile: %v", f.LogicalID, err))
				targets[mk] = nil
				continue
			}
			targets[mk] = MakefileTargets(data)
		}
		if targets[mk] != nil && !targets[mk]["build-"+f.LogicalID] {
			bad = append(bad, fmt.Sprintf("%s has no target build-%s", mk, f.LogicalID))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("makefile builds: %s", strings.Join(bad, "; "))
	}
	return nil
}

var (
	makeRule     = regexp.MustCompile(`(?m)^([^\s#:=][^:=]*?)\s*::?(?:[^=]|$)`)
	makeVariable = regexp.MustCompile(`(?m)^([A-Za-z_][A-Za-z0-9_]*)\s*:?=[ \t]*(.*)$`)
	makeAddFix   = regexp.MustCompile(`\$\(addprefix\s+([^,]+),\s*\$\(([A-Za-z_][A-Za-z0-9_]*)\)\)`)
)

// MakefileTargets lists the explicit targets of a Makefile. It understands
// plain rules (`build-X:`), several targets on one line, and the
// `$(addprefix build-,$(VAR))` form with VAR a plain `:=` or `=` list, which is
// as much make as this project's Makefile uses. Special targets such as
// .PHONY define nothing and are skipped.
func MakefileTargets(data []byte) map[string]bool {
	vars := map[string]string{}
	for _, m := range makeVariable.FindAllSubmatch(data, -1) {
		vars[string(m[1])] = strings.TrimSpace(string(m[2]))
	}
	out := map[string]bool{}
	for _, m := range makeRule.FindAllSubmatch(data, -1) {
		line := makeAddFix.ReplaceAllStringFunc(string(m[1]), func(expr string) string {
			a := makeAddFix.FindStringSubmatch(expr)
			var ts []string
			for _, v := range strings.Fields(vars[a[2]]) {
				ts = append(ts, strings.TrimSpace(a[1])+v)
			}
			return strings.Join(ts, " ")
		})
		targets := strings.Fields(line)
		if len(targets) == 0 || strings.HasPrefix(targets[0], ".") {
			continue
		}
		for _, t := range targets {
			out[t] = true
		}
	}
	return out
}
