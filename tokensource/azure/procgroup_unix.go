//go:build unix

package azure

import (
	"os/exec"
	"syscall"
)

// killGroup makes cmd run in a process group of its own and, when its
// context ends, kills the whole group: az is a shell script that starts
// Python, and killing only the script would leave Python running.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
