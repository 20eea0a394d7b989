package runtimetest_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/runtimetest"
)

// TestLambdaFlagsMatchMakefile keeps BuildLambda building what `make build`
// builds: a size or cold start measured with other flags says nothing.
func TestLambdaFlagsMatchMakefile(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^LAMBDA_FLAGS\s*:=\s*(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile has no LAMBDA_FLAGS := line")
	}
	// The shell's word splitting, for the double quotes the line uses.
	var words []string
	for i, part := range strings.Split(string(m[1]), `"`) {
		if i%2 == 1 {
			words = append(words, part)
		} else {
			words = append(words, strings.Fields(part)...)
		}
	}
	if !slices.Equal(words, runtimetest.LambdaFlags) {
		t.Errorf("Makefile LAMBDA_FLAGS %q, runtimetest.LambdaFlags %q", words, runtimetest.LambdaFlags)
	}
}
