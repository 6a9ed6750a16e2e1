package firehose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/storage"
)

// EndpointTag is the stream tag that overrides the S3 endpoint URL of one
// delivery stream (the server-wide --s3-endpoint applies otherwise).
const EndpointTag = "eddy:s3-endpoint"

// buffer is the in-memory view of the records between the delivered
// position and the scan position of a stream's log.
type buffer struct {
	start, next uint64 // [start, next) are in recs
	recs        [][]byte
	arrivals    []int64
	bytes       int
	primaryDone bool // the primary object of this exact buffer is uploaded
	// out is recs after the Lambda processor (transform.go), once
	// transformDone
	out           [][]byte
	outIdx        []int // the index in recs of each record of out
	transformDone bool
	// meta is each record's stored partition key: for stream sources, its
	// kinesisRecordMetadata (kinesis.go)
	meta [][]byte
}

func (b *buffer) reset(pos uint64) { *b = buffer{start: pos, next: pos} }

// dropExpired removes leading records older than cutoffMs and reports how many.
func (b *buffer) dropExpired(cutoffMs int64) int {
	n := 0
	for n < len(b.recs) && b.arrivals[n] < cutoffMs {
		b.bytes -= len(b.recs[n])
		n++
	}
	if n > 0 {
		b.recs, b.arrivals = b.recs[n:], b.arrivals[n:]
		if len(b.meta) >= n {
			b.meta = b.meta[n:]
		}
		b.start += uint64(n)
		b.primaryDone, b.transformDone, b.out, b.outIdx = false, false, nil, nil
	}
	return n
}

// deliveryConfig is a snapshot of what one delivery needs.
type deliveryConfig struct {
	name, version string
	dest          *S3Config
	endpoint      string
	delivered     uint64
	primary       uint64     // the plain loop's primary position (primaryPos)
	other         *otherDest // a destination beyond S3 (dest_other.go)
	arn, id       string
	osEndpoint    string // the eddy:opensearch-endpoint tag (dest_opensearch.go)
}

func (s *Service) snapshot(st *stream) (deliveryConfig, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-st.stop:
		return deliveryConfig{}, false
	default:
	}
	c := deliveryConfig{name: st.meta.Name, version: strconv.Itoa(st.meta.Version), dest: st.meta.Dest, delivered: st.meta.Delivered,
		primary: primaryPos(&st.meta)}
	if o := st.meta.Other; o != nil {
		c.other, c.arn, c.id = o, st.meta.arn(), st.meta.ID
		c.dest = o.bufferingDest(c.dest)
		kind := o.Kind
		st.m.dest.kind.Store(&kind)
	}
	for _, t := range st.meta.Tags {
		switch deref(t.Key) {
		case EndpointTag:
			c.endpoint = deref(t.Value)
		case OpenSearchEndpointTag:
			c.osEndpoint = deref(t.Value)
		}
	}
	return c, true
}

type flushReq struct {
	target uint64
	done   chan error
}

