package kinesis

// Cluster mode: the control state follows a shared, versioned metadata store.
//
// When the backend implements SharedMeta (natsstore does, with a replicated
// KV bucket), every node keeps the whole control state in memory as before,
// but:
//   - a save is a compare-and-set against the revision this node last saw,
//     so two nodes never both win a control-plane change. The loser reloads
//     the winner's state and the operation runs again on it (Handle);
//   - a watch applies every other node's saved revision to this node's
//     memory, so all nodes describe, list and route the same streams;
//   - the iterator key is part of that state, so a shard iterator or a page
//     token sealed on one node opens on any other.
// Data-plane calls (PutRecords, GetRecords) never touch the metadata store.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

// SharedMeta is a metadata store with revisions, shared by several nodes.
type SharedMeta interface {
	LoadMetaRev(namespace string) ([]byte, uint64, error)
	// UpdateMeta writes blob only if the key is still at rev (0: absent);
	// IsConflict tells a lost race from other errors.
	UpdateMeta(namespace string, rev uint64, blob []byte) (uint64, error)
	WatchMeta(ctx context.Context, namespace string, fn func(blob []byte, rev uint64)) error
	IsConflict(err error) bool
}

// errMetaConflict marks a save that lost a compare-and-set race; Handle runs
// the operation again on the reloaded state.
var errMetaConflict = errors.New("kinesis: metadata changed by another node")

// clusterLoad is New's load when the backend shares metadata: it returns
// the blob and remembers its revision.
func (s *Service) clusterLoad() ([]byte, error) {
	sm, ok := s.backend.(SharedMeta)
	if !ok {
		return s.backend.LoadMeta(metaNamespace)
	}
	blob, rev, err := sm.LoadMetaRev(metaNamespace)
	s.metaRev = rev
	return blob, err
}

// clusterSaveLocked writes blob; with shared metadata by compare-and-set.
// s.mu held (write).
func (s *Service) clusterSaveLocked(blob []byte) error {
	sm, ok := s.backend.(SharedMeta)
	if !ok {
		return s.backend.SaveMeta(metaNamespace, blob)
	}
	rev, err := sm.UpdateMeta(metaNamespace, s.metaRev, blob)
	if err != nil && sm.IsConflict(err) {
		if rerr := s.reloadLocked(sm); rerr != nil {
			return fmt.Errorf("%w (reload: %v)", errMetaConflict, rerr)
		}
		return errMetaConflict
	}
	if err != nil {
		return err
	}
	s.metaRev = rev
	return nil
}

// reloadLocked replaces the in-memory state with the shared one. s.mu held.
func (s *Service) reloadLocked(sm SharedMeta) error {
	blob, rev, err := sm.LoadMetaRev(metaNamespace)
	if err != nil {
		return err
	}
	return s.applyLocked(blob, rev)
}

// applyLocked installs a saved state newer than what this node has. s.mu held.
func (s *Service) applyLocked(blob []byte, rev uint64) error {
	if rev <= s.metaRev || blob == nil {
		return nil
	}
	var p persisted
	if err := json.Unmarshal(blob, &p); err != nil {
		return fmt.Errorf("kinesis: decode shared metadata: %w", err)
	}
	if p.Version != 1 {
		return fmt.Errorf("kinesis: metadata version %d not supported", p.Version)
	}
	streams := make(map[nsKey]*stream, len(p.Streams))
	for _, st := range p.Streams {
		st.reroute()
		streams[nsKey{st.Account, st.Region, st.Name}] = st
	}
	s.streams = streams
	if p.Accounts != nil {
		s.accounts = p.Accounts
	}
	s.idSeq = max(s.idSeq, p.IDSeq)
	if len(p.IteratorKey) == 32 && !bytes.Equal(p.IteratorKey, s.iterKey) {
		// only when two nodes started an empty cluster at once
		codec, err := shardmap.NewIteratorCodec(p.IteratorKey)
		if err != nil {
			return err
		}
		s.iters, s.iterKey = codec, p.IteratorKey
	}
	s.metaRev = rev
	return nil
}

// clusterWatch follows other nodes' saves until the service stops.
func (s *Service) clusterWatch() error {
	sm, ok := s.backend.(SharedMeta)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-s.stop; cancel() }()
	return sm.WatchMeta(ctx, metaNamespace, func(blob []byte, rev uint64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.applyLocked(blob, rev); err != nil {
			s.log.Error("apply shared metadata", "rev", rev, "err", err)
		}
	})
}

// errRetry is what an operation returns when its save lost a race: Handle
// runs it again on the reloaded state, and answers it (a retryable 503) only
// when it keeps losing.
var errRetry = awserr.ServiceUnavailable("The control-plane state changed on another node; retry.")

// clusterSaveErr maps a failed save: a lost race to errRetry, a store
// without quorum to a 503; nil for other errors (logged as internal).
func clusterSaveErr(err error) error {
	switch {
	case errors.Is(err, errMetaConflict):
		return errRetry
	case errors.Is(err, storage.ErrUnavailable):
		return awserr.ServiceUnavailable("The cluster has no quorum; the change was not made.")
	}
	return nil
}

// handleRetrying runs h again (a few times) when its save lost a race.
func (s *Service) handleRetrying(h handler, r *awsproto.Request) (any, error) {
	for range 5 {
		out, err := h(s, r)
		if err != errRetry {
			return out, err
		}
	}
	return h(s, r)
}
