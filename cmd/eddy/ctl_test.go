package main

import (
	"context"
	"io"
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

// TestCtlVerifyNamesDamagedShard: `eddy ctl verify` prints which shard is
// damaged (the server quarantines it) and exits non-zero; healthy shards
// are not named.
func TestCtlVerifyNamesDamagedShard(t *testing.T) {
	dir := t.TempDir()
	st, err := logstore.Open(dir, logstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint32(3) {
		id := storage.ShardID{Stream: "s", Index: i}
		st.CreateShard(context.Background(), id, 0)
		st.Append(context.Background(), id, []storage.Record{{PartitionKey: "k", Data: []byte("v")}})
	}
	st.Close()
	state := filepath.Join(dir, "shards", "s", "0000000001", "shard.state")
	b, _ := os.ReadFile(state)
	b[len(b)-1] ^= 1
	os.WriteFile(state, b, 0o644)

	r, w, _ := os.Pipe()
	stdout := os.Stdout
	os.Stdout = w
	err = runCtl([]string{"verify", "--data-dir", dir})
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if err == nil {
		t.Fatalf("verify of a damaged shard succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "DAMAGED SHARD: shard s/1 in "+filepath.Join(dir, "shards", "s", "0000000001")) ||
		strings.Contains(string(out), "shard s/0") || strings.Contains(string(out), "shard s/2") {
		t.Fatalf("verify output must name shard s/1 (and only it):\n%s", out)
	}
}
