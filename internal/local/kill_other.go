//go:build !linux

package local

import "os/exec"

// killWithParent is a no-op where the kernel has no parent-death signal;
// stop dynalite by hand if the stack is killed.
func killWithParent(*exec.Cmd) {}
