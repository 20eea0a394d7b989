package runner

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill a function process when the stack
// dies, however it dies, so no orphan keeps polling.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
