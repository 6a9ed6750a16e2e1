package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

func TestCtlVerify(t *testing.T) {
	dir := t.TempDir()
	st, err := logstore.Open(dir, logstore.Options{SegmentBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	id := storage.ShardID{Stream: "s", Index: 0}
	st.CreateShard(context.Background(), id, 0)
	for range 20 {
		st.Append(context.Background(), id, []storage.Record{{PartitionKey: "k", Data: make([]byte, 200)}})
	}
	st.Close()
	if err := runCtl([]string{"verify", "--data-dir", dir}); err != nil {
		t.Fatalf("verify of a good directory: %v", err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "shards", "s", "*", "*.seg"))
	b, _ := os.ReadFile(segs[0])
	b[len(b)-1] ^= 1
	os.WriteFile(segs[0], b, 0o644)
	err = runCtl([]string{"verify", "--data-dir", dir})
	if err == nil || !strings.Contains(err.Error(), "problems") {
		t.Fatalf("verify of a corrupt directory: %v, want an error", err)
	}
	if err := runCtl([]string{"frobnicate"}); err == nil {
		t.Fatal("unknown ctl command accepted")
	}
}