// Flush delivers, ignoring the buffering hints, every record the stream had
// accepted when Flush was called, and returns once that is done (or ctx ends).
// It is Eddy's "flush now" for tests and operators; AWS has no such call.
func (s *Service) Flush(ctx context.Context, account, region, name string) error {
	s.mu.Lock()
	st := s.streams[streamKey(account, region, name)]
	started := s.ctx != nil
	s.mu.Unlock()
	if st == nil {
		return fmt.Errorf("firehose: flush %s: %w", name, storage.ErrNotFound)
	}
	if !started {
		return errors.New("firehose: flush before Start")
	}
	done := make(chan error, 1)
	select {
	case st.flushes <- done:
	case <-ctx.Done():
		return ctx.Err()
	case <-st.stop:
		return fmt.Errorf("firehose: flush %s: stream deleted", name)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) deliverLoop(ctx context.Context, st *stream) {
	id := st.meta.shardID()
	log := s.log.With("stream", st.meta.Name, "account", st.meta.Account)
	var buf buffer
	// bk is the S3 backup's own reader (lake_backup.go, shared with the
	// partitioned loop): its own buffer, BufferingHints, compression,
	// prefix, backoff and durable position.
	var bk lakeBackup
	var marks plainMarks
	loaded := false
	var flushes []flushReq
	failures := 0
	var failingSince time.Time // first failure of the current buffer
	var lastErr error          // why the destination refused it
	var retryWall time.Time    // the primary's next attempt after a failure (wall clock)
	var retryVersion string    // the configuration that failed (a change cuts the backoff short)
	for {
		cfg, ok := s.snapshot(st)
		if !ok {
			for _, f := range flushes {
				f.done <- errors.New("firehose: stream deleted")
			}
			return
		}
		if lakeEnabled(cfg.dest) { // lake.go: partitions, conversion
			if !s.lakeLoop(ctx, st, cfg) {
				return
			}
			loaded = false
			continue
		}
		if !loaded || buf.start != cfg.primary && len(buf.recs) == 0 {
			if !loaded {
				bk, marks = lakeBackup{}, plainMarks{}
			}
			buf.reset(cfg.primary)
			loaded = true
		}
		if cfg.version != retryVersion {
			retryWall = time.Time{}
		}
		bounds, err := s.backend.Bounds(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("buffer log bounds", "err", err)
			if !s.pause(ctx, st, s.opts.RetryMax) {
				return
			}
			continue
		}
		sizeLimit := int(deref(cfg.dest.BufferingHints.SizeInMBs)) << 20
		interval := time.Duration(deref(cfg.dest.BufferingHints.IntervalInSeconds)) * time.Second

		// Extend the buffer with what arrived since the last scan.
		if buf.bytes < sizeLimit && buf.next < bounds.Next {
			next, err := s.backend.Read(ctx, id, buf.next, storage.ReadLimits{MaxBytes: sizeLimit - buf.bytes}, func(r storage.StoredRecord) bool {
				if len(buf.recs) == 0 && r.Pos > buf.start {
					buf.start = r.Pos // the log was trimmed past our position
				}
				buf.recs = append(buf.recs, append([]byte(nil), r.Data...))
				buf.arrivals = append(buf.arrivals, r.ArrivalMs)
				buf.meta = append(buf.meta, append([]byte(nil), r.PartitionKey...))
				buf.bytes += len(r.Data)
				return true
			})
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				log.Error("read buffer log", "err", err)
				if !s.pause(ctx, st, s.opts.RetryMax) {
					return
				}
				continue
			}
			buf.next = next
		}
		now := s.now()
		if n := buf.dropExpired(now.Add(-retention).UnixMilli()); n > 0 {
			st.m.expiredRecords.Add(int64(n))
			log.Warn("dropped records undelivered for 24 hours", "records", n)
		}
		// The backup runs on its own hints, beside the primary.
		var bkDue time.Time
		bkMore := false
		if cfg.other == nil {
			var bkErr error
			bkDue, bkMore, bkErr = s.lakeBackupStep(ctx, st, cfg, &bk, len(flushes) > 0)
			flushes = failFlushes(flushes, bkErr)
		} else {
			bk = lakeBackup{}
		}
		if len(buf.recs) == 0 {
			st.m.oldestPendingMs.Store(0)
			s.checkpoint(ctx, st, &buf, &bk, &marks)
			flushes = replyFlushes(flushes, bk.backed(buf.next))
			if buf.next < bounds.Next || bkMore {
				continue
			}
			if fr, ok := s.wait(ctx, st, s.backend.Watch(id, buf.next), until(s.now(), bkDue)); !ok {
				return
			} else if fr != nil {
				flushes = append(flushes, s.flushTarget(ctx, id, fr))
			}
			continue
		}
		st.m.oldestPendingMs.Store(buf.arrivals[0])
		full := buf.bytes >= sizeLimit || buf.next < bounds.Next
		forced := len(flushes) > 0
		due := time.UnixMilli(buf.arrivals[0]).Add(interval)
		backingOff := !retryWall.IsZero() && time.Now().Before(retryWall)
		if !forced && (backingOff || !full && now.Before(due)) {
			if bkMore {
				continue
			}
			var watch <-chan struct{}
			var d time.Duration
			if backingOff {
				// Back off on the wall clock (a config change or flush cuts it short).
				d = time.Until(retryWall)
			} else {
				watch, d = s.backend.Watch(id, buf.next), due.Sub(now)
			}
			if bd := until(s.now(), bkDue); bd > 0 && bd < d {
				d = bd
			}
			fr, ok := s.wait(ctx, st, watch, d)
			if !ok {
				return
			}
			if fr != nil {
				flushes = append(flushes, s.flushTarget(ctx, id, fr))
			}
			continue
		}
		if d, ok := retryDuration(cfg.dest); ok && !failingSince.IsZero() && s.now().Sub(failingSince) >= d {
			// RetryOptions.DurationInSeconds of failures: the buffer goes
			// to the error output instead.
			err = s.deliverErrorOutput(ctx, st, cfg, &buf, lastErr, failures)
		} else if err = s.deliver(ctx, st, cfg, &buf); err != nil {
			lastErr = err
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if failingSince.IsZero() {
				failingSince = s.now()
			}
			failures++
			st.m.failures.Add(1)
			msg := err.Error()
			st.failure.Store(&msg)
			backoff := min(s.opts.RetryBase<<min(failures-1, 20), s.opts.RetryMax)
			log.Warn("delivery failed; will retry", "err", err, "attempt", failures, "backoff", backoff)
			for _, f := range flushes {
				f.done <- err
			}
			flushes = flushes[:0]
			retryWall, retryVersion = time.Now().Add(backoff), cfg.version
			continue
		}
		failures, failingSince, lastErr, retryWall = 0, time.Time{}, nil, time.Time{}
		st.failure.Store(nil)
		s.checkpoint(ctx, st, &buf, &bk, &marks)
		flushes = replyFlushes(flushes, bk.backed(buf.start))
	}
}

