// Package tail follows the files of one glob pattern across rotations and
// cuts them into records, each tagged with the file position just after it.
//
// Design:
//   - A file is known by its identity — device and inode — together with a
//     fingerprint: a CRC-64 of its first bytes (fingerprintBytes, 1 KiB by
//     default, fewer while the file is shorter). Identity follows a renamed
//     file; the fingerprint recognises a copy of it (copytruncate) and a file
//     truncated and refilled between two polls.
//   - One file is read at a time, oldest first. The current file stays open,
//     so a file renamed away (rename + create rotation) or unlinked is still
//     read to its end. It is let go only once a newer file exists (or its
//     name is gone) and it has not grown for RotateWait; then the next newer
//     file is read from offset 0.
//   - copytruncate: when the current file shrinks, or its first bytes change,
//     the tailer looks in the file's directory for a copy — a regular file
//     whose first bytes have the old fingerprint and that is at least as long
//     as what was read — and reads the copy from the old offset to its end
//     before reading the truncated file from 0. Without a copy it logs a
//     warning, counts TruncatedNoCopy and restarts at 0.
//   - Records carry End, the Position after their last byte: a checkpoint of
//     End resumes exactly after the record. Resume finds the checkpointed
//     file by identity and fingerprint, then by fingerprint alone (its
//     copytruncate copy), anywhere in its directory, so a file renamed while
//     the agent was stopped is still finished. Files matching the pattern and
//     modified after the checkpoint are read next.
//   - Only complete lines (ending in '\n') are emitted while a file may still
//     grow; a final unterminated line is emitted when the file is let go.
//     Lines longer than MaxRecord are truncated (with Terminator) or split;
//     memory per flow stays bounded by MaxRecord plus one read buffer.
//   - The tailer has no goroutines and no sleeps: the caller calls Poll and
//     waits between polls that returned 0. Time comes from Options.Now.
package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// Position is a point in a file, with what is needed to find that file again.
type Position struct {
	Path    string `json:"path"`
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	FP      uint64 `json:"fingerprint"`
	FPLen   int    `json:"fingerprintLength"`
	Offset  int64  `json:"offset"`
	ModTime int64  `json:"modTimeUnixNano"`
	// Next names a file to read after this one even if the pattern does not
	// match it: the truncated original while its copytruncate copy is read.
	NextPath string `json:"nextPath,omitempty"`
	NextDev  uint64 `json:"nextDev,omitempty"`
	NextIno  uint64 `json:"nextIno,omitempty"`
	// Tracker is what the tailer knew about the other files when the
	// record was read: finished files (with how far they were read) and
	// files waiting to be read. A restart from the position carries on from
	// it instead of guessing from modification times. Shared, read-only.
	Tracker *TrackerState `json:"tracker,omitempty"`
}

// TrackerState is the tailer's knowledge of the files besides the current
// one.
type TrackerState struct {
	Done    []FileState `json:"done,omitempty"`
	Pending []FileState `json:"pending,omitempty"`
}

