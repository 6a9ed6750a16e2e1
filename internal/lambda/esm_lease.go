package lambda

// Event source mappings in cluster mode: each mapping runs on the node that
// holds its lease ("lambda-esm.<UUID>", Options.Leases). Its checkpoints
// (namespace "lambda-esm-UUID") live in the replicated metadata store; when
// the backend fences them (lease.FencedMeta), a new holder first claims
// them with its lease epoch and resumes from them, so a former holder can
// no longer move them.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/eddy-streams/eddy/internal/lease"
)

// checkpointClaimer is a backend whose checkpoint namespaces are fenced by
// lease epoch (lease.FencedMeta).
type checkpointClaimer interface {
	Claim(ns string, epoch uint64) ([]byte, error)
	Drop(ns string)
}

func (s *Service) leaser() lease.Leaser {
	if s.o.Leases != nil {
		return s.o.Leases
	}
	return lease.Local{}
}

// runLeased runs the mapping while this node holds its lease.
func (m *mapping) runLeased(ctx context.Context, epoch uint64) {
	c, ok := m.s.o.Backend.(checkpointClaimer)
	if !ok {
		m.run(ctx)
		return
	}
	m.mu.Lock()
	ns := "lambda-esm-" + m.set.UUID
	m.mu.Unlock()
	pause := func() bool {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for {
		data, err := c.Claim(ns, epoch)
		if err != nil {
			m.s.log.Warn("event source mapping: claim checkpoints", "uuid", ns, "epoch", epoch, "err", err)
			if !pause() {
				return
			}
			continue
		}
		var ck checkpoints
		m.mu.Lock()
		if data != nil && json.Unmarshal(data, &ck) == nil && ck.Shards != nil {
			m.ckpt = ck
		}
		m.saveErr = nil // a former failed or fenced write of this node
		m.mu.Unlock()
		m.run(ctx)
		c.Drop(ns)
		m.mu.Lock()
		failed := m.saveErr != nil
		m.mu.Unlock()
		if !failed || !pause() {
			return // the stream is gone, or the lease ended
		}
		// a checkpoint write failed (no quorum, or a newer holder fenced
		// it): claim again; a fenced claim keeps failing until the lease
		// runner stops this run
	}
}
