//go:build unix

package lambda

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the function in its own process group so a timeout
// kills its children too.
func setProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
