package clock_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoWallClockOutsideClock fails when code outside this package reads
// the wall clock (time.Now, clock.Real) without saying why. Business time
// comes from an injected clock (the mains wire internal/clock), so a test
// on a fixed date never depends on today's. Real time is right for a few
// things — pacing, timeouts, latency, metrics timestamps, random seeds —
// and such a line carries a `// wallclock: <why>` comment, on the line or
// the one above it.
func TestNoWallClockOutsideClock(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	self, _ := filepath.Abs(".")
	var bad []string
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", ".local", "bin", ".aws-sam", "testdata":
				return filepath.SkipDir
			}
			if path == self {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		names := wallClockNames(f)
		if len(names) == 0 {
			return nil
		}
		f, err = parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		lines := strings.Split(string(src), "\n")
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok || names[x.Name+"."+sel.Sel.Name] == "" {
				return true
			}
			line := fset.Position(sel.Pos()).Line
			if justified(lines, line) {
				return true
			}
			rel, _ := filepath.Rel(root, path)
			bad = append(bad, fmt.Sprintf("%s:%d: %s.%s", rel, line, x.Name, sel.Sel.Name))
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("the wall clock read outside internal/clock without a `// wallclock: <why>` comment "+
			"(inject the component's clock instead):\n%s", strings.Join(bad, "\n"))
	}
}

// wallClockNames maps "<local name>.<selector>" of the wall-clock readers
// this file can reach through its imports.
func wallClockNames(f *ast.File) map[string]string {
	names := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		var local, sel string
		switch path {
		case "time":
			local, sel = "time", "Now"
		case "github.com/qunyun/qunyun/internal/clock":
			local, sel = "clock", "Real"
		default:
			continue
		}
		if imp.Name != nil {
			local = imp.Name.Name
		}
		names[local+"."+sel] = path
	}
	return names
}

func justified(lines []string, line int) bool {
	for _, l := range []int{line - 1, line - 2} { // 1-based line: this one and the one above
		if l >= 0 && l < len(lines) && strings.Contains(lines[l], "wallclock:") {
			return true
		}
	}
	return false
}
