package footprint_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const root = "../.."

// functions are the Lambda main packages, ./functions/<name>, found on
// disk so a new function cannot escape the checks.
func functions(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no functions/*/main.go")
	}
	var pkgs []string
	for _, d := range dirs {
		pkgs = append(pkgs, "./functions/"+filepath.Base(filepath.Dir(d)))
	}
	return pkgs
}

// forbidden are the packages no function may link (prefixes of import
// paths), and why.
var forbidden = []struct{ prefix, why string }{
	{"github.com/qunyun/qunyun/internal/sam", "template reading is local tooling (YAML, the SAM schema)"},
	{"github.com/santhosh-tekuri/jsonschema", "schema validation is local tooling"},
	{"github.com/qunyun/qunyun/internal/local", "the local stack and its parts are local tooling"},
	{"github.com/qunyun/qunyun/internal/dynamo/dynamotest", "a test harness"},
	{"github.com/qunyun/qunyun/internal/runtimetest", "a test harness"},
}

// noSegmenter are the functions that must not link the Chinese segmenter:
// its dictionaries are megabytes they never use.
var noSegmenter = []string{"./functions/callback", "./functions/push"}

func TestFunctionsLinkNoLocalTooling(t *testing.T) {
	for _, pkg := range functions(t) {
		t.Run(filepath.Base(pkg), func(t *testing.T) {
			deps := goListDeps(t, pkg)
			for _, f := range forbidden {
				for _, d := range deps {
					if d == f.prefix || strings.HasPrefix(d, f.prefix+"/") {
						t.Errorf("%s links %s: %s", pkg, d, f.why)
					}
				}
			}
			if slices.Contains(noSegmenter, pkg) && slices.Contains(deps, "github.com/go-ego/gse") {
				t.Errorf("%s links github.com/go-ego/gse, the segmenter's dictionaries", pkg)
			}
		})
	}
}

// goListDeps lists what pkg links when built for Lambda.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
