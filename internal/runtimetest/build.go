package runtimetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LambdaFlags are the Makefile's LAMBDA_FLAGS, how `make build` and `sam
// build` compile a function (TestLambdaFlagsMatchMakefile keeps them in
// step). Sizes and cold starts are measured on binaries built this way,
// not with the local stack's development flags.
var LambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}

// BuildLambda compiles the main packages pkgs (e.g. "./functions/push",
// relative to the module root dir) with LambdaFlags and CGO off for
// goos/goarch, in one go build so their shared packages compile once, and
// returns each package's binary, outDir/<last element of the package>.
func BuildLambda(ctx context.Context, dir, goos, goarch, outDir string, pkgs ...string) (map[string]string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	args := append([]string{"build"}, LambdaFlags...)
	args = append(args, "-o", outDir+string(filepath.Separator))
	cmd := exec.CommandContext(ctx, "go", append(args, pkgs...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s: %w\n%s", strings.Join(pkgs, " "), err, bytes.TrimSpace(output.Bytes()))
	}
	bins := map[string]string{}
	for _, pkg := range pkgs {
		bins[pkg] = filepath.Join(outDir, filepath.Base(pkg))
	}
	return bins, nil
}
