package tail

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

type harness struct {
	t    *testing.T
	dir  string
	now  time.Time
	tl   *Tailer
	got  []string
	last Position
}

func newHarness(t *testing.T, pattern string, mod func(*Options)) *harness {
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, now: time.Unix(1_700_000_000, 0)}
	opt := Options{
		Pattern:    filepath.Join(dir, pattern),
		RotateWait: 5 * time.Second,
		Now:        func() time.Time { return h.now },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Terminator: []byte("\n"),
	}
	if mod != nil {
		mod(&opt)
	}
	h.tl = New(opt)
	t.Cleanup(func() { h.tl.Close() })
	return h
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

func (h *harness) write(name, data string) {
	h.t.Helper()
	f, err := os.OpenFile(h.path(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		h.t.Fatal(err)
	}
	f.Close()
}

// poll polls until two consecutive idle polls, advancing the clock by step
// after each idle poll.
func (h *harness) poll(step time.Duration) {
	h.t.Helper()
	idle := 0
	for i := 0; i < 1000 && idle < 8; i++ {
		n, err := h.tl.Poll(func(r Record) error {
			if !r.Skip {
				h.got = append(h.got, string(r.Data))
			}
			if r.End.Offset < 0 {
				h.t.Fatalf("negative offset")
			}
			h.last = r.End
			return nil
		})
		if err != nil {
			h.t.Fatal(err)
		}
		if n == 0 {
			idle++
			h.now = h.now.Add(step)
		} else {
			idle = 0
		}
	}
}

func (h *harness) want(lines ...string) {
	h.t.Helper()
	if strings.Join(h.got, "") != strings.Join(lines, "") {
		h.t.Fatalf("records:\n got %q\nwant %q", h.got, lines)
	}
}

func lines(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s %d\n", prefix, i))
	}
	return out
}

func TestReadsCompleteLinesOnly(t *testing.T) {
	h := newHarness(t, "app.log", func(o *Options) { o.StartAtEnd = false })
	h.write("app.log", "one\ntw")
	h.poll(time.Second)
	h.want("one\n")
	h.write("app.log", "o\nthree\n")
	h.poll(time.Second)
	h.want("one\n", "two\n", "three\n")
	if h.last.Offset != 14 {
		t.Errorf("last offset %d, want 14", h.last.Offset)
	}
}

func TestStartAtEnd(t *testing.T) {
	h := newHarness(t, "app.log", func(o *Options) { o.StartAtEnd = true })
	h.write("app.log", "old\npartial")
	h.poll(time.Second)
	h.write("app.log", " line\nnew\n")
	h.poll(time.Second)
	h.want("partial line\n", "new\n")
}

func TestRenameRotation(t *testing.T) {
	h := newHarness(t, "access.log", nil)
	h.write("access.log", strings.Join(lines("a", 0, 10), ""))
	h.poll(time.Millisecond)
	// logrotate create: rename, new file; the writer keeps appending to the
	// old inode for a while (until reloaded).
	if err := os.Rename(h.path("access.log"), h.path("access.log.1")); err != nil {
		t.Fatal(err)
	}
	h.write("access.log", strings.Join(lines("b", 0, 5), ""))
	h.write("access.log.1", strings.Join(lines("a", 10, 12), ""))
	h.poll(time.Millisecond) // within RotateWait: stays on the old file
	h.want(lines("a", 0, 12)...)
	h.write("access.log.1", "a 12\n")
	h.poll(time.Second) // quiet for 5 s: moves on
	h.want(append(lines("a", 0, 13), lines("b", 0, 5)...)...)
	if h.last.Path != h.path("access.log") {
		t.Errorf("position in %s, want access.log", h.last.Path)
	}
	if h.tl.stats.Rotations.Load() != 1 {
		t.Errorf("rotations = %d", h.tl.stats.Rotations.Load())
	}
}

