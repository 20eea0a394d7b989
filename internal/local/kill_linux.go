package local

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill dynalite when the stack
// dies, however it dies, so no orphan keeps its port.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
