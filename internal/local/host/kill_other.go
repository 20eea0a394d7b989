//go:build !linux

package host

import "os/exec"

// KillWithParent is a no-op where the kernel has no parent-death signal:
// stop a child (the engine) by hand if its parent is killed (or point tests at a
// long-running one with QUNYUN_TEST_DYNAMODB); a function process exits by
// itself once its Runtime API is gone.
func KillWithParent(*exec.Cmd) {}
