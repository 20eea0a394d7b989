//go:build !linux

package runner

import "os/exec"

// killWithParent is a no-op where the kernel has no parent-death signal;
// a function process exits by itself once its Runtime API is gone.
func killWithParent(*exec.Cmd) {}
