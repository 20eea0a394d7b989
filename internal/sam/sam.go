// Package sam reads the project's template.yaml: the functions with their
// merged Globals, environment, events (HttpApi, ScheduleV2, EventBridgeRule)
// and the DynamoDB table. The local stack, the invoke command and the tests
// take everything from here, so template.yaml stays the single source of truth.
//
// It understands the CloudFormation intrinsics the template uses (!Ref, !Sub,
// !GetAtt, !If ...) only as far as reading them; it never deploys anything.
package sam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template.yaml.
type Template struct {
	Path       string
	Parameters map[string]Parameter
	Functions  []Function // sorted by LogicalID
	Tables     []Table
	Buses      []string // logical ids of AWS::Events::EventBus resources
	root       *yaml.Node
}

// Parameter is a template parameter with its default.
type Parameter struct {
	Type    string
	Default string
}

// Value is a property value that may be an intrinsic: a literal, !Ref X,
// !Sub "..." or !GetAtt X.Y.
type Value struct {
	Literal string
	Ref     string
	Sub     string
	GetAtt  string
}

// Resolve turns a Value into a string, asking refs for !Ref and ${X} names it
// does not know. Unknown names are an error, so a template typo shows up.
func (v Value) Resolve(refs func(name string) (string, bool)) (string, error) {
	switch {
	case v.Ref != "":
		s, ok := refs(v.Ref)
		if !ok {
			return "", fmt.Errorf("!Ref %s: unknown name", v.Ref)
		}
		return s, nil
	case v.GetAtt != "":
		s, ok := refs(v.GetAtt)
		if !ok {
			return "", fmt.Errorf("!GetAtt %s: unknown name", v.GetAtt)
		}
		return s, nil
	case v.Sub != "":
		var b strings.Builder
		rest := v.Sub
		for {
			i := strings.Index(rest, "${")
			if i < 0 {
				b.WriteString(rest)
				return b.String(), nil
			}
			j := strings.Index(rest[i:], "}")
			if j < 0 {
				return "", fmt.Errorf("!Sub %q: unclosed ${", v.Sub)
			}
			name := rest[i+2 : i+j]
			s, ok := refs(name)
			if !ok {
				return "", fmt.Errorf("!Sub %q: unknown name %s", v.Sub, name)
			}
			b.WriteString(rest[:i])
			b.WriteString(s)
			rest = rest[i+j+1:]
		}
	}
	return v.Literal, nil
}

// Function is an AWS::Serverless::Function with Globals merged in.
type Function struct {
	LogicalID   string
	CodeURI     string
	Handler     string
	Runtime     string
	BuildMethod string
	Timeout     int // seconds
	MemorySize  int // MB
	Environment map[string]Value
	Events      []Event
}

// Event is one trigger of a function.
type Event struct {
	Name string
	Type string // HttpApi, ScheduleV2, EventBridgeRule, ...
	// HttpApi
	Path   string
	Method string
	// ScheduleV2
	ScheduleExpression string
	Timezone           string
	Input              string
	// EventBridgeRule
	EventBusName Value
	Pattern      json.RawMessage
}

// Table is an AWS::DynamoDB::Table's key design, enough to create it.
type Table struct {
	LogicalID              string
	BillingMode            string
	AttributeDefinitions   []Attribute
	KeySchema              []KeyElement
	GlobalSecondaryIndexes []Index
	TTLAttribute           string // "" when TTL is off
	PITR                   bool
}

// Attribute is an AttributeDefinition.
type Attribute struct{ Name, Type string }

// KeyElement is a KeySchema element.
type KeyElement struct{ Name, KeyType string }

// Index is a global secondary index.
type Index struct {
	Name           string
	KeySchema      []KeyElement
	ProjectionType string
}

// Load reads and parses a template file.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// Parse parses template YAML.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("template is not a YAML mapping")
	}
	root := doc.Content[0]
	t := &Template{root: root, Parameters: map[string]Parameter{}}

	for name, p := range mapping(get(root, "Parameters")) {
		t.Parameters[name] = Parameter{Type: scalar(get(p, "Type")), Default: scalar(get(p, "Default"))}
	}
	globals := get(get(root, "Globals"), "Function")
	resources := get(root, "Resources")
	if resources == nil {
		return nil, fmt.Errorf("template has no Resources")
	}
	for id, r := range mapping(resources) {
		typ := scalar(get(r, "Type"))
		props := get(r, "Properties")
		switch typ {
		case "AWS::Serverless::Function":
			f, err := parseFunction(id, r, props, globals)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
			t.Functions = append(t.Functions, f)
		case "AWS::DynamoDB::Table":
			tb, err := parseTable(id, props)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
			t.Tables = append(t.Tables, tb)
		case "AWS::Events::EventBus":
			t.Buses = append(t.Buses, id)
		case "":
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
	}
	sort.Slice(t.Functions, func(i, j int) bool { return t.Functions[i].LogicalID < t.Functions[j].LogicalID })
	sort.Slice(t.Tables, func(i, j int) bool { return t.Tables[i].LogicalID < t.Tables[j].LogicalID })
	sort.Strings(t.Buses)
	return t, nil
}

