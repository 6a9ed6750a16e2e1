// Package logstore is Eddy's embedded, durable storage.Backend: one
// append-only log of segment files per shard, CRC32C-framed batches, a
// sparse in-memory index, group commit, crash recovery and whole-segment
// retention.
//
// # Layout
//
//	<dir>/LOCK                          flock: one process per directory (storage.ErrLocked)
//	<dir>/unclean                       present while open; absent after a clean Close
//	<dir>/meta/<ns>.meta                SaveMeta blobs (tmp + fsync + rename + fsync dir)
//	<dir>/shards/<stream>/<index>/      one directory per shard (names escaped, index %010d)
//	    shard.state                     creation time, trim horizon, sealed flag
//	    <base %020d>.seg                frames; base = first position in the file
//	    <base %020d>.idx                sparse index, written when the segment is sealed and at Close
//	    <base>.seg.torn-<ms>            bytes cut off a torn tail by recovery (evidence)
//
// The byte layouts (all integers little-endian, every structure versioned)
// are documented in docs/format/segment.md. In short, a segment is a 32-byte
// header {magic "EDSG", version, header length, base, created ms, shard tag,
// CRC32C} followed by frames; a frame is one Append batch:
//
//	| frameLen u32 | crc32c u32 | ver u8 | flags u8 | rsvd u16 | base u64 | count u32 | arrival ms i64 | records… |
//
// with records as {uvarint keyLen, key, uvarint dataLen, data}. The CRC
// covers everything after itself. Each frame is written with one pwrite.
//
// # Write path and durability
//
// Append encodes the frame into a pooled buffer and writes it at the end
// of the active segment under the shard mutex, then updates the sparse
// index (an entry every IndexInterval bytes) and the write-through tail
// cache. In Always mode the appender then calls syncTo: whoever holds the
// shard's syncMu captures the written tip, runs one fdatasync and publishes
// the new durable tip; appenders that queued meanwhile find their records
// already covered (group commit without a timer). Readers see only
// positions below the durable tip, so no reader ever sees a record a crash
// could take back. Interval mode acknowledges after the write and syncs
// every Options.Interval in the background; None syncs only when a segment
// is sealed and at Close. In every mode, after a crash a shard recovers as
// a prefix of its acknowledged appends.
//
// A segment is sealed (64 MiB or 1 h by default) by fdatasync, writing its
// .idx file atomically, then creating the next segment whose header is
// synced, directory included, before any frame goes into it. So every
// sealed segment is entirely durable, and only the active one can be torn.
//
// A write or fsync error poisons the shard (storage.ErrPoisoned) until the
// store is reopened; fsync is never retried. ENOSPC during a frame write is
// different: the partial frame is truncated away and the append fails with
// storage.ErrNoSpace, and appends succeed again once space is freed.
//
// # Recovery
//
// Open takes the LOCK and looks for the unclean marker. After a clean
// Close every segment's .idx is trusted when its recorded size matches the
// file. Otherwise the active (last) segment of each shard is scanned frame
// by frame (length, CRC, version, position continuity, record layout,
// non-decreasing time). At the first bad frame it looks further for a
// valid frame (validFrameAfter: checksum-valid, in sequence, in time
// order). If there is none the damage is a torn tail: the rest of the file
// is copied to a .torn-<ms> file, logged, and cut off, and the file synced.
// If there is one, the damage is corruption, exactly as a bad frame in a
// sealed segment (whose .idx, when missing or bad, is rebuilt by a scan).
//
// A shard with corruption is quarantined (storage.ErrCorrupt, with the
// shard, file and offset in the error and in an Error log line): it serves
// reads up to the damage and fails the read that starts there, refuses
// appends, never has its damaged active segment sealed or cut, and Verify
// names it. A shard whose layout cannot be read (bad state file or segment
// header, no segment) is quarantined with every call but DeleteShard
// failing. The other shards open and work as usual; only errors that are
// not damage (permissions, too many open files) fail Open. Nothing is
// silently dropped. docs/format/segment.md states the evidence rule.
//
// # Reads and memory
//
// The sparse index and a per-segment summary (positions, sizes, min/max
// arrival) stay in memory: 16 bytes per IndexInterval of log. A read finds
// the segment by position (or time: arrival times are clamped monotonic,
// so the same index answers PosAtTime), then the index entry at or before
// the position, and decodes frames from the tail cache or from 256 KiB
// pread windows in pooled buffers, verifying CRCs. Records handed to the
// callback alias those buffers. The tail cache (tail.go) is a short list of
// 1 MiB chunks per shard holding the newest whole frames, recycled once no
// reader holds them, so steady writing allocates nothing. Sealed segment
// files are opened when a read reaches them and closed when no reader
// holds them; reference counts let Trim and DeleteShard unlink a file under
// a reader, which finishes the segment it is in and then stops cleanly.
//
// # Locks
//
// Store.dirMu (CreateShard/DeleteShard file work) → Store.mu (shard map)
// → shard.syncMu (group-commit leader) → shard.mu. Store.metaMu
// serialises SaveMeta and is taken first by Close. No lock is held across
// another shard's locks, and no file I/O happens under Store.mu.
package logstore
