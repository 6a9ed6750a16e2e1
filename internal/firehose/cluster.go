package firehose

// Cluster mode: several nodes share the delivery streams; each stream is
// delivered by one node at a time.
//
// When the backend shares versioned metadata between nodes (natsstore, with
// its replicated KV bucket):
//   - the metadata blob ("firehose") is saved by compare-and-set against the
//     revision this node last saw. A save that loses the race reloads the
//     winner's state and fails (the API call answers a retryable 500 and the
//     client's retry runs on the new state). A watch applies every other
//     node's save here: streams created elsewhere appear, and start their
//     leased loops; deleted ones stop; configuration changes reach the loops;
//   - every node accepts PutRecord(Batch) into the stream's buffer log (a
//     replicated shard), but the delivery loop (and, for a
//     KinesisStreamAsSource stream, the source reader) runs only on the
//     node that holds the lease "firehose.<id>" (Options.Leases);
//   - the loops' progress (delivered position, dynamic-partitioning marks,
//     source shard sequence numbers) is not kept in the blob but in its own
//     key, "firehose-ckpt-<id>", written through a lease.Fence: a new
//     holder stamps it with its lease epoch before it delivers anything, so a
//     former holder can no longer checkpoint. A former holder's upload in
//     flight when it lost the lease may still land: the new holder delivers
//     those records again (at least once, AWS's contract too).
//
// Persisted checkpoint (JSON inside the fence's {"epoch", "data"} envelope):
//
//	{"delivered": N, "lakeDone": {prefix: pos}, "shards": {"shardId-…": {"seq", "done"}}}
//
// Lock order: saveMu, then mu (as for save).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/lease"
	"github.com/eddy-streams/eddy/internal/storage"
)

// SharedMeta is a metadata store with revisions shared by several nodes.
type SharedMeta interface {
	LoadMetaRev(namespace string) ([]byte, uint64, error)
	UpdateMeta(namespace string, rev uint64, blob []byte) (uint64, error)
	WatchMeta(ctx context.Context, namespace string, fn func(blob []byte, rev uint64)) error
	IsConflict(err error) bool
}

const metaNamespace = "firehose"

// errNotHolder is a checkpoint save by a loop whose lease is gone.
var errNotHolder = errors.New("firehose: checkpoint without the stream's lease")

// checkpointData is a stream's delivery progress in cluster mode.
type checkpointData struct {
	Delivered uint64                    `json:"delivered"`
	LakeDone  map[string]uint64         `json:"lakeDone,omitempty"`
	Shards    map[string]*shardProgress `json:"shards,omitempty"`
}

func checkpointNamespace(id string) string { return "firehose-ckpt-" + id }

func (s *Service) shared() SharedMeta {
	sm, _ := s.backend.(SharedMeta)
	return sm
}

func (s *Service) leaser() lease.Leaser {
	if s.opts.Leases != nil {
		return s.opts.Leases
	}
	return lease.Local{}
}

// loadMeta is New's load; with shared metadata it remembers the revision.
func (s *Service) loadMeta() ([]byte, error) {
	sm := s.shared()
	if sm == nil {
		return s.backend.LoadMeta(metaNamespace)
	}
	blob, rev, err := sm.LoadMetaRev(metaNamespace)
	s.metaRev = rev
	return blob, err
}

// encodeLocked is the metadata blob. s.mu held.
func (s *Service) encodeLocked() ([]byte, error) {
	p := persisted{Version: metaVersion}
	for _, st := range s.streams {
		m := st.meta
		p.Streams = append(p.Streams, &m)
	}
	sort.Slice(p.Streams, func(i, j int) bool { return p.Streams[i].ID < p.Streams[j].ID })
	return json.Marshal(p)
}

// saveSharedLocked writes the blob by compare-and-set. saveMu held.
func (s *Service) saveSharedLocked(sm SharedMeta) error {
	s.mu.Lock()
	blob, err := s.encodeLocked()
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("firehose: encode metadata: %w", err)
	}
	rev, err := sm.UpdateMeta(metaNamespace, s.metaRev, blob)
	if err != nil && sm.IsConflict(err) {
		// another node changed the streams first: take its state; the
		// caller's change is dropped and its client retries
		if b, r, lerr := sm.LoadMetaRev(metaNamespace); lerr == nil {
			if aerr := s.applySharedLocked(b, r); aerr != nil {
				s.log.Error("apply shared metadata", "rev", r, "err", aerr)
			}
		}
		return fmt.Errorf("firehose: save metadata: changed on another node: %w", err)
	}
	if err != nil {
		return fmt.Errorf("firehose: save metadata: %w", err)
	}
	s.metaRev = rev
	return nil
}

