package firehose

// Source-record backup (ExtendedS3 `S3BackupMode: Enabled`), for both the
// partitioned loop (lake.go) and the plain one (deliver.go).
//
// AWS backs up "all untransformed records" to the S3BackupConfiguration's
// bucket while it delivers the transformed ones: the records as they
// arrived, before RecordDeAggregation, the Lambda processor, partitioning
// and format conversion, with the backup configuration's own
// BufferingHints, CompressionFormat, Prefix (no partition keys: a backup
// configuration has no dynamic partitioning, so validate.go refuses
// `partitionKeyFrom*` there) and CustomTimeZone / FileExtension. Records
// that end in an error output (partitioning-failed, processing-failed,
// format-conversion-failed, s3-delivery-failed) are backed up too: the
// backup is taken before anything can fail.
//
// Here the backup is a second reader of the stream's buffer log, with its
// own buffer (deliver.go's buffer type) and its own cursor, run by either
// loop on every pass (lakeBackupStep) and independent of the primary
// delivery (partitions, or the plain loop's one buffer): a partition that cannot be delivered does not hold the
// backup back, and a failing backup bucket retries with its own backoff
// without pushing partitions to their RetryOptions error output. A backup
// object is exactly what the plain loop (deliver.go) writes for the same
// records: their bytes concatenated without delimiters, named and
// compressed by encodeObject with the backup configuration, the timestamp
// being the oldest record's arrival.
//
// Durability: once a backup object is stored, streamMeta.LakeBackup (the
// first log position not yet backed up) is saved. The loop's own
// checkpoint (streamMeta.Delivered, where a restart reads from) is the
// smaller of the partitions' position and the backup's, and the log is
// trimmed only below what both have written, so after kill -9 each side
// resumes from its own position: the backup from max(Delivered,
// LakeBackup), the partitions from Delivered, skipping what LakeDone says
// they already wrote. The plain loop keeps the same marks: Delivered is the
// smaller of its primary's position and the backup's, and LakeDone[""]
// the last position its primary wrote when that is further
// (deliver.go's primaryPos), the mark the partitioned loop keeps for its
// unpartitioned prefix. A record may be backed up twice (an upload stored
// just before the crash), never lost.
//
// Memory: the backup buffer holds at most the backup's SizeInMBs (≤ 128
// MiB) plus one log read, on top of the partitions' bound in lake.go.
//
// Records the backup cannot store for 24 hours (retention) are dropped from
// it and logged, as the plain loop does.

import (
	"context"
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/storage"
)

// lakeBackup is the backup reader of one partitioned loop.
type lakeBackup struct {
	active   bool   // backup enabled and buf positioned
	buf      buffer // [buf.start, buf.next) read, not yet backed up
	lastMs   int64  // arrival of the last record read (trim bound when buf is empty)
	failures int
	retryAt  time.Time
}

