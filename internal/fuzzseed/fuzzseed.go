// Package fuzzseed seeds fuzz targets with the repository's sample events
// (events/), so each function's fuzzing starts from what it really gets.
// Tests only.
package fuzzseed

import (
	"os"
	"path/filepath"
	"testing"
)

// Events adds every file matching pattern (a filepath.Glob pattern relative
// to the test's package, e.g. "../../events/push-*.json") to f's corpus. A
// pattern that matches nothing fails the target: its seeds were moved.
func Events(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("fuzzseed: no sample events match %s (%v)", pattern, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}
