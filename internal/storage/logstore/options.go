package logstore

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/vfs"
)

// Mode says when an Append is acknowledged.
type Mode int

const (
	// Always acknowledges after write(2) and fdatasync (group commit per
	// shard). Readers see only synced records.
	Always Mode = iota
	// Interval acknowledges after write(2) and syncs every Options.Interval.
	Interval
	// None acknowledges after write(2) and syncs only on roll and Close.
	None
)

func (m Mode) String() string {
	switch m {
	case Always:
		return "always"
	case Interval:
		return "interval"
	case None:
		return "none"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// DefaultInterval is the sync period of Interval mode when none is given.
const DefaultInterval = time.Second

// ParseDurability parses the --durability flag: "always", "interval",
// "interval=<duration>" (e.g. interval=250ms) or "none". The duration is
// DefaultInterval for plain "interval" and 0 for the other modes.
func ParseDurability(s string) (Mode, time.Duration, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "always":
		return Always, 0, nil
	case s == "none":
		return None, 0, nil
	case s == "interval":
		return Interval, DefaultInterval, nil
	case strings.HasPrefix(s, "interval="):
		d, err := time.ParseDuration(strings.TrimPrefix(s, "interval="))
		if err != nil || d <= 0 {
			return 0, 0, fmt.Errorf("durability %q: interval must be a positive duration such as 250ms or 1s", s)
		}
		return Interval, d, nil
	}
	return 0, 0, fmt.Errorf("durability %q: want always, interval, interval=<duration> or none", s)
}

// Options configure a Store. The zero value is usable: always mode on the
// OS file system with the defaults below.
type Options struct {
	Durability Mode
	Interval   time.Duration // Interval mode's sync period (default 1s)

	FS     vfs.FS           // default vfs.OS
	Now    func() time.Time // clock for arrival times and segment age (default time.Now)
	Logger *slog.Logger     // default slog.Default() with component=logstore

	SegmentBytes int64         // roll the active segment past this size (default 64 MiB, max 1 GiB)
	SegmentAge   time.Duration // roll a segment this old on the next append or Trim (default 1h)

	// TailCacheBytes caps the write-through cache of each shard's newest
	// bytes that serves tailing readers without a syscall (default 4 MiB;
	// negative disables it). TailCacheTotalBytes caps the sum over all
	// shards (default 256 MiB); shards beyond it read from disk.
	TailCacheBytes      int
	TailCacheTotalBytes int64

	// IndexInterval is the distance in bytes between sparse index entries
	// (default 128 KiB).
	IndexInterval int
}

func (o Options) withDefaults() (Options, error) {
	if o.Durability < Always || o.Durability > None {
		return o, fmt.Errorf("logstore: unknown durability mode %d", o.Durability)
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.FS == nil {
		o.FS = vfs.OS
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default().With("component", "logstore")
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.SegmentBytes > 1<<30 {
		return o, fmt.Errorf("logstore: SegmentBytes %d above the 1 GiB maximum", o.SegmentBytes)
	}
	if o.SegmentAge <= 0 {
		o.SegmentAge = time.Hour
	}
	if o.TailCacheBytes == 0 {
		o.TailCacheBytes = 4 << 20
	}
	if o.TailCacheTotalBytes <= 0 {
		o.TailCacheTotalBytes = 256 << 20
	}
	if o.IndexInterval <= 0 {
		o.IndexInterval = 128 << 10
	}
	return o, nil
}