// lakeBackupStep reads what arrived since the last pass into the backup
// buffer and uploads it when the backup's hints say so (or forced). It
// returns when it next needs to run (zero: only when records arrive),
// whether it has more to do at once, and why it failed (it retries by
// itself at due).
func (s *Service) lakeBackupStep(ctx context.Context, st *stream, cfg deliveryConfig, b *lakeBackup, forced bool) (due time.Time, more bool, err error) {
	bc := cfg.dest.S3BackupConfiguration
	if deref(cfg.dest.S3BackupMode) != backupEnabled || bc == nil {
		b.active = false
		return time.Time{}, false, nil
	}
	id := st.meta.shardID()
	if !b.active {
		s.mu.Lock()
		start := max(st.meta.Delivered, st.meta.LakeBackup)
		s.mu.Unlock()
		b.buf.reset(start)
		b.active, b.lastMs = true, 0
	}
	sizeLimit, interval := 5<<20, 300*time.Second
	if h := bc.BufferingHints; h != nil {
		if h.SizeInMBs != nil {
			sizeLimit = int(*h.SizeInMBs) << 20
		}
		if h.IntervalInSeconds != nil {
			interval = time.Duration(*h.IntervalInSeconds) * time.Second
		}
	}
	bounds, err := s.backend.Bounds(ctx, id)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("backup: buffer log bounds", "stream", cfg.name, "err", err)
		}
		return s.now().Add(s.opts.RetryMax), false, err
	}
	if b.buf.bytes < sizeLimit && b.buf.next < bounds.Next {
		next, err := s.backend.Read(ctx, id, b.buf.next, storage.ReadLimits{MaxBytes: sizeLimit - b.buf.bytes}, func(r storage.StoredRecord) bool {
			if len(b.buf.recs) == 0 && r.Pos > b.buf.start {
				b.buf.start = r.Pos // the log was trimmed past our position (retention)
			}
			b.buf.recs = append(b.buf.recs, append([]byte(nil), r.Data...))
			b.buf.arrivals = append(b.buf.arrivals, r.ArrivalMs)
			b.buf.bytes += len(r.Data)
			b.lastMs = r.ArrivalMs
			return true
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("backup: read buffer log", "stream", cfg.name, "err", err)
			}
			return s.now().Add(s.opts.RetryMax), false, err
		}
		b.buf.next = next
	}
	now := s.now()
	if n := b.buf.dropExpired(now.Add(-retention).UnixMilli()); n > 0 {
		s.log.Warn("backup: dropped records not backed up for 24 hours", "stream", cfg.name, "records", n)
	}
	if len(b.buf.recs) == 0 {
		if b.buf.start != b.buf.next {
			s.saveLakeBackup(st, b) // everything read was dropped
		}
		return time.Time{}, b.buf.next < bounds.Next, nil
	}
	full := b.buf.bytes >= sizeLimit || b.buf.next < bounds.Next
	if now.Before(b.retryAt) && !forced {
		return b.retryAt, false, nil
	}
	if d := time.UnixMilli(b.buf.arrivals[0]).Add(interval); !full && !forced && now.Before(d) {
		return d, false, nil
	}
	if err := s.uploadLakeBackup(ctx, cfg, bc, &b.buf); err != nil {
		if ctx.Err() != nil {
			return time.Time{}, false, nil
		}
		b.failures++
		st.m.failures.Add(1)
		backoff := min(s.opts.RetryBase<<min(b.failures-1, 20), s.opts.RetryMax)
		b.retryAt = now.Add(backoff)
		s.log.Warn("backup delivery failed; will retry", "stream", cfg.name, "err", err, "attempt", b.failures, "backoff", backoff)
		return b.retryAt, false, err
	}
	b.failures, b.retryAt = 0, time.Time{}
	st.m.backupRecords.Add(int64(len(b.buf.recs)))
	s.saveLakeBackup(st, b)
	return time.Time{}, b.buf.next < bounds.Next, nil
}

// uploadLakeBackup writes buf as one backup object, as deliver does.
func (s *Service) uploadLakeBackup(ctx context.Context, cfg deliveryConfig, bc *S3Config, buf *buffer) error {
	key, data, err := encodeObject(bc, cfg.name, cfg.version, buf.arrivals[0], concat(buf.recs, false))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	bucket, _ := s3dest.BucketFromARN(deref(bc.BucketARN))
	if err := s.uploader(cfg.endpoint).Put(ctx, bucket, key, data, s3dest.ContentEncoding(deref(bc.CompressionFormat))); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// saveLakeBackup makes b.buf.next the durable backup position and empties
// the buffer.
func (s *Service) saveLakeBackup(st *stream, b *lakeBackup) {
	s.mu.Lock()
	st.meta.LakeBackup = b.buf.next
	s.mu.Unlock()
	if err := s.save(); err != nil {
		s.log.Error("save backup checkpoint", "stream", st.meta.Name, "err", err)
	}
	b.buf.reset(b.buf.next)
}

// bound lowers the loop's checkpoint to the first position not backed up
// and its trim cutoff to the oldest arrival the backup still needs
// (lakeCheckpoint); cutoff ≤ 0 means no trim.
func (b *lakeBackup) bound(pos *uint64, cutoff *int64) {
	if b == nil || !b.active {
		return
	}
	*pos = min(*pos, b.buf.start)
	if *cutoff <= 0 {
		return
	}
	need := b.lastMs // every record not yet read arrived at or after it
	if len(b.buf.arrivals) > 0 {
		need = b.buf.arrivals[0]
	}
	if need <= 0 {
		*cutoff = 0
		return
	}
	*cutoff = min(*cutoff, need)
}

// backed lowers pos to the first position not yet backed up, when the
// backup is on.
func (b *lakeBackup) backed(pos uint64) uint64 {
	if b != nil && b.active {
		return min(pos, b.buf.start)
	}
	return pos
}

// failFlushes answers the pending flushes with the backup's error (a flush
// covers the backup too) and returns none left.
func failFlushes(flushes []flushReq, err error) []flushReq {
	if err == nil {
		return flushes
	}
	for _, f := range flushes {
		f.done <- err
	}
	return flushes[:0]
}

// earlier is the earlier of two due times (zero: none).
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