// until is how long from now to due (0: no due time; at least 1 ms once
// due, so that a wait with it still wakes).
func until(now, due time.Time) time.Duration {
	if due.IsZero() {
		return 0
	}
	return max(due.Sub(now), time.Millisecond)
}

// flushTarget pins a flush request to the log's tip when it arrives: every
// record acknowledged before Flush was called lies below it.
func (s *Service) flushTarget(ctx context.Context, id storage.ShardID, done chan error) flushReq {
	b, err := s.backend.Bounds(ctx, id)
	if err != nil {
		done <- fmt.Errorf("firehose: flush: %w", err)
		return flushReq{done: make(chan error, 1)} // answered; target 0 retires it
	}
	return flushReq{target: b.Next, done: done}
}

// replyFlushes answers the flushes whose target is delivered (below pos).
func replyFlushes(flushes []flushReq, pos uint64) []flushReq {
	kept := flushes[:0]
	for _, f := range flushes {
		if pos >= f.target {
			f.done <- nil
		} else {
			kept = append(kept, f)
		}
	}
	return kept
}

// plainMarks is what the plain loop's checkpoint remembers between calls.
type plainMarks struct {
	doneMs    int64 // arrival of the last record the primary delivered
	trimmedMs int64 // the last trim cutoff
}

// primaryPos is the first buffer-log position the plain loop's primary has
// not delivered. It is Delivered unless the S3 backup holds Delivered back
// (its own hints can make it lag the primary): then LakeDone[""] is the
// last position the primary wrote, the same mark the partitioned loop
// keeps for its unpartitioned prefix, so either loop resumes the primary
// where the other stopped.
func primaryPos(m *streamMeta) uint64 {
	if d, ok := m.LakeDone[""]; ok && d >= m.Delivered {
		return d + 1
	}
	return m.Delivered
}

// checkpoint saves the plain loop's progress (the primary past buf, when it
// holds the records just delivered; Delivered, where a restart reads from,
// at the smaller of the primary's and the backup's positions), trims the
// log below what both have written and resets buf.
func (s *Service) checkpoint(ctx context.Context, st *stream, buf *buffer, bk *lakeBackup, m *plainMarks) {
	primary := buf.next
	if len(buf.recs) == 0 {
		primary = buf.start
	} else {
		m.doneMs = buf.arrivals[len(buf.arrivals)-1]
	}
	pos, cutoff := primary, m.doneMs
	bk.bound(&pos, &cutoff) // lake_backup.go
	s.mu.Lock()
	changed := st.meta.Delivered != pos || primaryPos(&st.meta) != primary
	st.meta.Delivered = pos
	if primary > pos {
		st.meta.LakeDone = map[string]uint64{"": primary - 1}
	} else {
		st.meta.LakeDone = nil
	}
	s.mu.Unlock()
	if changed {
		if err := s.saveCheckpoint(st); err != nil {
			s.log.Error("save delivery checkpoint", "stream", st.meta.Name, "err", err)
		}
	}
	if cutoff > m.trimmedMs {
		if err := s.backend.Trim(ctx, st.meta.shardID(), cutoff); err != nil && ctx.Err() == nil {
			s.log.Warn("trim buffer log", "stream", st.meta.Name, "err", err)
		} else {
			m.trimmedMs = cutoff
		}
	}
	buf.reset(primary)
}

