// Package checkpoint stores, per flow, the file position up to which every
// record has been acknowledged by the destination.
//
// Format (version 2): a fixed header and two slots. Each write goes to the
// slot the previous write did not use, in place, followed by fsync; a torn
// write damages only that slot, and reading picks the valid slot with the
// highest sequence number, so a crash leaves either the old or the new
// checkpoint. Writing in place avoids creating a file per checkpoint (the
// agent checkpoints after every acknowledged batch group).
//
//	offset  size  field
//	0       8     magic "EDDYACP\x00"
//	8       4     version, uint32 big-endian (2)
//	12      4     slotSize, uint32 big-endian (≥ 4096)
//	16+k×slotSize, k = 0, 1: slot k
//	  +0    8     seq, uint64 big-endian (0: never written)
//	  +8    4     n, payload length, uint32 big-endian (≤ slotSize − 16)
//	  +12   4     CRC-32C of bytes +0…+11 and the payload
//	  +16   n     payload: JSON {"flows": {"<flow id>": {"position": {…}, "updated": "<RFC 3339>"}}}
//
// A document that outgrows the slots is written to a new file with larger
// slots (temp file, fsync, rename, fsync of the directory), which is also how
// the file is created.
//
// The flow id is the AWS agent's ("kinesis:<stream>:<filePattern>" or
// "fh:<stream>:<filePattern>"). Entries not updated for the TTL
// (checkpointTimeToLiveDays) are dropped when the file is opened. A file that
// does not decode is an error: the agent refuses to start rather than guess
// where to resume.
package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/agent/tail"
)

// Version is the format version written.
const Version = 2

const (
	magic       = "EDDYACP\x00"
	headerSize  = 16
	slotHeader  = 16
	minSlotSize = 4096
	maxSlotSize = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Entry is one flow's checkpoint.
type Entry struct {
	Position tail.Position `json:"position"`
	Updated  time.Time     `json:"updated"`
}

type document struct {
	Flows map[string]Entry `json:"flows"`
}

// Store is the checkpoint file. Safe for concurrent use.
type Store struct {
	path string
	now  func() time.Time

	mu       sync.Mutex
	flows    map[string]Entry
	f        *os.File // nil until the first write
	slotSize int
	seq      uint64
	buf      []byte
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
	flows, seq, slotSize, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("checkpoints %s: %w", path, err)
	}
	for id, e := range flows {
		if ttl > 0 && now().Sub(e.Updated) > ttl {
			continue
		}
		s.flows[id] = e
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open checkpoints %s: %w", path, err)
	}
	s.f, s.seq, s.slotSize = f, seq, slotSize
	return s, nil
}

// Decode parses a checkpoint file and returns its flows.
func Decode(data []byte) (map[string]Entry, error) {
	flows, _, _, err := decode(data)
	return flows, err
}