// FileState identifies a file (device, inode, fingerprint of its first
// bytes, last seen path) and, for finished files, how far it was read.
type FileState struct {
	Path   string `json:"path"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	FP     uint64 `json:"fingerprint"`
	FPLen  int    `json:"fingerprintLength"`
	Offset int64  `json:"offset,omitempty"`
}

// Record is one record read from a file. Data (nil for Skip records) is only
// valid during the emit call. Skip records only move the position: header
// lines, footers and file switches.
type Record struct {
	Data      []byte
	End       Position
	Skip      bool
	Truncated bool
}

// Stats are counters a tailer updates; safe to read concurrently.
type Stats struct {
	Lines           atomic.Int64 // lines read (complete or final)
	Bytes           atomic.Int64 // bytes read from files
	Truncated       atomic.Int64 // records truncated to MaxRecord
	Split           atomic.Int64 // records split at MaxRecord
	Rotations       atomic.Int64 // files let go after rotation
	Copytruncates   atomic.Int64 // truncations resolved through a copy
	TruncatedNoCopy atomic.Int64 // truncations with no copy found (possible loss)
	HeadersSkipped  atomic.Int64
}

// Options configure a Tailer.
type Options struct {
	Pattern          string
	Resume           *Position // checkpoint; nil on first start
	StartAtEnd       bool      // initialPosition END_OF_FILE (first start only)
	SkipHeaderLines  int
	MultiLineStart   *regexp.Regexp
	MultiLineFlush   time.Duration
	Footer           *regexp.Regexp
	MaxRecord        int
	Split            bool   // split oversize records instead of truncating
	Terminator       []byte // appended to truncated records
	FingerprintBytes int
	RotateWait       time.Duration
	ReadBuffer       int // default 256 KiB
	Now              func() time.Time
	Log              *slog.Logger
	Stats            *Stats
}

type file struct {
	f       *os.File
	path    string
	dev     uint64
	ino     uint64
	fp      uint64
	fpLen   int
	readOff int64
	modTime int64
	footer  bool // footer seen: nothing more is read
	next    *candidate
}

type key struct{ dev, ino uint64 }

// doneFile remembers a finished file's fingerprint, so that a new file that
// reuses its inode is not mistaken for it.
type doneFile struct {
	fp   uint64
	n    int
	off  int64  // read up to here; growth beyond it is read later
	path string // where it was last seen
}

// Tailer follows one pattern.
type Tailer struct {
	opt     Options
	log     *slog.Logger
	stats   *Stats
	started bool
	cur     *file
	done    map[key]doneFile // files finished (or history at first start)
	pending []candidate      // newer files to read after cur, oldest first
	seenFP  map[key]doneFile // first-bytes fingerprint of pending files when last seen intact
	after   []candidate      // files to read before the pending ones, even if the pattern no longer matches them
	snap    *TrackerState    // attached to positions; replaced when the state changes
	dirty   bool             // snap must be rebuilt

	lastGrowth time.Time
	rotSeen    time.Time // when a successor (or the name's loss) was first seen for cur
	lastData   time.Time
	buf        []byte

	// record assembly
	partial    []byte
	dropping   bool // dropping the rest of an oversize line (TRUNCATE)
	headerLeft int
	rec        []byte // multi-line record being assembled
	recEnd     int64
	recTrunc   bool
}

type candidate struct {
	path    string
	dev     uint64
	ino     uint64
	size    int64
	modTime int64
}

// New returns a tailer; it touches the file system only when polled.
func New(opt Options) *Tailer {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Stats == nil {
		opt.Stats = &Stats{}
	}
	if opt.FingerprintBytes <= 0 {
		opt.FingerprintBytes = 1024
	}
	if opt.ReadBuffer <= 0 {
		opt.ReadBuffer = 256 << 10
	}
	if opt.MaxRecord <= 0 {
		opt.MaxRecord = 1 << 20
	}
	if len(opt.Terminator) >= opt.MaxRecord {
		opt.Terminator = nil
	}
	if opt.MultiLineFlush <= 0 {
		opt.MultiLineFlush = time.Second
	}
	return &Tailer{opt: opt, log: opt.Log.With("pattern", opt.Pattern), stats: opt.Stats, done: map[key]doneFile{}, seenFP: map[key]doneFile{},
		buf: make([]byte, opt.ReadBuffer)}
}

// Close releases the open file.
func (t *Tailer) Close() error {
	if t.cur != nil {
		err := t.cur.f.Close()
		t.cur = nil
		return err
	}
	return nil
}

// Lag reports how far behind the files the tailer is: unread bytes of the
// current and pending files, and the number of pending files.
func (t *Tailer) Lag() (bytes int64, files int) {
	if t.cur != nil {
		if fi, err := t.cur.f.Stat(); err == nil && fi.Size() > t.cur.readOff {
			bytes += fi.Size() - t.cur.readOff
		}
	}
	for _, c := range t.pending {
		bytes += c.size
	}
	return bytes, len(t.pending)
}

// CurrentPath is the path of the file being read ("" if none).
func (t *Tailer) CurrentPath() string {
	if t.cur == nil {
		return ""
	}
	return t.cur.path
}

// Poll reads what is available (at most a few read buffers) and hands each
// record to emit, in file order. It returns the number of bytes read; 0 means
// the caller should wait before polling again. An error from emit stops the
// poll and is returned.
func (t *Tailer) Poll(emit func(Record) error) (int, error) {
	now := t.opt.Now()
	if !t.started {
		t.started = true
		if err := t.start(emit); err != nil {
			return 0, err
		}
		t.lastGrowth = now
	}
	if t.cur == nil {
		t.scan()
		if len(t.pending) == 0 && len(t.after) == 0 {
			return 0, nil
		}
		if err := t.next(emit); err != nil {
			return 0, err
		}
	}
	if err := t.checkTruncated(emit); err != nil {
		return 0, err
	}
	total := 0
	for i := 0; i < 16 && !t.cur.footer; i++ {
		n, err := t.cur.f.ReadAt(t.buf, t.cur.readOff)
		if n > 0 {
			off := t.cur.readOff
			t.cur.readOff += int64(n)
			total += n
			t.stats.Bytes.Add(int64(n))
			if t.cur.fpLen < t.opt.FingerprintBytes {
				t.refreshFingerprint()
			}
			if err := t.feed(t.buf[:n], off, emit); err != nil {
				return total, err
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return total, fmt.Errorf("read %s: %w", t.cur.path, err)
		}
		if n < len(t.buf) {
			break
		}
	}
	if total > 0 {
		t.lastGrowth, t.lastData = now, now
		return total, nil
	}
	return 0, t.idle(now, emit)
}

// idle runs the checks made when the current file has no new data.
func (t *Tailer) idle(now time.Time, emit func(Record) error) error {
	if t.opt.MultiLineStart != nil && len(t.rec) > 0 && now.Sub(t.lastData) >= t.opt.MultiLineFlush {
		if err := t.flushRec(emit); err != nil {
			return err
		}
	}
	t.scan()
	// A newer file takes over once it has content, or once the current file
	// lost its name; an empty newcomer next to a file still in place (say,
	// the copy of an empty file) is not a reason to stop reading.
	successor := len(t.after) > 0
	for _, c := range t.pending {
		if c.size > 0 {
			successor = true
		}
	}
	gone := false
	if !successor {
		gone = t.gone()
		successor = gone && len(t.pending) > 0
		gone = gone && !successor
	}
	if !successor && !gone {
		t.rotSeen = time.Time{}
		return nil
	}
	// The wait runs from the later of the file's last growth and the moment
	// the rotation was first seen: a program keeps writing to a renamed
	// file until it reopens its log, even if it was idle before.
	if t.rotSeen.IsZero() {
		t.rotSeen = now
	}
	since := t.lastGrowth
	if t.rotSeen.After(since) {
		since = t.rotSeen
	}
	quiet := now.Sub(since) >= t.opt.RotateWait || t.cur.footer
	if successor && quiet {
		if t.log.Enabled(context.Background(), slog.LevelDebug) {
			var names []string
			for _, c := range t.pending {
				names = append(names, filepath.Base(c.path))
			}
			t.log.Debug("switching", "now", now, "lastGrowth", t.lastGrowth, "rotSeen", t.rotSeen, "pending", names, "after", len(t.after))
		}
		t.stats.Rotations.Add(1)
		return t.next(emit)
	}
	if gone && quiet {
		// Renamed away or deleted with no successor yet: finish it and
		// wait for a new file.
		t.stats.Rotations.Add(1)
		return t.letGo(emit)
	}
	return nil
}

// checkTruncated detects a current file that shrank or whose first bytes
// changed, and handles it.
func (t *Tailer) checkTruncated(emit func(Record) error) error {
	fi, err := t.cur.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", t.cur.path, err)
	}
	t.cur.modTime = fi.ModTime().UnixNano()
	if !t.cur.footer && (fi.Size() < t.cur.readOff || !matchesFingerprint(t.cur.f, t.cur.fp, t.cur.fpLen)) {
		return t.truncated(emit)
	}
	return nil
}

// gone reports whether the current file's name no longer refers to it.
func (t *Tailer) gone() bool {
	fi, err := os.Stat(t.cur.path)
	if err != nil {
		return true
	}
	dev, ino := fileID(fi)
	return dev != t.cur.dev || ino != t.cur.ino
}

// start opens the first file: the checkpointed one, or the newest match.
func (t *Tailer) start(emit func(Record) error) error {
	matches := t.list()
	if r := t.opt.Resume; r != nil {
		if f, off := t.findCheckpointed(r); f != nil {
			for _, c := range matches {
				k := key{c.dev, c.ino}
				if k == (key{f.dev, f.ino}) {
					continue
				}
				// Same inode as the checkpoint but not the file resumed
				// (it was truncated, the copy is resumed): read it after.
				if c.modTime < r.ModTime && !(c.dev == r.Dev && c.ino == r.Ino) {
					t.markDone(c)
				}
				if t.isCopyOf(c, f) {
					t.markDone(c)
				}
			}
			delete(t.done, key{f.dev, f.ino})
			if f.dev != r.Dev || f.ino != r.Ino {
				// Resuming from a copy: the checkpointed file itself was
				// truncated and may hold newer lines, under any name.
				if c, ok := t.findInode(filepath.Dir(r.Path), r.Dev, r.Ino); ok {
					t.after = append(t.after, c)
					f.next = &c
				}
			} else if r.NextIno != 0 {
				// Resuming in a copy whose original is still to be read.
				if c, ok := t.findInode(filepath.Dir(r.NextPath), r.NextDev, r.NextIno); ok {
					t.after = append(t.after, c)
					f.next = &c
				}
			}
			if r.Tracker != nil {
				t.restore(r.Tracker, f)
			}
			t.open(f, off)
			t.log.Info("resuming from checkpoint", "path", f.path, "offset", off)
			t.scan()
			return nil
		}
		t.log.Warn("checkpointed file not found; reading files modified since the checkpoint",
			"path", r.Path, "offset", r.Offset)
		for _, c := range matches {
			if c.modTime < r.ModTime {
				t.markDone(c)
			}
		}
		t.scan()
		return nil
	}
	if len(matches) == 0 {
		return nil
	}
	newest := matches[len(matches)-1]
	for _, c := range matches[:len(matches)-1] {
		t.markDone(c)
	}
	f, err := os.Open(newest.path)
	if err != nil {
		return fmt.Errorf("open %s: %w", newest.path, err)
	}
	fl, err := t.describe(f, newest.path)
	if err != nil {
		f.Close()
		return err
	}
	off := int64(0)
	if t.opt.StartAtEnd {
		off = lastLineEnd(f)
	}
	t.open(fl, off)
	return nil
}

// restore replaces what start guessed from modification times by the
// tracker state saved with the checkpoint: finished files (found by
// identity in their directory; gone ones are dropped) and files waiting to
// be read, which scan then follows by identity.
func (t *Tailer) restore(st *TrackerState, cur *file) {
	t.dirty = true
	idx := map[string]map[key]candidate{}
	lookup := func(fs FileState) (candidate, bool) {
		dir := filepath.Dir(fs.Path)
		if idx[dir] == nil {
			idx[dir] = t.dirIndex(dir)
		}
		c, ok := idx[dir][key{fs.Dev, fs.Ino}]
		return c, ok
	}
	curKey := key{cur.dev, cur.ino}
	done := map[key]doneFile{}
	for _, d := range st.Done {
		k := key{d.Dev, d.Ino}
		if k == curKey {
			continue
		}
		if c, ok := lookup(d); ok {
			done[k] = doneFile{fp: d.FP, n: d.FPLen, off: d.Offset, path: c.path}
		}
	}
	// Keep what start decided for files the saved state does not know
	// (copies made while stopped are recognised by isCopyOf there).
	for k, d := range t.done {
		if _, ok := done[k]; !ok && !t.knows(st, k) {
			done[k] = d
		}
	}
	t.done = done
	t.pending = t.pending[:0]
	for _, p := range st.Pending {
		k := key{p.Dev, p.Ino}
		if k == curKey {
			continue
		}
		if c, ok := lookup(p); ok {
			t.pending = append(t.pending, c)
			if p.FPLen > 0 {
				t.seenFP[k] = doneFile{fp: p.FP, n: p.FPLen}
			}
			delete(t.done, k)
		}
	}
}

// knows reports whether the saved state mentions file k.
func (t *Tailer) knows(st *TrackerState, k key) bool {
	for _, d := range st.Done {
		if (key{d.Dev, d.Ino}) == k {
			return true
		}
	}
	for _, p := range st.Pending {
		if (key{p.Dev, p.Ino}) == k {
			return true
		}
	}
	return false
}

// lastLineEnd is the offset just after the last '\n' of f (0 if none in the
// last 1 MiB).
func lastLineEnd(f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	size := fi.Size()
	buf := make([]byte, 64<<10)
	for end := size; end > 0 && size-end < 1<<20; {
		start := max(end-int64(len(buf)), 0)
		n, _ := f.ReadAt(buf[:end-start], start)
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return start + int64(i) + 1
		}
		end = start
	}
	return 0
}

// findCheckpointed locates the checkpointed file in its directory.
func (t *Tailer) findCheckpointed(r *Position) (*file, int64) {
	entries := t.dirFiles(filepath.Dir(r.Path))
	var byContent *file
	for _, path := range entries {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		fl, err := t.describe(f, path)
		if err != nil {
			f.Close()
			continue
		}
		fi, err := f.Stat()
		ok := err == nil && fi.Size() >= r.Offset && matchesFingerprint(f, r.FP, r.FPLen)
		switch {
		case ok && fl.dev == r.Dev && fl.ino == r.Ino:
			if byContent != nil {
				byContent.f.Close()
			}
			return fl, r.Offset
		case ok && r.FPLen > 0 && byContent == nil:
			byContent = fl
		default:
			f.Close()
		}
	}
	if byContent != nil {
		return byContent, r.Offset
	}
	return nil, 0
}

// findInode looks in dir for the file with the given identity.
func (t *Tailer) findInode(dir string, dev, ino uint64) (candidate, bool) {
	for _, path := range t.dirFiles(dir) {
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		if d, i := fileID(fi); d == dev && i == ino {
			return candidate{path: path, dev: d, ino: i, size: fi.Size(), modTime: fi.ModTime().UnixNano()}, true
		}
	}
	return candidate{}, false
}

// dirIndex maps the identities of the regular files of dir to candidates.
func (t *Tailer) dirIndex(dir string) map[key]candidate {
	out := map[key]candidate{}
	for _, path := range t.dirFiles(dir) {
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		d, i := fileID(fi)
		out[key{d, i}] = candidate{path: path, dev: d, ino: i, size: fi.Size(), modTime: fi.ModTime().UnixNano()}
	}
	return out
}

// dirFiles lists the regular, uncompressed files of dir.
func (t *Tailer) dirFiles(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !e.Type().IsRegular() || compressed(e.Name()) {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out
}

func compressed(name string) bool {
	for _, s := range []string{".gz", ".bz2", ".zip", ".xz", ".zst"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// list returns the files matching the pattern, oldest first.
func (t *Tailer) list() []candidate {
	names, _ := filepath.Glob(t.opt.Pattern)
	var out []candidate
	seen := map[key]bool{}
	for _, n := range names {
		if compressed(n) {
			continue
		}
		fi, err := os.Stat(n)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		dev, ino := fileID(fi)
		if seen[key{dev, ino}] {
			continue
		}
		seen[key{dev, ino}] = true
		out = append(out, candidate{path: n, dev: dev, ino: ino, size: fi.Size(), modTime: fi.ModTime().UnixNano()})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].modTime != out[j].modTime {
			return out[i].modTime < out[j].modTime
		}
		return out[i].size > out[j].size
	})
	return out
}

// scan refreshes the pending list: matching files neither current nor done
// nor a copy of the current file.
func (t *Tailer) scan() {
	t.dirty = true
	prev := append([]candidate(nil), t.pending...)
	t.pending = t.pending[:0]
	live := map[key]bool{}
	for _, c := range t.list() {
		k := key{c.dev, c.ino}
		live[k] = true
		if (t.cur != nil && k == (key{t.cur.dev, t.cur.ino})) || t.isDone(c) {
			continue
		}
		if t.cur != nil && t.isCopyOf(c, t.cur) {
			t.markDone(c)
			continue
		}
		t.pending = append(t.pending, c)
		t.rememberFP(c)
	}
	// Files renamed out of the pattern are still followed by identity in
	// their directory: a pending file renamed again before it was read (two
	// rotations in quick succession), and a finished file that grew after
	// it was let go (a program still writing its rotated log).
	var missing []candidate
	for _, p := range prev {
		if k := (key{p.dev, p.ino}); !live[k] {
			missing = append(missing, p)
		}
	}
	for k, d := range t.done {
		if !live[k] && d.path != "" {
			missing = append(missing, candidate{path: d.path, dev: k.dev, ino: k.ino})
		}
	}
	moved := false
	if len(missing) > 0 {
		byDir := map[string]map[key]candidate{}
		for _, m := range missing {
			k := key{m.dev, m.ino}
			if live[k] || (t.cur != nil && k == (key{t.cur.dev, t.cur.ino})) {
				continue
			}
			dir := filepath.Dir(m.path)
			if byDir[dir] == nil {
				byDir[dir] = t.dirIndex(dir)
			}
			c, ok := byDir[dir][k]
			if !ok {
				continue
			}
			live[k] = true
			if d, ok := t.done[k]; ok {
				d.path = c.path
				t.done[k] = d
			}
			if !t.isDone(c) {
				t.pending = append(t.pending, c)
				moved = true
			}
		}
	}
	if moved {
		sort.SliceStable(t.pending, func(i, j int) bool {
			if t.pending[i].modTime != t.pending[j].modTime {
				return t.pending[i].modTime < t.pending[j].modTime
			}
			return t.pending[i].size > t.pending[j].size
		})
	}
	for k := range t.seenFP {
		if !live[k] {
			delete(t.seenFP, k)
		}
	}
	for k := range t.done {
		if !live[k] && (t.cur == nil || k != (key{t.cur.dev, t.cur.ino})) {
			delete(t.done, k)
		}
	}
}

// rememberFP records the first bytes of a pending file, so that if it is
// copied and truncated before it is read, its copy can be found. A file
// whose first bytes no longer match what was seen keeps the old record.
func (t *Tailer) rememberFP(c candidate) {
	f, err := os.Open(c.path)
	if err != nil {
		return
	}
	defer f.Close()
	k := key{c.dev, c.ino}
	old, ok := t.seenFP[k]
	if ok && old.n >= t.opt.FingerprintBytes {
		return
	}
	if ok && old.n > 0 && !matchesFingerprint(f, old.fp, old.n) {
		return // truncated since seen: keep the old content's fingerprint
	}
	if fp, n, err := fingerprint(f, t.opt.FingerprintBytes); err == nil {
		t.seenFP[k] = doneFile{fp: fp, n: n}
	}
}

// findCopy looks in dir for a file other than skip, not finished, whose
// first bytes hash to want and that is at least want.n long.
func (t *Tailer) findCopy(dir string, skip key, want doneFile, minSize int64) *file {
	for _, path := range t.dirFiles(dir) {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		fl, err := t.describe(f, path)
		fi, serr := f.Stat()
		k := key{}
		if fl != nil {
			k = key{fl.dev, fl.ino}
		}
		if err == nil && serr == nil && k != skip && fi.Size() >= max(minSize, int64(want.n)) &&
			!t.isDone(candidate{path: path, dev: fl.dev, ino: fl.ino, size: fi.Size()}) &&
			matchesFingerprint(f, want.fp, want.n) {
			return fl
		}
		f.Close()
	}
	return nil
}

// markDone records candidate c as finished.
func (t *Tailer) markDone(c candidate) {
	t.dirty = true
	f, err := os.Open(c.path)
	if err != nil {
		return
	}
	defer f.Close()
	if fp, n, err := fingerprint(f, t.opt.FingerprintBytes); err == nil {
		t.done[key{c.dev, c.ino}] = doneFile{fp: fp, n: n, off: c.size, path: c.path}
	}
}

// isDone reports whether c is a finished file with nothing new: same
// identity, same first bytes, not longer than what was read. A finished file
// that grew (a program still writing a rotated file, or a file reusing its
// inode) is not done; resumeOffset says where to continue.
func (t *Tailer) isDone(c candidate) bool {
	_, done := t.resumeOffset(c)
	return done
}

// resumeOffset returns where to read a candidate that was finished before
// (0 if it was not, or if its first bytes changed) and whether there is
// nothing new in it.
func (t *Tailer) resumeOffset(c candidate) (int64, bool) {
	d, ok := t.done[key{c.dev, c.ino}]
	if !ok {
		return 0, false
	}
	if d.n == 0 {
		return 0, c.size == 0 // finished while empty: read from 0 once it has content
	}
	if c.size < int64(d.n) {
		return 0, false
	}
	f, err := os.Open(c.path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if !matchesFingerprint(f, d.fp, d.n) {
		return 0, false
	}
	return d.off, c.size <= d.off
}

// isCopyOf reports whether candidate c starts with the same bytes as f
// (a copytruncate copy), judged on f's full-length fingerprint.
func (t *Tailer) isCopyOf(c candidate, f *file) bool {
	if f.fpLen < t.opt.FingerprintBytes || c.size < int64(f.fpLen) {
		return false
	}
	cf, err := os.Open(c.path)
	if err != nil {
		return false
	}
	defer cf.Close()
	return matchesFingerprint(cf, f.fp, f.fpLen)
}

func (t *Tailer) describe(f *os.File, path string) (*file, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	dev, ino := fileID(fi)
	fp, n, err := fingerprint(f, t.opt.FingerprintBytes)
	if err != nil {
		return nil, fmt.Errorf("fingerprint %s: %w", path, err)
	}
	return &file{f: f, path: path, dev: dev, ino: ino, fp: fp, fpLen: n, modTime: fi.ModTime().UnixNano()}, nil
}

func (t *Tailer) refreshFingerprint() {
	if fp, n, err := fingerprint(t.cur.f, t.opt.FingerprintBytes); err == nil && n > t.cur.fpLen {
		t.cur.fp, t.cur.fpLen = fp, n
	}
}

func (t *Tailer) open(f *file, off int64) {
	t.dirty = true
	t.cur = f
	f.readOff = off
	t.partial, t.rec, t.dropping, t.recTrunc = t.partial[:0], t.rec[:0], false, false
	t.headerLeft = 0
	if off == 0 {
		t.headerLeft = t.opt.SkipHeaderLines
	}
	t.lastGrowth = t.opt.Now()
	t.lastData = t.lastGrowth
	t.rotSeen = time.Time{}
}

// next lets the current file go and opens the oldest pending file at 0.
func (t *Tailer) next(emit func(Record) error) error {
	t.dirty = true
	if t.cur != nil {
		if err := t.letGo(emit); err != nil {
			return err
		}
	}
	for len(t.after) > 0 || len(t.pending) > 0 {
		var c candidate
		if len(t.after) > 0 {
			c, t.after = t.after[0], t.after[1:]
		} else {
			c, t.pending = t.pending[0], t.pending[1:]
		}
		f, err := os.Open(c.path)
		if err != nil {
			continue // gone already
		}
		fl, err := t.describe(f, c.path)
		if err != nil || fl.dev != c.dev || fl.ino != c.ino {
			f.Close()
			continue
		}
		k := key{c.dev, c.ino}
		if seen, ok := t.seenFP[k]; ok && seen.n > 0 && !matchesFingerprint(f, seen.fp, seen.n) {
			// Copied and truncated before it was read: read the copy
			// first, then this file from 0.
			delete(t.seenFP, k)
			if cp := t.findCopy(filepath.Dir(c.path), k, seen, 0); cp != nil {
				f.Close()
				t.stats.Copytruncates.Add(1)
				t.log.Info("file truncated before it was read; reading its copy first", "path", c.path, "copy", cp.path)
				t.after = append([]candidate{c}, t.after...)
				cp.next = &c
				t.open(cp, 0)
				return emit(Record{End: t.pos(0), Skip: true})
			}
			t.stats.TruncatedNoCopy.Add(1)
			t.log.Warn("file truncated before it was read and no copy found; its earlier lines may be missing", "path", c.path)
		}
		off, _ := t.resumeOffset(c)
		delete(t.done, k)
		t.open(fl, off)
		t.log.Info("reading next file", "path", c.path, "offset", off)
		return emit(Record{End: t.pos(off), Skip: true})
	}
	return nil
}

// letGo finishes the current file: its unterminated last line and pending
// multi-line record are emitted, and it is marked done.
func (t *Tailer) letGo(emit func(Record) error) error {
	t.dirty = true
	c := t.cur
	if len(t.partial) > 0 && !t.dropping {
		t.partial = append(t.partial, '\n')
		line := t.partial
		t.partial = nil
		t.stats.Lines.Add(1)
		if err := t.line(line, c.readOff, emit); err != nil {
			return err
		}
	} else if t.dropping {
		t.dropping = false
		t.stats.Lines.Add(1)
		rec := append(t.partial, t.opt.Terminator...)
		t.partial = nil
		if err := t.emitLine(rec, c.readOff, true, emit); err != nil {
			return err
		}
	}
	if err := t.flushRec(emit); err != nil {
		return err
	}
	t.done[key{c.dev, c.ino}] = doneFile{fp: c.fp, n: c.fpLen, off: c.readOff, path: c.path}
	c.f.Close()
	t.cur = nil
	t.log.Info("finished file", "path", c.path, "offset", c.readOff)
	return nil
}

// truncated handles a current file that shrank or whose first bytes changed.
func (t *Tailer) truncated(emit func(Record) error) error {
	c := t.cur
	var copyFile *file
	if c.fpLen > 0 {
		copyFile = t.findCopy(filepath.Dir(c.path), key{c.dev, c.ino}, doneFile{fp: c.fp, n: c.fpLen}, c.readOff)
	}
	if copyFile != nil {
		t.stats.Copytruncates.Add(1)
		t.log.Info("file truncated; finishing its copy", "path", c.path, "copy", copyFile.path, "offset", c.readOff)
		// Read the copy from where the original was, then continue the
		// original from 0.
		origFile := c
		copyFile.readOff = c.readOff
		copyFile.next = &candidate{path: c.path, dev: c.dev, ino: c.ino}
		t.cur = copyFile
		for {
			n, err := t.drain(emit)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
		if err := t.letGo(emit); err != nil {
			return err
		}
		delete(t.done, key{origFile.dev, origFile.ino})
		return t.reopenTruncated(origFile, emit)
	}
	t.stats.TruncatedNoCopy.Add(1)
	t.log.Warn("file truncated and no copy found; lines written between the last read and the truncation may be missing",
		"path", c.path, "offset", c.readOff)
	t.partial, t.dropping = t.partial[:0], false
	if err := t.flushRec(emit); err != nil {
		return err
	}
	return t.reopenTruncated(c, emit)
}

func (t *Tailer) reopenTruncated(c *file, emit func(Record) error) error {
	fp, n, err := fingerprint(c.f, t.opt.FingerprintBytes)
	if err != nil {
		return fmt.Errorf("fingerprint %s: %w", c.path, err)
	}
	c.fp, c.fpLen = fp, n
	t.open(c, 0)
	return emit(Record{End: t.pos(0), Skip: true})
}

// drain reads the current file once without the idle checks (used to
// finish a copy).
func (t *Tailer) drain(emit func(Record) error) (int, error) {
	n, err := t.cur.f.ReadAt(t.buf, t.cur.readOff)
	if n > 0 {
		off := t.cur.readOff
		t.cur.readOff += int64(n)
		t.stats.Bytes.Add(int64(n))
		if ferr := t.feed(t.buf[:n], off, emit); ferr != nil {
			return n, ferr
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read %s: %w", t.cur.path, err)
	}
	return n, nil
}

func (t *Tailer) pos(off int64) Position {
	c := t.cur
	p := Position{Path: c.path, Dev: c.dev, Ino: c.ino, FP: c.fp, FPLen: c.fpLen, Offset: off, ModTime: c.modTime}
	if c.next != nil {
		p.NextPath, p.NextDev, p.NextIno = c.next.path, c.next.dev, c.next.ino
	}
	if t.dirty || t.snap == nil {
		t.snap = t.snapshot()
		t.dirty = false
	}
	p.Tracker = t.snap
	return p
}

// snapshot returns the tracker state, reusing the previous one when
// nothing changed.
func (t *Tailer) snapshot() *TrackerState {
	st := &TrackerState{}
	keys := make([]key, 0, len(t.done))
	for k := range t.done {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].dev != keys[j].dev {
			return keys[i].dev < keys[j].dev
		}
		return keys[i].ino < keys[j].ino
	})
	for _, k := range keys {
		d := t.done[k]
		st.Done = append(st.Done, FileState{Path: d.path, Dev: k.dev, Ino: k.ino, FP: d.fp, FPLen: d.n, Offset: d.off})
	}
	for _, list := range [][]candidate{t.after, t.pending} {
		for _, c := range list {
			seen := t.seenFP[key{c.dev, c.ino}]
			st.Pending = append(st.Pending, FileState{Path: c.path, Dev: c.dev, Ino: c.ino, FP: seen.fp, FPLen: seen.n})
		}
	}
	if t.snap != nil && equalStates(t.snap, st) {
		return t.snap
	}
	return st
}

func equalStates(a, b *TrackerState) bool {
	if len(a.Done) != len(b.Done) || len(a.Pending) != len(b.Pending) {
		return false
	}
	for i := range a.Done {
		if a.Done[i] != b.Done[i] {
			return false
		}
	}
	for i := range a.Pending {
		if a.Pending[i] != b.Pending[i] {
			return false
		}
	}
	return true
}

// feed cuts buf, read at file offset off, into lines.
func (t *Tailer) feed(buf []byte, off int64, emit func(Record) error) error {
	for len(buf) > 0 && !t.cur.footer {
		i := bytes.IndexByte(buf, '\n')
		var seg []byte
		complete := i >= 0
		if complete {
			seg, buf = buf[:i+1], buf[i+1:]
		} else {
			seg, buf = buf, nil
		}
		off += int64(len(seg))
		if err := t.segment(seg, off, complete, emit); err != nil {
			return err
		}
	}
	return nil
}

// segment handles a piece of a line ending at file offset end; complete
// means it ends with '\n'.
func (t *Tailer) segment(seg []byte, end int64, complete bool, emit func(Record) error) error {
	max := t.opt.MaxRecord
	if t.dropping {
		if complete {
			t.dropping = false
			t.stats.Lines.Add(1)
			rec := append(t.partial, t.opt.Terminator...)
			t.partial = t.partial[:0]
			return t.emitLine(rec, end, true, emit)
		}
		return nil
	}
	if len(t.partial)+len(seg) > max {
		if t.opt.Split {
			for len(t.partial)+len(seg) > max {
				k := max - len(t.partial)
				t.partial = append(t.partial, seg[:k]...)
				seg = seg[k:]
				t.stats.Split.Add(1)
				if err := t.emitLine(t.partial, end-int64(len(seg)), false, emit); err != nil {
					return err
				}
				t.partial = t.partial[:0]
			}
		} else {
			keep := max - len(t.opt.Terminator)
			if len(t.partial) < keep {
				t.partial = append(t.partial, seg[:keep-len(t.partial)]...)
			}
			t.partial = t.partial[:keep]
			t.dropping = true
			return t.segment(nil, end, complete, emit)
		}
	}
	if !complete {
		t.partial = append(t.partial, seg...)
		return nil
	}
	t.stats.Lines.Add(1)
	line := seg
	if len(t.partial) > 0 {
		t.partial = append(t.partial, seg...)
		line = t.partial
	}
	err := t.line(line, end, emit)
	t.partial = t.partial[:0]
	return err
}

// line handles one complete line (with its '\n') ending at end.
func (t *Tailer) line(line []byte, end int64, emit func(Record) error) error {
	if t.headerLeft > 0 {
		t.headerLeft--
		t.stats.HeadersSkipped.Add(1)
		return emit(Record{End: t.pos(end), Skip: true})
	}
	if t.opt.Footer != nil && t.opt.Footer.Match(bytes.TrimSpace(line)) {
		if err := t.flushRec(emit); err != nil {
			return err
		}
		t.cur.footer = true
		return emit(Record{End: t.pos(end), Skip: true})
	}
	if t.opt.MultiLineStart == nil {
		return t.emitLine(line, end, false, emit)
	}
	if t.opt.MultiLineStart.Match(bytes.TrimRight(line, "\r\n")) && len(t.rec) > 0 {
		if err := t.flushRec(emit); err != nil {
			return err
		}
	}
	max := t.opt.MaxRecord
	switch {
	case len(t.rec)+len(line) <= max:
		t.rec = append(t.rec, line...)
	case t.opt.Split:
		if len(t.rec) > 0 {
			t.stats.Split.Add(1)
			if err := t.flushRec(emit); err != nil {
				return err
			}
		}
		t.rec = append(t.rec, line...)
	default:
		keep := max - len(t.opt.Terminator)
		if len(t.rec) < keep {
			t.rec = append(t.rec, line[:min(len(line), keep-len(t.rec))]...)
		}
		t.recTrunc = true
	}
	t.recEnd = end
	return nil
}

func (t *Tailer) flushRec(emit func(Record) error) error {
	if len(t.rec) == 0 {
		return nil
	}
	rec := t.rec
	trunc := t.recTrunc
	if trunc {
		rec = append(rec, t.opt.Terminator...)
	}
	t.rec, t.recTrunc = t.rec[:0], false
	return t.emitLine(rec, t.recEnd, trunc, emit)
}

func (t *Tailer) emitLine(data []byte, end int64, truncated bool, emit func(Record) error) error {
	if truncated {
		t.stats.Truncated.Add(1)
	}
	return emit(Record{Data: data, End: t.pos(end), Truncated: truncated})
}
