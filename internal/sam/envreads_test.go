package sam_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/sam"
)

// The environment check: every variable a function's code reads must be
// declared in that function's template Environment (Globals included), or
// `sam local invoke --env-vars` cannot set it and AWS never will. The scan
// reads the Go source of functions/ and internal/ (not tests, not the local
// stack, not test-only packages named *test) and follows each function's
// imports, so a variable read deep in internal/ counts for every function
// that links it.

const modulePath = "github.com/qunyun/qunyun"

// envRead is one read of an environment variable in the source.
type envRead struct {
	Name string
	Pkg  string // module-relative folder, e.g. internal/clock
	Pos  string
}

// sourceScan is what the scan learns about the module's packages.
type sourceScan struct {
	Reads      []envRead
	Pkgs       map[string]bool     // module-relative folders holding Go files
	Imports    map[string][]string // package folder → module-internal package folders
	Unresolved []envRead           // os.Getenv calls whose name is not a constant (Name empty)
}

// envCallee names the functions and methods that read a variable by name:
// os.Getenv/LookupEnv, config.Env's methods, and the getenv func values the
// shared packages take (clock.FromEnv, accounts.FromEnv).
var envCallee = map[string]bool{
	"Getenv": true, "LookupEnv": true, "getenv": true, "lookupEnv": true,
	"Required": true, "Optional": true, "Int": true, "Duration": true, "Bool": true,
}

var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func skipDir(rel string) bool {
	base := filepath.Base(rel)
	return rel == "internal/local" || strings.HasPrefix(rel, "internal/local/") ||
		base == "testdata" || base == "node_modules" || strings.HasSuffix(base, "test")
}

// scanSource parses the non-test Go files under root/functions and root/internal.
func scanSource(root string) (*sourceScan, error) {
	type pkg struct {
		files  []*ast.File
		consts map[string]string
	}
	fset := token.NewFileSet()
	pkgs := map[string]*pkg{}
	for _, top := range []string{"functions", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
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
				return fmt.Errorf("parse %s: %w", rel, err)
			}
			dir := filepath.ToSlash(filepath.Dir(rel))
			p := pkgs[dir]
			if p == nil {
				p = &pkg{consts: map[string]string{}}
				pkgs[dir] = p
			}
			p.files = append(p.files, f)
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i >= len(vs.Values) {
							break
						}
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if s, err := strconv.Unquote(lit.Value); err == nil {
								p.consts[name.Name] = s
							}
						}
					}
				}
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}

	scan := &sourceScan{Imports: map[string][]string{}, Pkgs: map[string]bool{}}
	for dir, p := range pkgs {
		scan.Pkgs[dir] = true
		for _, f := range p.files {
			imports := map[string]string{} // local name → module folder
			for _, im := range f.Imports {
				path, _ := strconv.Unquote(im.Path.Value)
				rel, ok := strings.CutPrefix(path, modulePath+"/")
				if !ok {
					continue
				}
				name := filepath.Base(rel)
				if im.Name != nil {
					name = im.Name.Name
				}
				imports[name] = rel
				if !slices.Contains(scan.Imports[dir], rel) {
					scan.Imports[dir] = append(scan.Imports[dir], rel)
				}
			}
			resolve := func(e ast.Expr) (string, bool) {
				switch e := e.(type) {
				case *ast.BasicLit:
					if e.Kind == token.STRING {
						s, err := strconv.Unquote(e.Value)
						return s, err == nil
					}
				case *ast.Ident:
					s, ok := p.consts[e.Name]
					return s, ok
				case *ast.SelectorExpr:
					if x, ok := e.X.(*ast.Ident); ok {
						if other := pkgs[imports[x.Name]]; other != nil {
							s, ok := other.consts[e.Sel.Name]
							return s, ok
						}
					}
				}
				return "", false
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				var callee string
				var fromOS bool
				switch fn := call.Fun.(type) {
				case *ast.Ident:
					callee = fn.Name
				case *ast.SelectorExpr:
					callee = fn.Sel.Name
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "os" {
						fromOS = callee == "Getenv" || callee == "LookupEnv"
					}
				}
				if !envCallee[callee] {
					return true
				}
				pos := fset.Position(call.Pos())
				where := fmt.Sprintf("%s:%d", filepath.ToSlash(mustRel(root, pos.Filename)), pos.Line)
				name, ok := resolve(call.Args[0])
				switch {
				case ok && envName.MatchString(name):
					scan.Reads = append(scan.Reads, envRead{Name: name, Pkg: dir, Pos: where})
				case fromOS:
					scan.Unresolved = append(scan.Unresolved, envRead{Pkg: dir, Pos: where})
				}
				return true
			})
		}
	}
	sort.Slice(scan.Reads, func(i, j int) bool { return scan.Reads[i].Pos < scan.Reads[j].Pos })
	return scan, nil
}

