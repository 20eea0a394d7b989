package community

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"

	"github.com/qunyun/qunyun/internal/qunyun"
)

//go:embed community.schema.json
var schemaJSON []byte

// Schema returns the JSON Schema of community.yaml (draft 2020-12).
func Schema() []byte { return bytes.Clone(schemaJSON) }

// Problem is one thing wrong in a file, where it is and what was expected.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path,omitempty"` // e.g. groups[2].purpose
	Message string `json:"message"`
}

func (p Problem) String() string {
	loc := fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
	if p.Path != "" {
		return loc + ": " + p.Path + ": " + p.Message
	}
	return loc + ": " + p.Message
}

// Problems is the error Load returns when a file is not valid: every
// problem found, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets callers match the domain error code (EINVALID).
func (ps Problems) Unwrap() error {
	return qunyun.Errorf(qunyun.EINVALID, "%d problem(s) in community file", len(ps))
}

// Load reads and validates a community file.
func Load(path string) (*Community, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read community file: %w", err)
	}
	return Parse(path, data)
}

// Parse validates data (named name in errors) against the schema and the
// semantic rules and returns the community it describes. Any problem means
// no Community: the caller has nothing to apply.
func Parse(name string, data []byte) (*Community, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Problems{yamlSyntaxProblem(name, err)}
	}
	if len(doc.Content) == 0 {
		return nil, Problems{{File: name, Line: 1, Column: 1, Message: "the file is empty; expected a mapping with groups, contents, plans, ..."}}
	}
	root := doc.Content[0]
	ix := &index{file: name, nodes: map[string]located{}}
	instance, err := ix.walk(root, nil, "")
	if err != nil {
		return nil, err
	}
	problems := validateSchema(ix, instance)
	var f File
	if err := root.Decode(&f); err != nil {
		if len(problems) > 0 {
			return nil, problems // the schema has said what is wrong with the types
		}
		return nil, Problems{yamlSyntaxProblem(name, err)}
	}
	// The semantic checks run even after schema problems, so one run
	// reports a typo and a dangling reference together.
	problems = append(problems, check(ix, &f)...)
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, problems
	}
	c := f.community()
	manual := map[string]string{}
	for i, m := range f.Sessions.Manual {
		manual[m.ID] = strconv.Itoa(i)
	}
	c.at = func(id, field, msg string) Problem {
		return ix.problem(msg, "sessions", "manual", manual[id], field)
	}
	return c, nil
}

// located is where one value (and its key, for a mapping value) sits.
type located struct {
	value *yaml.Node
	key   *yaml.Node
	path  string
}

// index maps schema instance locations back to YAML nodes.
type index struct {
	file  string
	nodes map[string]located
}

func pointer(tokens []string) string { return strings.Join(tokens, "\x1f") }

// at returns the position of the value at tokens, or of its nearest
// existing parent, with the readable path.
func (ix *index) at(tokens ...string) (line, col int, path string) {
	for n := len(tokens); n >= 0; n-- {
		if l, ok := ix.nodes[pointer(tokens[:n])]; ok {
			return l.value.Line, l.value.Column, l.path
		}
	}
	return 1, 1, ""
}

// keyAt is like at but points at the key of a mapping entry (for unknown
// fields, where the key is the mistake).
func (ix *index) keyAt(tokens ...string) (line, col int, path string) {
	if l, ok := ix.nodes[pointer(tokens)]; ok && l.key != nil {
		return l.key.Line, l.key.Column, l.path
	}
	return ix.at(tokens...)
}

func (ix *index) problem(msg string, tokens ...string) Problem {
	line, col, path := ix.at(tokens...)
	return Problem{File: ix.file, Line: line, Column: col, Path: path, Message: msg}
}

