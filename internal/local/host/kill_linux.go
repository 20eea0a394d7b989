package host

import (
	"os/exec"
	"syscall"
)

// KillWithParent makes the kernel kill cmd's process when ours dies,
// however it dies, so no orphan keeps a port or keeps polling.
func KillWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
