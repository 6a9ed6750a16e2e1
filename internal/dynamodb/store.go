package dynamodb

// The log (docs/format/dynamodb.md): <dir>/dynamodb.log is a sequence of
// frames
//
//	offset  size  field
//	0       4     magic "EDB1" (first frame only: the file header)
//	then per record:
//	0       4     payload length n, little endian (at most 64 MiB)
//	4       4     CRC-32C (Castagnoli) of the payload, little endian
//	8       n     payload: one logRec as JSON ({"op":"table"|"drop"|"put"|"del"|"batch",…})
//
// A record is applied only when its frame is whole and its CRC matches.
// Opening stops at the first bad frame and truncates the file there (a
// torn tail from a crash). Compaction writes the live state as a new log to
// dynamodb.log.tmp, fsyncs it, renames it over dynamodb.log and fsyncs the
// directory. A failed write or fsync poisons the log: every later change
// fails until the process restarts.
//
// Group commit: appends happen under Service.mu (the log order is the
// order changes are applied); the fsync a change waits for runs after
// Service.mu is released, under wal.syncMu, and covers every record
// appended before it started. Lock order: Service.mu, then wal.syncMu
// (compaction holds both); syncTo takes only wal.syncMu.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

const (
	walName     = "dynamodb.log"
	walMagic    = "EDB1"
	maxFrame    = 64 << 20
	compactMult = 4
)

// compactMin is the log size below which it is never compacted (a
// variable for tests).
var compactMin int64 = 16 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type wal struct {
	dir  string
	sync bool
	log  *slog.Logger

	// guarded by Service.mu (and syncMu where compaction swaps the file)
	f    *os.File
	size int64
	seq  atomic.Uint64 // records appended

	syncMu sync.Mutex
	synced uint64 // guarded by syncMu: records known to be on stable storage
	err    error  // sticky; guarded by Service.mu for appends, syncMu for syncs
	serr   error  // sticky fsync error, guarded by syncMu
}

func openWAL(dir string, sync bool, log *slog.Logger, apply func(logRec) error) (*wal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dynamodb dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, walName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	good, err := readFrames(f, apply)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if good == 0 {
		if _, err := f.WriteAt([]byte(walMagic), 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		good = int64(len(walMagic))
	}
	if st.Size() != good {
		if st.Size() > good && good > int64(len(walMagic)) {
			log.Warn("dynamodb log: cutting a torn tail", "path", path, "size", st.Size(), "good", good)
		}
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("truncate %s: %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync %s: %w", path, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &wal{dir: dir, f: f, size: good, sync: sync, log: log}, nil
}

// readFrames applies every whole frame and returns the offset after the
// last good one (0 for an empty or headerless file).
func readFrames(r io.Reader, apply func(logRec) error) (int64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return 0, nil
	}
	if string(magic[:]) != walMagic {
		return 0, fmt.Errorf("not a dynamodb log (magic %q)", magic[:])
	}
	off := int64(len(walMagic))
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return off, nil
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		if n > maxFrame {
			return off, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return off, nil
		}
		if crc32.Checksum(payload, castagnoli) != sum {
			return off, nil
		}
		var rec logRec
		if err := json.Unmarshal(payload, &rec); err != nil {
			return off, fmt.Errorf("record at %d: %w", off, err)
		}
		if err := apply(rec); err != nil {
			return off, fmt.Errorf("record at %d: %w", off, err)
		}
		off += 8 + int64(n)
	}
}

func frame(rec logRec) ([]byte, error) {
	payload, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if len(payload) > maxFrame {
		return nil, errors.New("log record too large")
	}
	b := make([]byte, 8+len(payload))
	binary.LittleEndian.PutUint32(b[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:8], crc32.Checksum(payload, castagnoli))
	copy(b[8:], payload)
	return b, nil
}

// append writes rec (caller holds Service.mu) and returns its sequence
// number for syncTo.
func (w *wal) append(rec logRec) (uint64, error) {
	if w.err != nil {
		return 0, w.err
	}
	b, err := frame(rec)
	if err != nil {
		return 0, err
	}
	w.syncMu.Lock()
	serr := w.serr
	w.syncMu.Unlock()
	if serr != nil {
		w.err = serr
		return 0, serr
	}
	if _, err := w.f.Write(b); err != nil {
		w.err = fmt.Errorf("append dynamodb log: %w", err)
		return 0, w.err
	}
	w.size += int64(len(b))
	return w.seq.Add(1), nil
}

// syncTo returns once record seq is on stable storage (at once without
// Options.Sync). One fsync serves every record appended before it began.
func (w *wal) syncTo(seq uint64) error {
	if !w.sync {
		return nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.serr != nil {
		return w.serr
	}
	if w.synced >= seq {
		return nil
	}
	upTo := w.seq.Load()
	if err := w.f.Sync(); err != nil {
		w.serr = fmt.Errorf("sync dynamodb log: %w", err)
		return w.serr
	}
	w.synced = upTo
	return nil
}

func (w *wal) needsCompaction(live int64) bool {
	return w.err == nil && w.size > compactMin && w.size > compactMult*live
}

// flush fsyncs everything appended so far (the interval mode's timer).
func (w *wal) flush() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.serr != nil {
		return w.serr
	}
	upTo := w.seq.Load()
	if err := w.f.Sync(); err != nil {
		w.serr = fmt.Errorf("sync dynamodb log: %w", err)
		return w.serr
	}
	w.synced = upTo
	return nil
}

// compact replaces the log with recs (caller holds Service.mu).
func (w *wal) compact(recs []logRec) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	tmp := filepath.Join(w.dir, walName+".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	size := int64(len(walMagic))
	bw.WriteString(walMagic)
	for _, r := range recs {
		b, err := frame(r)
		if err != nil {
			f.Close()
			os.Remove(tmp)
			return err
		}
		bw.Write(b)
		size += int64(len(b))
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, walName)); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(w.dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			w.err = fmt.Errorf("sync dir after compaction: %w", err)
		}
	}
	w.f.Close()
	w.f = f
	w.size = size
	w.synced = w.seq.Load() // the new file was fsynced whole
	return w.err
}

func (w *wal) close() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	err := w.f.Sync()
	if e := w.f.Close(); err == nil {
		err = e
	}
	return err
}
