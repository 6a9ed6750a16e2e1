package kinesis

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// splitOnTrim is a backend whose first Trim starts a SplitShard of the
// trimmed shard in another goroutine and returns without waiting for it,
// so the split's write of the parent's close time runs concurrently with
// the rest of the retention pass.
type splitOnTrim struct {
	storage.Backend
	once  sync.Once
	split func()
	wg    sync.WaitGroup
}

func (b *splitOnTrim) Trim(ctx context.Context, id storage.ShardID, cutoffMs int64) error {
	err := b.Backend.Trim(ctx, id, cutoffMs)
	// started after the inner Trim so that no lock of the wrapped backend
	// orders the split before the caller's next steps
	b.once.Do(func() {
		b.wg.Add(1)
		go func() { defer b.wg.Done(); b.split() }()
	})
	return err
}

// TestRetentionReadsCloseTimeUnderLock: a split that closes a shard while
// the retention pass looks at it is not a data race (the pass reads the
// close time under Service.mu). Run with -race: before the fix the
// detector reported the unlocked read of shard.ClosedMs in
// enforceRetention against splitLocked's write.
func TestRetentionReadsCloseTimeUnderLock(t *testing.T) {
	be := &splitOnTrim{Backend: memstore.New(nil)}
	s, err := New(Options{Backend: be, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	call := func(op string, in any) error {
		body, _ := json.Marshal(in)
		_, err := s.Handle(&awsproto.Request{Ctx: context.Background(), Operation: op, Codec: awsproto.JSON, Body: body, Account: "000000000000", Region: "us-east-1"})
		return err
	}
	if err := call("CreateStream", map[string]any{"StreamName": "r", "ShardCount": 1}); err != nil {
		t.Fatal(err)
	}
	splitErr := make(chan error, 1)
	be.split = func() {
		splitErr <- call("SplitShard", map[string]any{"StreamName": "r", "ShardToSplit": "shardId-000000000000",
			"NewStartingHashKey": "170141183460469231731687303715884105728"})
	}
	s.EnforceRetention()
	be.wg.Wait()
	if err := <-splitErr; err != nil {
		t.Fatalf("split during retention: %v", err)
	}
	// The closed parent keeps its records' retention window: a second pass
	// must not drop it (its close time is now, not past the cutoff).
	s.EnforceRetention()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, st := range s.streams {
		if len(st.Shards) != 3 {
			t.Fatalf("%d shards after split and retention, want 3 (parent kept)", len(st.Shards))
		}
	}
}
