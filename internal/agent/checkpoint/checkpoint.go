// Package checkpoint stores, per flow, the file position up to which every
// record has been acknowledged by the destination.
//
// Format: one JSON document, written atomically (temp file, fsync, rename,
// fsync of the directory), so a crash leaves either the old or the new file:
//
//	{"version": 1,
//	 "flows": {"<flow id>": {"position": {<tail.Position>}, "updated": "<RFC 3339>"}}}
//
// The flow id is the AWS agent's ("kinesis:<stream>:<filePattern>" or
// "fh:<stream>:<filePattern>"). Entries not updated for the TTL
// (checkpointTimeToLiveDays) are dropped when the file is opened. A file of
// another version, or one that does not decode, is an error: the agent
// refuses to start rather than guess where to resume.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/agent/tail"
)

// Version is the format version written.
const Version = 1

// Entry is one flow's checkpoint.
type Entry struct {
	Position tail.Position `json:"position"`
	Updated  time.Time     `json:"updated"`
}

type document struct {
	Version int              `json:"version"`
	Flows   map[string]Entry `json:"flows"`
}

// Store is the checkpoint file. Safe for concurrent use.
type Store struct {
	path string
	now  func() time.Time

	mu    sync.Mutex
	flows map[string]Entry
}

// Open reads path (a missing file is an empty store) and drops entries older
// than ttl (0: keep all).
func Open(path string, ttl time.Duration, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	s := &Store{path: path, now: now, flows: map[string]Entry{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoints %s: %w", path, err)
	}
	flows, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("checkpoints %s: %w", path, err)
	}
	for id, e := range flows {
		if ttl > 0 && now().Sub(e.Updated) > ttl {
			continue
		}
		s.flows[id] = e
	}
	return s, nil
}

// Decode parses a checkpoint document.
func Decode(data []byte) (map[string]Entry, error) {
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if doc.Version != Version {
		return nil, fmt.Errorf("unsupported version %d (want %d)", doc.Version, Version)
	}
	for id, e := range doc.Flows {
		if e.Position.Offset < 0 || e.Position.FPLen < 0 {
			return nil, fmt.Errorf("flow %q: negative offset or fingerprint length", id)
		}
	}
	if doc.Flows == nil {
		doc.Flows = map[string]Entry{}
	}
	return doc.Flows, nil
}

// Get returns the flow's position, if any.
func (s *Store) Get(flow string) (tail.Position, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.flows[flow]
	return e.Position, ok
}

// Set records the flow's position and writes the file durably before
// returning.
func (s *Store) Set(flow string, pos tail.Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flows[flow] = Entry{Position: pos, Updated: s.now().UTC()}
	return s.writeLocked()
}

func (s *Store) writeLocked() error {
	data, err := json.MarshalIndent(document{Version: Version, Flows: s.flows}, "", " ")
	if err != nil {
		return fmt.Errorf("encode checkpoints: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create checkpoint dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(s.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write checkpoints: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoints: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync checkpoints: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close checkpoints: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("rename checkpoints: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync checkpoint dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync checkpoint dir: %w", err)
	}
	return nil
}
