// Package vfs is the small file-system surface the storage engine uses, so
// that tests can swap the real disk for a crashable, fault-injecting
// in-memory file system.
//
// Two implementations:
//
//   - OS: the real file system. File.Sync is fdatasync(2) on Linux, SyncDir
//     fsyncs a directory, Lock takes a non-blocking flock(2).
//   - Mem (NewMem): an in-memory tree that remembers, for every file, what
//     was last synced and, for every directory, which entries were last
//     synced. Crash() throws away everything that was not synced, the way a
//     power loss would (optionally keeping a torn piece of the unsynced
//     tail), and faults (EIO, ENOSPC, …) can be injected after N operations
//     or by capacity.
//
// Paths are plain slash-separated strings; Mem cleans them with path.Clean
// and treats them as absolute or relative the same way.
package vfs

import (
	"errors"
	"io"
	"os"
)

// File is an open file. Writes always name their offset (pwrite), so a
// writer can truncate back and rewrite without tracking a file offset.
type File interface {
	io.ReaderAt
	io.WriterAt
	// Sync makes the file's data durable (fdatasync on Linux).
	Sync() error
	Truncate(size int64) error
	// Size returns the current size in bytes.
	Size() (int64, error)
	Close() error
}

// FileInfo is what Stat returns.
type FileInfo struct {
	Name  string
	Size  int64
	IsDir bool
}

// FS is the set of file-system operations the engine needs.
type FS interface {
	// OpenFile opens with os.O_* flags (O_RDONLY, O_RDWR, O_CREATE, O_EXCL,
	// O_TRUNC are honoured).
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Create is OpenFile(name, O_RDWR|O_CREATE|O_TRUNC, 0o644).
	Create(name string) (File, error)
	// Open is OpenFile(name, O_RDONLY, 0).
	Open(name string) (File, error)
	Remove(name string) error
	RemoveAll(name string) error
	Rename(oldname, newname string) error
	// ReadDir lists a directory, sorted by name.
	ReadDir(name string) ([]FileInfo, error)
	MkdirAll(name string, perm os.FileMode) error
	Stat(name string) (FileInfo, error)
	// SyncDir makes a directory's entries (creations, renames, removals) durable.
	SyncDir(name string) error
	// Lock takes an exclusive advisory lock on the named file (created if
	// needed) and fails with ErrLocked if another holder has it. Close the
	// returned io.Closer to release it.
	Lock(name string) (io.Closer, error)
}

// ErrLocked is returned by Lock when the lock is held elsewhere.
var ErrLocked = errors.New("vfs: lock held by another process")

// ErrInjected is the default error of an injected fault.
var ErrInjected = errors.New("vfs: injected fault")