// walk turns the YAML tree into the JSON-like value the schema validator
// takes, recording every node's position under its instance location.
func (ix *index) walk(n *yaml.Node, tokens []string, path string) (any, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	l := ix.nodes[pointer(tokens)]
	l.value, l.path = n, path
	ix.nodes[pointer(tokens)] = l
	switch n.Kind {
	case yaml.MappingNode:
		obj := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, Problems{{File: ix.file, Line: k.Line, Column: k.Column, Path: path, Message: "keys must be plain names"}}
			}
			if _, dup := obj[k.Value]; dup {
				return nil, Problems{{File: ix.file, Line: k.Line, Column: k.Column, Path: path, Message: fmt.Sprintf("%q appears twice in this mapping", k.Value)}}
			}
			if err := ix.entry(obj, k, v, tokens, path); err != nil {
				return nil, err
			}
		}
		// "<<: *anchor" merges an anchored mapping's entries (positions
		// from where the anchor was written); explicit keys win.
		for _, m := range merges {
			if err := ix.merge(obj, m, tokens, path); err != nil {
				return nil, err
			}
		}
		return obj, nil
	case yaml.SequenceNode:
		arr := make([]any, len(n.Content))
		for i, v := range n.Content {
			child := append(append([]string(nil), tokens...), strconv.Itoa(i))
			val, err := ix.walk(v, child, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			arr[i] = val
		}
		return arr, nil
	case yaml.ScalarNode:
		return scalar(n), nil
	}
	return nil, nil
}

func (ix *index) merge(obj map[string]any, m *yaml.Node, tokens []string, path string) error {
	if m.Kind == yaml.AliasNode {
		m = m.Alias
	}
	if m.Kind == yaml.SequenceNode {
		for _, e := range m.Content {
			if err := ix.merge(obj, e, tokens, path); err != nil {
				return err
			}
		}
		return nil
	}
	if m.Kind != yaml.MappingNode {
		return Problems{{File: ix.file, Line: m.Line, Column: m.Column, Path: path, Message: "<< merges a mapping; expected an alias such as *defaults"}}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if _, explicit := obj[k.Value]; explicit {
			continue
		}
		if err := ix.entry(obj, k, v, tokens, path); err != nil {
			return err
		}
	}
	return nil
}

// entry walks the value v of the mapping's key k into obj, recording
// where the key was written.
func (ix *index) entry(obj map[string]any, k, v *yaml.Node, tokens []string, path string) error {
	child := append(append([]string(nil), tokens...), k.Value)
	ix.nodes[pointer(child)] = located{key: k}
	cpath := k.Value
	if path != "" {
		cpath = path + "." + k.Value
	}
	val, err := ix.walk(v, child, cpath)
	if err != nil {
		return err
	}
	obj[k.Value] = val
	return nil
}

// scalar gives a YAML scalar its JSON type; timestamps stay strings (the
// schema and the checks parse them).
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int", "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
		}
	}
	return n.Value
}

var compiledSchema = compileSchema()

// compileSchema compiles the embedded schema once. It returns nil only if
// the embedded file is broken, a build mistake TestSchemaIsValidJSONSchema
// catches; Parse then reports it rather than panicking.
func compileSchema() *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("community.schema.json", doc); err != nil {
		return nil
	}
	s, err := c.Compile("community.schema.json")
	if err != nil {
		return nil
	}
	return s
}

func validateSchema(ix *index, instance any) Problems {
	if compiledSchema == nil {
		return Problems{{File: ix.file, Line: 1, Column: 1, Message: "internal: the embedded schema does not compile"}}
	}
	err := compiledSchema.Validate(instance)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return Problems{{File: ix.file, Line: 1, Column: 1, Message: err.Error()}}
	}
	p := message.NewPrinter(language.English)
	var out Problems
	seen := map[string]bool{}
	var visit func(e *jsonschema.ValidationError)
	visit = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				visit(c)
			}
			return
		}
		pr := schemaProblem(ix, e, p)
		if !seen[pr.String()] {
			seen[pr.String()] = true
			out = append(out, pr)
		}
	}
	visit(ve)
	sortProblems(out)
	return out
}

