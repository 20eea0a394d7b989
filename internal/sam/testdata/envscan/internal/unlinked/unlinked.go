// Package unlinked is a fixture no function imports.
package unlinked

import "os"

func Shared() string { return os.Getenv("SHARED_ONLY") }