// wait blocks until the watch fires, d passes (d > 0), the stream is kicked
// or deleted, a flush is requested (returned), or ctx ends (ok=false).
func (s *Service) wait(ctx context.Context, st *stream, watch <-chan struct{}, d time.Duration) (flush chan error, ok bool) {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return nil, false
	case <-st.stop:
		return nil, true
	case <-st.kick:
	case <-watch:
	case <-timer:
	case f := <-st.flushes:
		return f, true
	}
	return nil, true
}

func (s *Service) pause(ctx context.Context, st *stream, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-st.stop:
	case <-t.C:
	}
	return true
}

func (s *Service) uploader(endpoint string) *s3dest.Uploader {
	if endpoint == "" {
		endpoint = s.opts.S3Endpoint
	}
	s.uploadersMu.Lock()
	defer s.uploadersMu.Unlock()
	u := s.uploaders[endpoint]
	if u == nil {
		u = s3dest.NewUploader(s3dest.Endpoint{URL: endpoint, AccessKey: s.opts.S3AccessKey, SecretKey: s.opts.S3SecretKey, Region: s.opts.S3Region})
		if s.opts.S3MultipartThreshold > 0 {
			u.SetMultipart(s.opts.S3MultipartThreshold, s.opts.S3PartSize)
		}
		s.uploaders[endpoint] = u
	}
	return u
}

func appendsDelimiter(c *S3Config) bool {
	p := c.ProcessingConfiguration
	if p == nil || !deref(p.Enabled) {
		return false
	}
	for _, pr := range p.Processors {
		if deref(pr.Type) == appendDelimiter {
			return true
		}
	}
	return false
}

// deliver uploads buf to the destination (the S3 backup has its own reader:
// lake_backup.go).
func (s *Service) deliver(ctx context.Context, st *stream, cfg deliveryConfig, buf *buffer) error {
	if cfg.other != nil {
		if buf.primaryDone {
			return nil
		}
		return s.deliverOther(ctx, st, cfg, buf)
	}
	up := s.uploader(cfg.endpoint)
	recs := buf.recs
	if lp, ok := lambdaProcessorOf(cfg.dest); ok && !buf.primaryDone {
		if !buf.transformDone {
			if err := s.transform(ctx, st, cfg, buf, lp); err != nil {
				return err
			}
		}
		recs = buf.out
		if len(recs) == 0 {
			buf.primaryDone = true // every record dropped or failed
		}
	}
	if !buf.primaryDone {
		body := concat(recs, appendsDelimiter(cfg.dest))
		key, data, err := encodeObject(cfg.dest, cfg.name, cfg.version, buf.arrivals[0], body)
		if err != nil {
			return err
		}
		bucket, _ := s3dest.BucketFromARN(deref(cfg.dest.BucketARN))
		if err := up.Put(ctx, bucket, key, data, s3dest.ContentEncoding(deref(cfg.dest.CompressionFormat))); err != nil {
			return err
		}
		buf.primaryDone = true
		st.m.success.Add(1)
		st.m.objects.Add(1)
		st.m.deliveredRecords.Add(int64(len(recs)))
		st.m.deliveredBytes.Add(int64(len(body)))
	}
	return nil
}

func concat(recs [][]byte, delim bool) []byte {
	n := 0
	for _, r := range recs {
		n += len(r) + 1
	}
	body := make([]byte, 0, n)
	for _, r := range recs {
		body = append(body, r...)
		if delim {
			body = append(body, '\n')
		}
	}
	return body
}

