//go:build linux

package firehose_test

import "syscall"

// childAttr makes a child process die with the test binary (Linux's
// parent-death signal), so a crashed test leaves no server behind.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
