//go:build !linux

package vfs

import "os"

func fdatasync(f *os.File) error { return f.Sync() }

// flock is a no-op outside Linux: the data directory is not protected
// against a second process there.
func flock(*os.File) error { return nil }
