package sam_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The least-privilege check (issue #14, item 10): each function's role
// grants exactly the AWS API actions its code can call, no more, no fewer.
//
// What the code calls is found from the source, not guessed: an SDK
// operation needs its input struct, so a composite literal (or new()) of
// github.com/aws/aws-sdk-go-v2/service/<svc>.<Op>Input in a package means
// that package calls <svc>:<Op> (a paginator is handed one too). A function
// calls what the module packages it links call (the import graph the
// environment check builds). That over-approximates, soundly: a linked
// package's call counts even if this function never reaches it. It is as
// fine as the packages are; internal/dynamo's one Table serves all four
// functions, so all four get the same table actions. Narrowing that
// further needs a call graph (x/tools, not a dependency of the module) or
// the per-area stores STYLE.md asks for, which this check would then follow
// by itself. Parameter Store is read through internal/paramstore, which
// names its operations in strings: a package that calls a method of one of
// its read methods' names (paramstoreOps) calls that SSM action. Calls the SDK makes on its own (credentials, endpoint
// discovery, both off or unused in Lambda) are not the module's and are not
// counted.

const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// iamPrefix maps an SDK service package to its IAM action prefix. A service
// missing here fails the test: add it, and its statement to the roles.
var iamPrefix = map[string]string{"dynamodb": "dynamodb", "eventbridge": "events", "ssm": "ssm"}

// paramstoreOps maps internal/paramstore's read methods to their actions.
var paramstoreOps = map[string]string{"GetParameter": "ssm:GetParameter", "ParametersByPath": "ssm:GetParametersByPath"}

// sdkCalls returns, per module-relative package folder, the IAM actions
// the package's non-test code calls.
func sdkCalls(t *testing.T, root string) map[string][]string {
	t.Helper()
	calls := map[string][]string{}
	fset := token.NewFileSet()
	for _, top := range []string{"functions", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel := filepath.ToSlash(mustRel(root, path))
			if d.IsDir() {
				if skipDir(rel) {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			services := map[string]string{} // local import name → SDK service
			for _, im := range f.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				svc, ok := strings.CutPrefix(p, sdkServicePrefix)
				if !ok || strings.Contains(svc, "/") {
					continue // not a service client package (types, …)
				}
				name := svc
				if im.Name != nil {
					name = im.Name.Name
				}
				services[name] = svc
			}
			dir := filepath.ToSlash(filepath.Dir(rel))
			input := func(e ast.Expr) {
				sel, ok := e.(*ast.SelectorExpr)
				if !ok {
					return
				}
				x, ok := sel.X.(*ast.Ident)
				op, isInput := strings.CutSuffix(sel.Sel.Name, "Input")
				if !ok || !isInput || services[x.Name] == "" {
					return
				}
				prefix, known := iamPrefix[services[x.Name]]
				if !known {
					t.Errorf("%s calls %s.%s: add the service's IAM prefix to iamPrefix", rel, services[x.Name], op)
					return
				}
				if a := prefix + ":" + op; !slices.Contains(calls[dir], a) {
					calls[dir] = append(calls[dir], a)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CompositeLit:
					input(n.Type)
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "new" && len(n.Args) == 1 {
						input(n.Args[0])
					}
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && dir != "internal/paramstore" {
						if a := paramstoreOps[sel.Sel.Name]; a != "" && !slices.Contains(calls[dir], a) {
							calls[dir] = append(calls[dir], a)
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return calls
}

// codeActions is what a function's code calls: the union over the packages
// it links.
func codeActions(scan *sourceScan, calls map[string][]string, logicalID string) []string {
	var out []string
	for pkg := range scan.linked(functionDir(logicalID)) {
		for _, a := range calls[pkg] {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

// grant is one Allow statement of a role, actions and resources as JSON.
type grant struct {
	Sid       string
	Actions   []string
	Resources []string
}

// roleGrants reads the Allow statements of the role a function names.
func roleGrants(t *testing.T, st stack, fn string) []grant {
	t.Helper()
	role := at(st.Resources[fn].Properties, "Role")
	l := asList(asMap(role)["Fn::GetAtt"])
	if len(l) != 2 || l[1] != "Arn" {
		t.Fatalf("%s: Role %s, want !GetAtt <its role>.Arn", fn, jsonString(role))
	}
	r, ok := st.Resources[l[0].(string)]
	if !ok || r.Type != "AWS::IAM::Role" {
		t.Fatalf("%s: role %v is not an AWS::IAM::Role of the stack", fn, l[0])
	}
	var out []grant
	for _, p := range asList(r.Properties["Policies"]) {
		for _, s := range asList(at(p, "PolicyDocument", "Statement")) {
			if at(s, "Effect") != "Allow" {
				t.Errorf("%s: statement %s is not an Allow", fn, jsonString(s))
				continue
			}
			g := grant{Sid: fmt.Sprint(at(s, "Sid"))}
			for _, a := range oneOrMany(at(s, "Action")) {
				g.Actions = append(g.Actions, a.(string))
			}
			for _, res := range oneOrMany(at(s, "Resource")) {
				g.Resources = append(g.Resources, jsonString(res))
			}
			out = append(out, g)
		}
	}
	return out
}

func oneOrMany(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// eniActions are what Lambda needs to place a function in a VPC.
var eniActions = []string{"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}

func ssmParam(path string) string {
	return jsonString(map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/qunyun/dev/" + path})
}

// TestRolesGrantWhatTheCodeCalls compares each role's API actions with the
// code's, and checks where they may act: the table and its indexes, the
// bus, and the SSM parameters the function's environment names; the
// callback may not read the accounts' sending halves.
func TestRolesGrantWhatTheCodeCalls(t *testing.T) {
	scan, err := scanSource("../..")
	if err != nil {
		t.Fatal(err)
	}
	calls := sdkCalls(t, "../..")
	// Calls known to be there, through a paginator and straight from a
	// main: a scan that misses them is broken.
	for pkg, a := range map[string]string{"internal/accounts": "ssm:GetParametersByPath", "functions/session": "ssm:GetParameter", "internal/bus": "events:PutEvents", "internal/dynamo": "dynamodb:UpdateItem"} {
		if !slices.Contains(calls[pkg], a) {
			t.Errorf("the scan missed %s in %s; it is broken: %v", a, pkg, calls)
		}
	}
	for name, params := range map[string]map[string]string{"defaults": nil, "fixed egress": fixedEgress, "tracing": tracing} {
		t.Run(name, func(t *testing.T) {
			sourcesWith(t, params, func(t *testing.T, doc cfnDoc) {
				st := deploy(t, doc, params)
				fns := functions(st)
				if len(fns) != len(ssmWant) {
					t.Fatalf("functions %v, want %d", fns, len(ssmWant))
				}
				for _, fn := range fns {
					granted := apiGrants(t, st, fn, params)
					if want := codeActions(scan, calls, fn); !slices.Equal(granted, want) {
						t.Errorf("%s: role grants %v; the code calls %v", fn, granted, want)
					}
				}
				sendingPrefixes(t, doc, st)
			})
		})
	}
}

var ssmWant = map[string][]string{
	"CallbackFunction": {ssmParam("accounts/*")},
	"PushFunction":     {ssmParam("accounts/*"), ssmParam("sending/*")},
	"ScoringFunction":  {ssmParam("accounts/*"), ssmParam("sending/*")},
	"SessionFunction":  {ssmParam("public-base-url")},
}

// apiGrants checks where each statement of fn's role may act and returns
// the API actions (dynamodb, events, ssm) it grants, sorted. Lambda's own
// needs (logs, dead letters, VPC interfaces, traces) are checked against
// what the function's configuration asks for; any other action fails.
func apiGrants(t *testing.T, st stack, fn string, params map[string]string) []string {
	t.Helper()
	p := st.Resources[fn].Properties
	group, _ := asMap(at(p, "LoggingConfig", "LogGroup"))["Ref"].(string)
	lambdaNeeds := map[string]struct {
		on      bool
		actions []string
		where   []string
	}{
		"logs": {group != "", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []string{`{"Fn::GetAtt":["` + group + `","Arn"]}`}},
		"sqs":  {true, []string{"sqs:SendMessage"}, []string{`{"Fn::GetAtt":["DeadLetterQueue","Arn"]}`}},
		"ec2":  {at(p, "VpcConfig") != nil, eniActions, []string{`"*"`}},
		"xray": {params["Tracing"] == "Active", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, []string{`"*"`}},
	}
	apiWhere := map[string][]string{
		"dynamodb": {`{"Fn::GetAtt":["Table","Arn"]}`, `{"Fn::Sub":"${Table.Arn}/index/*"}`},
		"events":   {`{"Fn::GetAtt":["EventBus","Arn"]}`},
		"ssm":      ssmWant[fn],
	}
	var granted []string
	for _, g := range roleGrants(t, st, fn) {
		prefix, _, _ := strings.Cut(g.Actions[0], ":")
		if need, ok := lambdaNeeds[prefix]; ok {
			if !need.on || !slices.Equal(g.Actions, need.actions) || !slices.Equal(g.Resources, need.where) {
				t.Errorf("%s: statement %s grants %v on %v; want %v on %v, and only when the function needs it (%v)", fn, g.Sid, g.Actions, g.Resources, need.actions, need.where, need.on)
			}
			continue
		}
		for _, a := range g.Actions {
			pre, _, _ := strings.Cut(a, ":")
			where, ok := apiWhere[pre]
			if !ok {
				t.Errorf("%s: statement %s grants %s, which no check here covers", fn, g.Sid, a)
				continue
			}
			if !slices.Equal(g.Resources, where) {
				t.Errorf("%s: statement %s: %s on %v, want %v", fn, g.Sid, a, g.Resources, where)
			}
			granted = append(granted, a)
		}
	}
	sort.Strings(granted)
	return granted
}

// sendingPrefixes: the split of the secrets is worth nothing if the
// callback is told where the sending halves are, and the senders must be.
func sendingPrefixes(t *testing.T, doc cfnDoc, st stack) {
	t.Helper()
	for fn, want := range map[string]string{"CallbackFunction": "", "PushFunction": "/qunyun/dev/sending/", "ScoringFunction": "/qunyun/dev/sending/"} {
		got := at(st.Resources[fn].Properties, "Environment", "Variables", "ACCOUNTS_SENDING_SSM_PREFIX")
		if got == nil { // as written, from Globals
			got = at(map[string]any(doc), "Globals", "Function", "Environment", "Variables", "ACCOUNTS_SENDING_SSM_PREFIX")
		}
		if s, ok := asMap(got)["Fn::Sub"]; ok {
			got = s
		}
		if got != want {
			t.Errorf("%s: ACCOUNTS_SENDING_SSM_PREFIX = %v, want %q", fn, jsonString(got), want)
		}
	}
}

// The roles that Lambda may assume are the template's own: SAM generates
// none (with the policy-template extras and managed policies it adds).
func TestNoGeneratedFunctionRoles(t *testing.T) {
	doc, err := translateTemplate()
	if errors.Is(err, errNoTranslator) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	lambdaRoles := func(st stack) []string {
		var ids []string
		for _, id := range st.ofType("AWS::IAM::Role") {
			if strings.Contains(jsonString(st.Resources[id].Properties["AssumeRolePolicyDocument"]), "lambda.amazonaws.com") {
				ids = append(ids, id)
			}
		}
		return ids
	}
	written, translated := lambdaRoles(deploy(t, readTemplate(t), nil)), lambdaRoles(deploy(t, doc, nil))
	if len(written) != 4 || !slices.Equal(written, translated) {
		t.Errorf("roles Lambda may assume: %v in the template, %v translated; want the template's four", written, translated)
	}
}