func TestCopyTruncate(t *testing.T) {
	for _, pattern := range []string{"access.log", "access.log*"} {
		t.Run(pattern, func(t *testing.T) {
			h := newHarness(t, pattern, func(o *Options) { o.FingerprintBytes = 16 })
			h.write("access.log", strings.Join(lines("a", 0, 10), ""))
			h.poll(time.Millisecond)
			// Lines written after our last read, then copy + truncate.
			h.write("access.log", strings.Join(lines("a", 10, 15), ""))
			data, err := os.ReadFile(h.path("access.log"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(h.path("access.log.1"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(h.path("access.log"), 0); err != nil {
				t.Fatal(err)
			}
			h.write("access.log", strings.Join(lines("b", 0, 3), ""))
			h.poll(time.Second)
			h.want(append(lines("a", 0, 15), lines("b", 0, 3)...)...)
			if h.tl.stats.Copytruncates.Load() != 1 {
				t.Errorf("copytruncates = %d", h.tl.stats.Copytruncates.Load())
			}
		})
	}
}

func TestTruncateRefillDetectedByFingerprint(t *testing.T) {
	h := newHarness(t, "x.log", func(o *Options) { o.FingerprintBytes = 8 })
	h.write("x.log", "aaaaaaaaaa\n")
	h.poll(time.Millisecond)
	// Truncated and refilled past the old offset between two polls.
	if err := os.WriteFile(h.path("x.log"), []byte("bbbbbbbbbbbbbbbbbbbb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.poll(time.Millisecond)
	h.want("aaaaaaaaaa\n", "bbbbbbbbbbbbbbbbbbbb\n")
	if h.tl.stats.TruncatedNoCopy.Load() != 1 {
		t.Errorf("TruncatedNoCopy = %d", h.tl.stats.TruncatedNoCopy.Load())
	}
}

func TestResumeAfterRenameWhileStopped(t *testing.T) {
	h := newHarness(t, "access.log", nil)
	h.write("access.log", strings.Join(lines("a", 0, 5), ""))
	h.poll(time.Millisecond)
	cp := h.last
	h.tl.Close()
	// While stopped: more lines, rotation, new file.
	h.write("access.log", strings.Join(lines("a", 5, 8), ""))
	if err := os.Rename(h.path("access.log"), h.path("access.log.1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(0) // mtimes come from the file system; writes below are later
	h.write("access.log", strings.Join(lines("b", 0, 4), ""))
	h2 := &harness{t: t, dir: h.dir, now: h.now}
	h2.tl = New(Options{Pattern: h.path("access.log"), Resume: &cp, RotateWait: time.Second,
		Now: func() time.Time { return h2.now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer h2.tl.Close()
	h2.poll(2 * time.Second)
	h2.want(append(lines("a", 5, 8), lines("b", 0, 4)...)...)
}

func TestResumeAfterCopyTruncateWhileStopped(t *testing.T) {
	h := newHarness(t, "access.log", func(o *Options) { o.FingerprintBytes = 16 })
	h.write("access.log", strings.Join(lines("a", 0, 5), ""))
	h.poll(time.Millisecond)
	cp := h.last
	h.tl.Close()
	h.write("access.log", strings.Join(lines("a", 5, 8), ""))
	data, _ := os.ReadFile(h.path("access.log"))
	if err := os.WriteFile(h.path("access.log.1"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(h.path("access.log"), 0); err != nil {
		t.Fatal(err)
	}
	h.write("access.log", strings.Join(lines("b", 0, 4), ""))
	h2 := &harness{t: t, dir: h.dir, now: h.now}
	h2.tl = New(Options{Pattern: h.path("access.log"), Resume: &cp, RotateWait: time.Second, FingerprintBytes: 16,
		Now: func() time.Time { return h2.now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer h2.tl.Close()
	h2.poll(2 * time.Second)
	h2.want(append(lines("a", 5, 8), lines("b", 0, 4)...)...)
}

func TestNewFilesMatchingPattern(t *testing.T) {
	h := newHarness(t, "app-*.log", nil)
	h.write("app-1.log", "1a\n")
	h.poll(time.Millisecond)
	h.write("app-2.log", "2a\n")
	h.write("app-1.log", "1b\n")
	h.poll(time.Second)
	h.want("1a\n", "1b\n", "2a\n")
}

func TestHeaderFooterMultiline(t *testing.T) {
	h := newHarness(t, "m.log", func(o *Options) {
		o.SkipHeaderLines = 1
		o.MultiLineStart = regexp.MustCompile(`^\d{4}-`)
		o.Footer = regexp.MustCompile(`^END$`)
	})
	h.write("m.log", "header\n2026-01-01 boom\n  at a\n  at b\n2026-01-02 ok\nEND\nignored\n")
	h.poll(time.Second)
	h.want("2026-01-01 boom\n  at a\n  at b\n", "2026-01-02 ok\n")
	if h.tl.stats.HeadersSkipped.Load() != 1 {
		t.Errorf("headers skipped = %d", h.tl.stats.HeadersSkipped.Load())
	}
}

func TestMultilineFlushAfterIdle(t *testing.T) {
	h := newHarness(t, "m.log", func(o *Options) {
		o.MultiLineStart = regexp.MustCompile(`^\S`)
		o.MultiLineFlush = 3 * time.Second
	})
	h.write("m.log", "first\n cont\n")
	h.poll(time.Second / 4) // eight idle polls = 2 s: not yet
	h.want()
	h.poll(time.Second / 4)
	h.want("first\n cont\n")
	if h.last.Offset != 12 {
		t.Errorf("offset %d want 12", h.last.Offset)
	}
}

func TestOversize(t *testing.T) {
	long := strings.Repeat("x", 25)
	t.Run("truncate", func(t *testing.T) {
		h := newHarness(t, "o.log", func(o *Options) { o.MaxRecord = 10; o.Terminator = []byte("~\n") })
		h.write("o.log", "short\n"+long+"\nnext\n")
		h.poll(time.Second)
		h.want("short\n", "xxxxxxxx~\n", "next\n")
		if h.tl.stats.Truncated.Load() != 1 {
			t.Errorf("truncated = %d", h.tl.stats.Truncated.Load())
		}
	})
	t.Run("split", func(t *testing.T) {
		h := newHarness(t, "o.log", func(o *Options) { o.MaxRecord = 10; o.Split = true })
		h.write("o.log", long+"\n")
		h.poll(time.Second)
		h.want(long + "\n")
		if len(h.got) != 3 {
			t.Errorf("pieces %q, want 3", h.got)
		}
	})
}

func TestDeletedFileLetGo(t *testing.T) {
	h := newHarness(t, "d.log", nil)
	h.write("d.log", "a\n")
	h.poll(time.Millisecond)
	if err := os.Remove(h.path("d.log")); err != nil {
		t.Fatal(err)
	}
	h.poll(10 * time.Second)
	if h.tl.CurrentPath() != "" {
		t.Fatalf("still holding %s", h.tl.CurrentPath())
	}
	h.write("d.log", "b\n")
	h.poll(time.Millisecond)
	h.want("a\n", "b\n")
}

func TestPendingFileCopyTruncatedBeforeRead(t *testing.T) {
	h := newHarness(t, "access.log", func(o *Options) { o.FingerprintBytes = 16 })
	h.write("access.log", strings.Join(lines("a", 0, 5), ""))
	h.poll(time.Millisecond)
	// Rename rotation; the old file is still written to, so the tailer
	// stays on it while the new file fills up.
	if err := os.Rename(h.path("access.log"), h.path("access.log.1")); err != nil {
		t.Fatal(err)
	}
	h.write("access.log", strings.Join(lines("b", 0, 5), ""))
	h.write("access.log.1", "a 5\n")
	h.poll(time.Millisecond) // sees access.log as pending
	// copytruncate of the pending file before the tailer reached it.
	if err := os.Rename(h.path("access.log.1"), h.path("access.log.2")); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(h.path("access.log"))
	if err := os.WriteFile(h.path("access.log.1"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(h.path("access.log"), 0); err != nil {
		t.Fatal(err)
	}
	h.write("access.log", strings.Join(lines("c", 0, 3), ""))
	h.poll(time.Second)
	h.want(append(append(lines("a", 0, 6), lines("b", 0, 5)...), lines("c", 0, 3)...)...)
	if h.tl.stats.Copytruncates.Load() != 1 {
		t.Errorf("copytruncates = %d", h.tl.stats.Copytruncates.Load())
	}
}