// schemaProblem words one schema failure for an operator: where, and what
// was expected instead.
func schemaProblem(ix *index, e *jsonschema.ValidationError, p *message.Printer) Problem {
	loc := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		// The unknown key is the mistake: point at it, and say what fits.
		name := k.Properties[0]
		line, col, path := ix.keyAt(append(append([]string(nil), loc...), name)...)
		msg := fmt.Sprintf("unknown field %q", name)
		if allowed := allowedFields(loc); len(allowed) > 0 {
			if near := nearest(name, allowed); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			msg += "; expected one of " + strings.Join(allowed, ", ")
		}
		return Problem{File: ix.file, Line: line, Column: col, Path: path, Message: msg}
	case *kind.Required:
		return ix.problem("missing required field "+quoteList(k.Missing), loc...)
	case *kind.Enum:
		got := valueText(ix, loc)
		return ix.problem(fmt.Sprintf("%s is not allowed; expected one of %s", got, enumList(k.Want)), loc...)
	case *kind.Pattern:
		got := valueText(ix, loc)
		return ix.problem(fmt.Sprintf("%s does not have the expected form (%s)", got, describePattern(k.Want)), loc...)
	}
	return ix.problem(e.ErrorKind.LocalizedString(p), loc...)
}

func valueText(ix *index, loc []string) string {
	if l, ok := ix.nodes[pointer(loc)]; ok && l.value != nil && l.value.Kind == yaml.ScalarNode {
		return strconv.Quote(l.value.Value)
	}
	return "the value"
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

func enumList(want []any) string {
	s := make([]string, len(want))
	for i, w := range want {
		s[i] = fmt.Sprint(w)
	}
	return strings.Join(s, ", ")
}

// describePattern turns the schema's few patterns into words.
func describePattern(re string) string {
	switch {
	case strings.Contains(re, "[01][0-9]|2[0-3]"):
		return "HH:MM, 24 h, e.g. 22:00"
	case strings.HasPrefix(re, "^(0[1-9]|1[0-2])-"):
		return "MM-DD, e.g. 01-15"
	case strings.HasPrefix(re, "^[0-9]{4}"):
		return "YYYY-MM-DD"
	case strings.HasPrefix(re, "^[A-Za-z0-9][A-Za-z0-9_"):
		return "letters, digits, _ - . : @, starting with a letter or digit; no '#'"
	case strings.HasPrefix(re, "^https?"):
		return "an http:// or https:// URL"
	case strings.HasPrefix(re, "^/"):
		return "an SSM parameter name such as /qunyun/prod/accounts/oa-main"
	}
	return "matching " + re
}

// allowedFields lists the properties the schema allows at loc, read from
// the schema document itself so the hint can never drift from the schema.
func allowedFields(loc []string) []string {
	var doc map[string]any
	if json.Unmarshal(schemaJSON, &doc) != nil {
		return nil
	}
	defs, _ := doc["$defs"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		for s != nil {
			ref, ok := s["$ref"].(string)
			if !ok {
				return s
			}
			s, _ = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		return nil
	}
	s := resolve(doc)
	for _, tok := range loc {
		if s == nil {
			return nil
		}
		if _, err := strconv.Atoi(tok); err == nil {
			if items, ok := s["items"].(map[string]any); ok {
				s = resolve(items)
				continue
			}
		}
		props, _ := s["properties"].(map[string]any)
		next, _ := props[tok].(map[string]any)
		s = resolve(next)
	}
	if s == nil {
		return nil
	}
	props, _ := s["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// nearest returns the allowed name closest to name by edit distance, if
// close enough to be a typo.
func nearest(name string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(name), strings.ToLower(a)); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File { // the members file's problems apart from the yaml's
			return ps[i].File < ps[j].File
		}
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Column < ps[j].Column
	})
}

// yamlSyntaxProblem turns a yaml.v3 error ("yaml: line 7: ...") into a
// Problem with the line; yaml.v3 gives no column for syntax errors.
func yamlSyntaxProblem(name string, err error) Problem {
	msg := err.Error()
	line := 1
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+len("line "):]
		if j := strings.IndexByte(rest, ':'); j > 0 {
			if n, convErr := strconv.Atoi(rest[:j]); convErr == nil {
				line = n
				msg = strings.TrimSpace(rest[j+1:])
			}
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return Problem{File: name, Line: line, Column: 1, Message: "YAML: " + msg}
}
