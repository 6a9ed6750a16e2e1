//go:build !linux

package firehose_test

import "syscall"

// childAttr: no parent-death signal outside Linux; tests stop their
// children themselves.
func childAttr() *syscall.SysProcAttr { return nil }