// Function returns the function with the given logical id.
func (t *Template) Function(id string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == id {
			return f, true
		}
	}
	return Function{}, false
}

func parseFunction(id string, r, props, globals *yaml.Node) (Function, error) {
	f := Function{LogicalID: id, Environment: map[string]Value{}}
	pick := func(key string) *yaml.Node {
		if n := get(props, key); n != nil {
			return n
		}
		return get(globals, key)
	}
	f.CodeURI = scalar(pick("CodeUri"))
	f.Handler = scalar(pick("Handler"))
	f.Runtime = scalar(pick("Runtime"))
	f.BuildMethod = scalar(get(get(r, "Metadata"), "BuildMethod"))
	fmt.Sscan(scalar(pick("Timeout")), &f.Timeout)
	fmt.Sscan(scalar(pick("MemorySize")), &f.MemorySize)
	if f.Timeout == 0 {
		f.Timeout = 3 // the Lambda default
	}
	if f.MemorySize == 0 {
		f.MemorySize = 128
	}
	// Function variables override Globals ones, as SAM merges them.
	for _, src := range []*yaml.Node{globals, props} {
		for k, v := range mapping(get(get(src, "Environment"), "Variables")) {
			f.Environment[k] = value(v)
		}
	}
	for name, e := range mapping(get(props, "Events")) {
		ev := Event{Name: name, Type: scalar(get(e, "Type"))}
		p := get(e, "Properties")
		switch ev.Type {
		case "HttpApi":
			ev.Path, ev.Method = scalar(get(p, "Path")), strings.ToUpper(scalar(get(p, "Method")))
		case "ScheduleV2":
			ev.ScheduleExpression = scalar(get(p, "ScheduleExpression"))
			ev.Timezone = scalar(get(p, "ScheduleExpressionTimezone"))
			ev.Input = scalar(get(p, "Input"))
		case "EventBridgeRule":
			ev.EventBusName = value(get(p, "EventBusName"))
			pat, err := toJSON(get(p, "Pattern"))
			if err != nil {
				return f, fmt.Errorf("event %s pattern: %w", name, err)
			}
			ev.Pattern = pat
		}
		f.Events = append(f.Events, ev)
	}
	sort.Slice(f.Events, func(i, j int) bool { return f.Events[i].Name < f.Events[j].Name })
	return f, nil
}

func parseTable(id string, props *yaml.Node) (Table, error) {
	t := Table{LogicalID: id, BillingMode: scalar(get(props, "BillingMode"))}
	for _, a := range seq(get(props, "AttributeDefinitions")) {
		t.AttributeDefinitions = append(t.AttributeDefinitions, Attribute{scalar(get(a, "AttributeName")), scalar(get(a, "AttributeType"))})
	}
	t.KeySchema = keySchema(get(props, "KeySchema"))
	for _, g := range seq(get(props, "GlobalSecondaryIndexes")) {
		t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, Index{
			Name:           scalar(get(g, "IndexName")),
			KeySchema:      keySchema(get(g, "KeySchema")),
			ProjectionType: scalar(get(get(g, "Projection"), "ProjectionType")),
		})
	}
	if ttl := get(props, "TimeToLiveSpecification"); ttl != nil && scalar(get(ttl, "Enabled")) == "true" {
		t.TTLAttribute = scalar(get(ttl, "AttributeName"))
	}
	t.PITR = scalar(get(get(props, "PointInTimeRecoverySpecification"), "PointInTimeRecoveryEnabled")) == "true"
	if len(t.KeySchema) == 0 {
		return t, fmt.Errorf("table has no KeySchema")
	}
	return t, nil
}

func keySchema(n *yaml.Node) []KeyElement {
	var ks []KeyElement
	for _, k := range seq(n) {
		ks = append(ks, KeyElement{scalar(get(k, "AttributeName")), scalar(get(k, "KeyType"))})
	}
	return ks
}

// value reads a scalar that may carry an intrinsic tag.
func value(n *yaml.Node) Value {
	if n == nil {
		return Value{}
	}
	if n.Kind == yaml.MappingNode { // long form {Ref: X} / {Fn::Sub: ...}
		if r := get(n, "Ref"); r != nil {
			return Value{Ref: scalar(r)}
		}
		if s := get(n, "Fn::Sub"); s != nil {
			return Value{Sub: scalar(s)}
		}
		if g := get(n, "Fn::GetAtt"); g != nil {
			return Value{GetAtt: strings.Join(strs(g), ".")}
		}
		return Value{}
	}
	switch n.Tag {
	case "!Ref":
		return Value{Ref: n.Value}
	case "!Sub":
		return Value{Sub: n.Value}
	case "!GetAtt":
		if n.Kind == yaml.SequenceNode {
			return Value{GetAtt: strings.Join(strs(n), ".")}
		}
		return Value{GetAtt: n.Value}
	}
	return Value{Literal: n.Value}
}

func strs(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// toJSON converts a YAML node (an event pattern) to JSON.
func toJSON(n *yaml.Node) (json.RawMessage, error) {
	if n == nil {
		return nil, fmt.Errorf("missing")
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), nil
}

func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func mapping(n *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil || n.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
