package tail

import (
	"hash/crc64"
	"io"
	"os"
	"syscall"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// fileID returns the device and inode of a file.
func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino) //nolint:unconvert // widths differ by OS
	}
	return 0, 0
}

// fingerprint hashes the first n bytes of f (fewer when the file is
// shorter) and returns the hash and the length covered.
func fingerprint(f *os.File, n int) (uint64, int, error) {
	buf := make([]byte, n)
	m, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return 0, 0, err
	}
	return crc64.Checksum(buf[:m], crcTable), m, nil
}

// matchesFingerprint reports whether the first n bytes of f hash to fp.
// A zero-length fingerprint matches any file.
func matchesFingerprint(f *os.File, fp uint64, n int) bool {
	if n == 0 {
		return true
	}
	got, m, err := fingerprint(f, n)
	return err == nil && m == n && got == fp
}
