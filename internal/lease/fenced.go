package lease

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/eddy-streams/eddy/internal/storage"
)

// FencedMeta is a storage.Backend whose metadata namespaces under Prefixes
// are fenced checkpoints (in Store, the replicated KV bucket): a service
// that keeps a leased loop's checkpoint with SaveMeta (Lambda's mappings,
// analytics applications) gets fencing without knowing about it. The
// leased loop Claims its namespace with its lease epoch when it starts and
// Drops it when it stops; SaveMeta then writes through the fence, LoadMeta
// reads the checkpoint inside the envelope. A SaveMeta with no claim
// succeeds only on a namespace no lease holder ever claimed (a checkpoint
// written when the work is created). Other namespaces and every other
// method go to Backend unchanged.
type FencedMeta struct {
	storage.Backend
	Store    Store
	Prefixes []string

	mu     sync.Mutex
	fences map[string]*Fence
}

func (f *FencedMeta) fenced(ns string) bool {
	for _, p := range f.Prefixes {
		if strings.HasPrefix(ns, p) {
			return true
		}
	}
	return false
}

// Claim stamps namespace ns with epoch (see ClaimCheckpoint), keeps the
// fence for SaveMeta and returns the checkpoint (nil when none).
func (f *FencedMeta) Claim(ns string, epoch uint64) ([]byte, error) {
	fence, data, err := ClaimCheckpoint(f.Store, ns, epoch)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.fences == nil {
		f.fences = map[string]*Fence{}
	}
	f.fences[ns] = fence
	f.mu.Unlock()
	return data, nil
}

// Drop forgets ns's fence (the loop stopped).
func (f *FencedMeta) Drop(ns string) {
	f.mu.Lock()
	delete(f.fences, ns)
	f.mu.Unlock()
}

// SaveMeta implements storage.Backend.
func (f *FencedMeta) SaveMeta(ns string, blob []byte) error {
	if !f.fenced(ns) {
		return f.Backend.SaveMeta(ns, blob)
	}
	f.mu.Lock()
	fence := f.fences[ns]
	f.mu.Unlock()
	if fence == nil {
		var err error
		if fence, _, err = ClaimCheckpoint(f.Store, ns, 0); err != nil {
			return fmt.Errorf("save %s without its lease: %w", ns, err)
		}
	}
	return fence.Save(blob)
}

// LoadMeta implements storage.Backend.
func (f *FencedMeta) LoadMeta(ns string) ([]byte, error) {
	if !f.fenced(ns) {
		return f.Backend.LoadMeta(ns)
	}
	blob, _, err := f.Store.LoadMetaRev(ns)
	if err != nil || blob == nil {
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(blob, &env); err != nil {
		return nil, fmt.Errorf("load %s: decode: %w", ns, err)
	}
	if len(env.Data) == 0 {
		return nil, nil
	}
	return env.Data, nil
}
