package dynamotest

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill the engine when the test process
// exits, however it exits.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