func mustRel(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return rel
}

// linked returns the module packages a function's main links, itself included.
func (s *sourceScan) linked(dir string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(d string) {
		if seen[d] {
			return
		}
		seen[d] = true
		for _, im := range s.Imports[d] {
			visit(im)
		}
	}
	visit(dir)
	return seen
}

// setByLambda are variables the Lambda runtime sets itself.
func setByLambda(name string) bool {
	return strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "_") ||
		slices.Contains([]string{"LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "PATH", "LD_LIBRARY_PATH"}, name)
}

// functionDir maps a logical id to its source folder by the project's
// convention (Makefile: dir_<LogicalId>): PushFunction → functions/push.
func functionDir(logicalID string) string {
	return "functions/" + strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

// undeclaredReads lists reads of variables a function's environment lacks.
// Packages that no function links (CLI and simulation helpers) are not
// Lambda code and are not checked; they are checked as soon as a function
// imports them.
func undeclaredReads(scan *sourceScan, declared map[string]map[string]bool) []string {
	var bad []string
	ids := make([]string, 0, len(declared))
	for id := range declared {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		dir := functionDir(id)
		if !scan.Pkgs[dir] {
			continue // not written yet
		}
		linked := scan.linked(dir)
		for _, r := range scan.Reads {
			if linked[r.Pkg] && !declared[id][r.Name] && !setByLambda(r.Name) {
				bad = append(bad, fmt.Sprintf("%s reads %s (%s) but template.yaml does not declare it for %s", r.Pkg, r.Name, r.Pos, id))
			}
		}
	}
	return bad
}

func declaredEnv(tpl *sam.Template) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, f := range tpl.Functions {
		out[f.LogicalID] = map[string]bool{}
		for name := range f.Environment {
			out[f.LogicalID][name] = true
		}
	}
	return out
}

func TestEveryEnvironmentReadIsDeclared(t *testing.T) {
	tpl, err := sam.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	scan, err := scanSource("../..")
	if err != nil {
		t.Fatal(err)
	}
	// Reads the shared packages are known to make: one through a constant
	// (clock.EnvStart), one through a getenv func value (accounts).
	for _, want := range []string{"QUNYUN_CLOCK_START", "ACCOUNTS_SSM_PREFIX"} {
		if !slices.ContainsFunc(scan.Reads, func(r envRead) bool { return r.Name == want }) {
			t.Errorf("the scan missed %s; it is broken: %v", want, scan.Reads)
		}
	}
	for _, f := range tpl.Functions {
		if _, err := os.Stat(filepath.Join("../..", functionDir(f.LogicalID), "main.go")); err != nil {
			t.Logf("%s: %s/main.go does not exist yet; its reads are not checked", f.LogicalID, functionDir(f.LogicalID))
		}
	}
	linked := map[string]bool{}
	for _, f := range tpl.Functions {
		for pkg := range scan.linked(functionDir(f.LogicalID)) {
			linked[pkg] = true
		}
	}
	for _, u := range scan.Unresolved {
		if linked[u.Pkg] {
			t.Errorf("%s: os.Getenv with a name that is not a string constant; the check cannot see it", u.Pos)
		}
	}
	for _, b := range undeclaredReads(scan, declaredEnv(tpl)) {
		t.Error(b)
	}
}

// TestEnvScanFindsUndeclared runs the scan on a small fixture module whose
// function reads a variable, through a constant in an imported package, that
// the "template" does not declare: the check must catch it, and only it (the
// package no function imports reads SHARED_ONLY, which nobody declares).
func TestEnvScanFindsUndeclared(t *testing.T) {
	scan, err := scanSource("testdata/envscan")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range scan.Reads {
		names = append(names, r.Name+"@"+r.Pkg)
	}
	want := []string{"DECLARED@functions/demo", "HIDDEN_LIMIT@internal/conf", "SHARED_ONLY@internal/unlinked", "UNDECLARED@internal/conf"}
	sort.Strings(names)
	if !slices.Equal(names, want) {
		t.Fatalf("reads = %v, want %v", names, want)
	}
	if len(scan.Unresolved) != 1 || scan.Unresolved[0].Pkg != "internal/conf" {
		t.Errorf("unresolved = %v, want the dynamic os.Getenv in internal/conf", scan.Unresolved)
	}
	declared := map[string]map[string]bool{
		"DemoFunction": {"DECLARED": true, "HIDDEN_LIMIT": true},
	}
	bad := undeclaredReads(scan, declared)
	if len(bad) != 1 || !strings.Contains(bad[0], "reads UNDECLARED") || !strings.Contains(bad[0], "for DemoFunction") {
		t.Fatalf("undeclared = %v, want exactly UNDECLARED for DemoFunction", bad)
	}
}