// encodeObject names and encodes one object of c's destination.
func encodeObject(c *S3Config, name, version string, oldestMs int64, body []byte) (key string, data []byte, err error) {
	return encodeObjectAt(c, deref(c.Prefix), "", name, version, oldestMs, body)
}

// encodeObjectAt is encodeObject with an explicit prefix and error type.
func encodeObjectAt(c *S3Config, prefix, errType, name, version string, oldestMs int64, body []byte) (key string, data []byte, err error) {
	loc := time.UTC
	if tz := deref(c.CustomTimeZone); tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	t := time.UnixMilli(oldestMs).In(loc)
	p, err := s3dest.ParsePrefix(prefix)
	if err != nil {
		return "", nil, fmt.Errorf("prefix: %w", err)
	}
	format := deref(c.CompressionFormat)
	ext := s3dest.Extension(format)
	if c.FileExtension != nil && *c.FileExtension != "" {
		ext = *c.FileExtension
	}
	uuid := s3dest.NewUUID()
	key = s3dest.ObjectKey(p.Eval(t, errType), name, version, t, uuid, ext)
	data, err = s3dest.Compress(format, body, uuid)
	if err != nil {
		return "", nil, err
	}
	return key, data, nil
}

// ErrorOutputType is the `!{firehose:error-output-type}` of records that
// could not be delivered to their S3 prefix within RetryOptions. AWS
// documents no value for this case; this one is Eddy's.
const ErrorOutputType = "s3-delivery-failed"

// retryDuration is RetryOptions.DurationInSeconds (under
// DynamicPartitioningConfiguration, the only place the S3 destinations have
// it), when set.
func retryDuration(c *S3Config) (time.Duration, bool) {
	dp := c.DynamicPartitioningConfiguration
	if dp == nil || dp.RetryOptions == nil || dp.RetryOptions.DurationInSeconds == nil {
		return 0, false
	}
	return time.Duration(*dp.RetryOptions.DurationInSeconds) * time.Second, true
}

// errorRecord is one line of an error-output object, in the shape Firehose
// uses for records it could not deliver.
type errorRecord struct {
	AttemptsMade           int    `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	RawData                []byte `json:"rawData"`
}

// s3ErrorCode names a delivery error the way Firehose's S3 delivery errors
// are named (S3.AccessDenied, S3.NoSuchBucket, …).
func s3ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return "S3." + ae.ErrorCode()
	}
	return "InternalError"
}

// deliverErrorOutput writes buf as error records under the ErrorOutputPrefix
// (or, without one, under `<Prefix><error-output-type>/yyyy/MM/dd/HH/`).
func (s *Service) deliverErrorOutput(ctx context.Context, st *stream, cfg deliveryConfig, buf *buffer, cause error, attempts int) error {
	code, msg := "InternalError", "delivery failed"
	if cause != nil {
		code, msg = s3ErrorCode(cause), cause.Error()
	}
	nowMs := s.now().UnixMilli()
	var body []byte
	for i, r := range buf.recs {
		line, err := json.Marshal(errorRecord{AttemptsMade: attempts, ArrivalTimestamp: buf.arrivals[i], ErrorCode: code,
			ErrorMessage: msg, AttemptEndingTimestamp: nowMs, RawData: r})
		if err != nil {
			return fmt.Errorf("error record: %w", err)
		}
		body = append(append(body, line...), '\n')
	}
	prefix := deref(cfg.dest.ErrorOutputPrefix)
	if prefix == "" {
		prefix = deref(cfg.dest.Prefix) + ErrorOutputType + "/"
	}
	key, data, err := encodeObjectAt(cfg.dest, prefix, ErrorOutputType, cfg.name, cfg.version, buf.arrivals[0], body)
	if err != nil {
		return err
	}
	bucket, _ := s3dest.BucketFromARN(deref(cfg.dest.BucketARN))
	if err := s.uploader(cfg.endpoint).Put(ctx, bucket, key, data, s3dest.ContentEncoding(deref(cfg.dest.CompressionFormat))); err != nil {
		return fmt.Errorf("error output: %w", err)
	}
	st.m.errorOutputRecords.Add(int64(len(buf.recs)))
	s.log.Warn("records sent to the error output after the retry duration", "stream", cfg.name, "records", len(buf.recs), "key", key, "cause", msg)
	return nil
}
