//go:build !linux

package dynamotest

import "os/exec"

// killWithParent is a no-op where the kernel offers no parent-death signal;
// set QUNYUN_TEST_DYNAMODB to a long-running engine there instead.
func killWithParent(*exec.Cmd) {}
