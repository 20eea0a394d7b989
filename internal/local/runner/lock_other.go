//go:build !unix

package runner

import (
	"fmt"
	"os"
)

// LockDir only makes dir where there is no flock: two stacks building into
// the same folder at once there may both write its binaries.
func LockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() {}, nil
}
