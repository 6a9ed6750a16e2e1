package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

var errFakeConflict = errors.New("fake: revision moved")

// racyMeta is a SharedMeta over memstore whose next save loses the
// compare-and-set race once (another node saved first); it records the
// shard logs that exist.
type racyMeta struct {
	storage.Backend
	mu       sync.Mutex
	blob     []byte
	rev      uint64
	loseNext bool
	shards   map[storage.ShardID]bool
}

func (m *racyMeta) LoadMetaRev(string) ([]byte, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.blob, m.rev, nil
}

func (m *racyMeta) UpdateMeta(_ string, rev uint64, blob []byte) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loseNext {
		m.loseNext = false
		m.rev++ // the other node's save: same content, newer revision
		return 0, errFakeConflict
	}
	if rev != m.rev {
		return 0, errFakeConflict
	}
	m.blob, m.rev = blob, m.rev+1
	return m.rev, nil
}

func (m *racyMeta) WatchMeta(ctx context.Context, _ string, _ func([]byte, uint64)) error {
	return nil
}

func (m *racyMeta) IsConflict(err error) bool { return errors.Is(err, errFakeConflict) }

func (m *racyMeta) CreateShard(ctx context.Context, id storage.ShardID, ms int64) error {
	err := m.Backend.CreateShard(ctx, id, ms)
	if err == nil {
		m.mu.Lock()
		m.shards[id] = true
		m.mu.Unlock()
	}
	return err
}

func (m *racyMeta) DeleteShard(ctx context.Context, id storage.ShardID) error {
	err := m.Backend.DeleteShard(ctx, id)
	m.mu.Lock()
	delete(m.shards, id)
	m.mu.Unlock()
	return err
}

// TestCreateStreamLostRaceLeavesNoOrphans: in cluster mode a CreateStream
// whose save loses the compare-and-set race runs again with a new stream
// id; the shard logs of the lost attempt are deleted, so only the stream's
// own shards exist afterwards.
func TestCreateStreamLostRaceLeavesNoOrphans(t *testing.T) {
	be := &racyMeta{Backend: memstore.New(nil), shards: map[storage.ShardID]bool{}}
	s, err := New(Options{Backend: be, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	be.mu.Lock()
	be.loseNext = true
	be.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"StreamName": "race", "ShardCount": 3})
	if _, err := s.Handle(&awsproto.Request{Ctx: context.Background(), Operation: "CreateStream", Codec: awsproto.JSON, Body: body,
		Account: "000000000000", Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	s.mu.RLock()
	st := s.streams[nsKey{"000000000000", "us-east-1", "race"}]
	s.mu.RUnlock()
	if st == nil {
		t.Fatal("stream not created")
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.loseNext {
		t.Fatal("the save never lost its race: nothing tested")
	}
	if len(be.shards) != 3 {
		t.Errorf("%d shard logs exist, want the stream's 3: %v", len(be.shards), be.shards)
	}
	for id := range be.shards {
		if id.Stream != st.ID {
			t.Errorf("shard log %v belongs to no stream (the stream's id is %s)", id, st.ID)
		}
	}
}