// applySharedLocked installs another node's saved state: new streams start
// their leased loops, deleted ones stop, changed ones get the new
// configuration (this node's loop progress is kept). saveMu held.
func (s *Service) applySharedLocked(blob []byte, rev uint64) error {
	if rev <= s.metaRev || blob == nil {
		return nil
	}
	var p persisted
	if err := json.Unmarshal(blob, &p); err != nil {
		return fmt.Errorf("firehose: decode shared metadata: %w: %w", storage.ErrCorrupt, err)
	}
	if p.Version != metaVersion {
		return fmt.Errorf("firehose: shared metadata version %d, want %d", p.Version, metaVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil && s.ctx.Err() != nil {
		return nil // closing
	}
	seen := map[string]bool{}
	for _, m := range p.Streams {
		if m == nil || m.Dest == nil || m.ID == "" || m.Name == "" || (m.Type == typeKinesis && m.KinesisSource == nil) {
			continue
		}
		withDefaults(m.Dest)
		key := streamKey(m.Account, m.Region, m.Name)
		seen[key] = true
		if st := s.streams[key]; st != nil && st.meta.ID == m.ID {
			// only what the API changes: the loops read the identity
			// (id, name, type) without the lock; their progress is theirs
			c := &st.meta
			c.Status, c.Version, c.UpdatedMs = m.Status, m.Version, m.UpdatedMs
			c.Dest, c.Extended, c.Other, c.DirectPut = m.Dest, m.Extended, m.Other, m.DirectPut
			c.EncKeyType, c.EncKeyARN, c.EncStatus, c.Tags = m.EncKeyType, m.EncKeyARN, m.EncStatus, m.Tags
			st.wake()
			continue
		} else if st != nil {
			s.dropLocked(key, st) // deleted and created again under the same name
		}
		st := s.newStream(*m)
		s.streams[key] = st
		s.launchLocked(st)
	}
	for key, st := range s.streams {
		if !seen[key] {
			s.dropLocked(key, st)
		}
	}
	s.metaRev = rev
	return nil
}

// dropLocked forgets a stream another node deleted. s.mu held.
func (s *Service) dropLocked(key string, st *stream) {
	delete(s.streams, key)
	close(st.stop)
	s.metrics.drop(st.meta.Account, st.meta.Region, st.meta.Name)
}

// watchShared follows other nodes' saves until Close. Called from Start
// (s.mu held): the catch-up load runs on its own goroutine.
func (s *Service) watchShared() error {
	sm := s.shared()
	if sm == nil {
		return nil
	}
	apply := func(blob []byte, rev uint64) {
		s.saveMu.Lock()
		defer s.saveMu.Unlock()
		if err := s.applySharedLocked(blob, rev); err != nil {
			s.log.Error("apply shared metadata", "rev", rev, "err", err)
		}
	}
	if err := sm.WatchMeta(s.ctx, metaNamespace, apply); err != nil {
		return fmt.Errorf("firehose: %w", err)
	}
	go func() {
		// what changed between New's load and the watch
		if blob, rev, err := sm.LoadMetaRev(metaNamespace); err == nil {
			apply(blob, rev)
		}
	}()
	return nil
}

// runLeased runs a stream's loops while this node holds its lease. In
// cluster mode it first claims the stream's checkpoint under the lease's
// epoch and resumes from it.
func (s *Service) runLeased(ctx context.Context, st *stream, epoch uint64) {
	if sm := s.shared(); sm != nil {
		lctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if !s.claim(lctx, sm, st, epoch, cancel) {
			return
		}
		defer func() {
			s.saveMu.Lock()
			st.fence, st.fenceStop = nil, nil
			s.saveMu.Unlock()
			if lctx.Err() != nil && ctx.Err() == nil {
				// fenced off by a newer holder: wait for the lease runner
				// to see the loss (returning would end the work for good)
				<-ctx.Done()
			}
		}()
		ctx = lctx
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.deliverLoop(ctx, st)
	}()
	if st.meta.Type == typeKinesis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.kinesisLoop(ctx, st)
		}()
	}
	wg.Wait()
}

// claim stamps the stream's checkpoint with epoch and loads it into
// st.meta. It retries while the store is unreachable; false when ctx ends
// or the stream is deleted first.
func (s *Service) claim(ctx context.Context, sm SharedMeta, st *stream, epoch uint64, stop context.CancelFunc) bool {
	ns := checkpointNamespace(st.meta.ID)
	for {
		f, data, err := lease.ClaimCheckpoint(sm, ns, epoch)
		if err == nil {
			var ck checkpointData
			if data != nil {
				if err := json.Unmarshal(data, &ck); err != nil {
					s.log.Error("decode delivery checkpoint; resuming from the metadata's", "stream", st.meta.Name, "err", err)
					data = nil
				}
			}
			s.saveMu.Lock()
			s.mu.Lock()
			if data != nil {
				st.meta.Delivered, st.meta.LakeDone, st.meta.Shards = ck.Delivered, ck.LakeDone, ck.Shards
			}
			st.fence, st.fenceStop = f, stop
			s.mu.Unlock()
			s.saveMu.Unlock()
			return true
		}
		s.log.Warn("claim delivery checkpoint", "stream", st.meta.Name, "epoch", epoch, "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-st.stop:
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// saveCheckpoint persists a stream's delivery progress: with the rest of
// the metadata on one node; in cluster mode in its own key, through the
// lease's fence (a loop fenced off by a newer holder is stopped).
func (s *Service) saveCheckpoint(st *stream) error {
	if s.shared() == nil {
		return s.save()
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if st.fence == nil {
		return errNotHolder
	}
	s.mu.Lock()
	b, err := json.Marshal(checkpointData{Delivered: st.meta.Delivered, LakeDone: st.meta.LakeDone, Shards: st.meta.Shards})
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("firehose: encode checkpoint: %w", err)
	}
	if err := st.fence.Save(b); err != nil {
		if errors.Is(err, lease.ErrFenced) {
			st.fenceStop()
		}
		return fmt.Errorf("firehose: save checkpoint of %s: %w", st.meta.Name, err)
	}
	return nil
}