func decode(data []byte) (map[string]Entry, uint64, int, error) {
	if len(data) < headerSize || string(data[:8]) != magic {
		return nil, 0, 0, errors.New("not an eddy agent checkpoint file")
	}
	if v := binary.BigEndian.Uint32(data[8:]); v != Version {
		return nil, 0, 0, fmt.Errorf("unsupported version %d (want %d)", v, Version)
	}
	slotSize := int(binary.BigEndian.Uint32(data[12:]))
	if slotSize < minSlotSize || slotSize > maxSlotSize || len(data) < headerSize+2*slotSize {
		return nil, 0, 0, fmt.Errorf("bad slot size %d for a %d-byte file", slotSize, len(data))
	}
	var best map[string]Entry
	var bestSeq uint64
	var firstErr error
	for k := 0; k < 2; k++ {
		slot := data[headerSize+k*slotSize : headerSize+(k+1)*slotSize]
		seq := binary.BigEndian.Uint64(slot)
		n := int(binary.BigEndian.Uint32(slot[8:]))
		if seq == 0 || seq <= bestSeq {
			continue
		}
		if n > slotSize-slotHeader {
			if firstErr == nil {
				firstErr = fmt.Errorf("slot %d: length %d", k, n)
			}
			continue
		}
		crc := crc32.Update(crc32.Checksum(slot[:12], castagnoli), castagnoli, slot[slotHeader:slotHeader+n])
		if crc != binary.BigEndian.Uint32(slot[12:]) {
			if firstErr == nil {
				firstErr = fmt.Errorf("slot %d: checksum mismatch", k)
			}
			continue
		}
		var doc document
		if err := json.Unmarshal(slot[slotHeader:slotHeader+n], &doc); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("slot %d: %w", k, err)
			}
			continue
		}
		bad := false
		for _, e := range doc.Flows {
			if e.Position.Offset < 0 || e.Position.FPLen < 0 {
				bad = true
			}
		}
		if bad {
			if firstErr == nil {
				firstErr = fmt.Errorf("slot %d: negative offset or fingerprint length", k)
			}
			continue
		}
		if doc.Flows == nil {
			doc.Flows = map[string]Entry{}
		}
		best, bestSeq = doc.Flows, seq
	}
	if best == nil {
		if firstErr == nil {
			firstErr = errors.New("no checkpoint slot written")
		}
		return nil, 0, 0, firstErr
	}
	return best, bestSeq, slotSize, nil
}

// Get returns the flow's position, if any.
func (s *Store) Get(flow string) (tail.Position, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.flows[flow]
	return e.Position, ok
}

// Set records the flow's position and writes it durably before returning.
func (s *Store) Set(flow string, pos tail.Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flows[flow] = Entry{Position: pos, Updated: s.now().UTC()}
	return s.writeLocked()
}

// Close closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// frame encodes the document into a slot frame with sequence seq.
func (s *Store) frame(seq uint64) ([]byte, error) {
	payload, err := json.Marshal(document{Flows: s.flows})
	if err != nil {
		return nil, fmt.Errorf("encode checkpoints: %w", err)
	}
	b := append(s.buf[:0], make([]byte, slotHeader)...)
	binary.BigEndian.PutUint64(b, seq)
	binary.BigEndian.PutUint32(b[8:], uint32(len(payload)))
	b = append(b, payload...)
	crc := crc32.Update(crc32.Checksum(b[:12], castagnoli), castagnoli, payload)
	binary.BigEndian.PutUint32(b[12:], crc)
	s.buf = b
	return b, nil
}

func (s *Store) writeLocked() error {
	seq := s.seq + 1
	fr, err := s.frame(seq)
	if err != nil {
		return err
	}
	if s.f == nil || len(fr) > s.slotSize {
		if err := s.rewriteLocked(fr); err != nil {
			return err
		}
		s.seq = seq
		return nil
	}
	off := int64(headerSize + int(seq%2)*s.slotSize)
	if _, err := s.f.WriteAt(fr, off); err != nil {
		return fmt.Errorf("write checkpoints: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sync checkpoints: %w", err)
	}
	s.seq = seq
	return nil
}

// rewriteLocked writes a new file whose two slots both hold fr, sized for
// it, and renames it over the old one.
func (s *Store) rewriteLocked(fr []byte) error {
	size := minSlotSize
	for size < 2*len(fr) {
		size *= 2
	}
	if size > maxSlotSize {
		return fmt.Errorf("checkpoint document of %d bytes is too large", len(fr))
	}
	data := make([]byte, headerSize+2*size)
	copy(data, magic)
	binary.BigEndian.PutUint32(data[8:], Version)
	binary.BigEndian.PutUint32(data[12:], uint32(size))
	copy(data[headerSize:], fr)
	copy(data[headerSize+size:], fr)
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
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		tmp.Close()
		return fmt.Errorf("rename checkpoints: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			tmp.Close()
			return fmt.Errorf("sync checkpoint dir: %w", err)
		}
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.slotSize = tmp, size
	return nil
}
