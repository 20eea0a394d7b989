// Package host is what the local tooling needs of this machine: the
// checkout it runs in, and child processes (the DynamoDB engine, function
// bootstraps) that die with their parent. It is never linked by a function.
package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FindRoot returns the checkout at or above dir: the directory holding
// go.mod, and with it template.yaml and infra/. Tests run in their package's
// directory, the CLI anywhere inside the repository.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above: run from the repository")
		}
		dir = parent
	}
}
