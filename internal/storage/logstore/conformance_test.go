package logstore_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
	"github.com/eddy-streams/eddy/internal/storage/storagetest"
	"github.com/eddy-streams/eddy/internal/vfs"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestConformance(t *testing.T) {
	modes := []struct {
		name string
		opts logstore.Options
	}{
		{"always", logstore.Options{Durability: logstore.Always}},
		{"interval", logstore.Options{Durability: logstore.Interval}},
		{"none", logstore.Options{Durability: logstore.None}},
		// tiny segments and index spacing, no tail cache: exercises rolls,
		// multi-segment reads and positioned reads
		{"always-small-segments", logstore.Options{Durability: logstore.Always, SegmentBytes: 4096, IndexInterval: 512, TailCacheBytes: -1}},
		{"none-small-cache", logstore.Options{Durability: logstore.None, SegmentBytes: 64 << 10, TailCacheBytes: 8 << 10}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for _, fsName := range []string{"os", "mem"} {
				t.Run(fsName, func(t *testing.T) {
					mem := vfs.NewMem()
					open := func(t *testing.T, dir string) storage.Backend {
						o := m.opts
						o.Logger = quiet
						if fsName == "mem" {
							o.FS = mem
						}
						s, err := logstore.Open(dir, o)
						if err != nil {
							t.Fatalf("Open: %v", err)
						}
						return s
					}
					storagetest.Run(t, func(t *testing.T) storage.Backend { return open(t, t.TempDir()) })
					storagetest.RunReopen(t, open)
				})
			}
		})
	}
}
