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
	backupDone  bool
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
		b.primaryDone, b.backupDone, b.transformDone, b.out, b.outIdx = false, false, false, nil, nil
	}
	return n
}

// deliveryConfig is a snapshot of what one delivery needs.
type deliveryConfig struct {
	name, version string
	dest          *S3Config
	endpoint      string
	delivered     uint64
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
	c := deliveryConfig{name: st.meta.Name, version: strconv.Itoa(st.meta.Version), dest: st.meta.Dest, delivered: st.meta.Delivered}
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
	loaded := false
	var flushes []flushReq
	failures := 0
	var failingSince time.Time // first failure of the current buffer
	var lastErr error          // why the destination refused it
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
		if !loaded || buf.start != cfg.delivered && len(buf.recs) == 0 {
			buf.reset(cfg.delivered)
			loaded = true
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
		if len(buf.recs) == 0 {
			st.m.oldestPendingMs.Store(0)
			if buf.start != cfg.delivered {
				s.checkpoint(ctx, st, &buf)
			}
			flushes = replyFlushes(flushes, buf.next)
			if buf.next < bounds.Next {
				continue
			}
			if fr, ok := s.wait(ctx, st, s.backend.Watch(id, buf.next), 0); !ok {
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
		if !full && !forced && now.Before(due) {
			fr, ok := s.wait(ctx, st, s.backend.Watch(id, buf.next), due.Sub(now))
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
			// Back off on the wall clock (a config change or flush cuts it short).
			fr, ok := s.wait(ctx, st, nil, backoff)
			if !ok {
				return
			}
			if fr != nil {
				flushes = append(flushes, s.flushTarget(ctx, id, fr))
			}
			continue
		}
		failures, failingSince, lastErr = 0, time.Time{}, nil
		st.failure.Store(nil)
		s.checkpoint(ctx, st, &buf)
		flushes = replyFlushes(flushes, buf.start)
	}
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

// checkpoint records buf.next as delivered, trims the log and resets buf.
func (s *Service) checkpoint(ctx context.Context, st *stream, buf *buffer) {
	pos := buf.next
	if len(buf.recs) == 0 {
		pos = buf.start
	}
	var lastMs int64
	if n := len(buf.arrivals); n > 0 {
		lastMs = buf.arrivals[n-1]
	}
	s.mu.Lock()
	st.meta.Delivered = pos
	s.mu.Unlock()
	if err := s.saveCheckpoint(st); err != nil {
		s.log.Error("save delivery checkpoint", "stream", st.meta.Name, "err", err)
	}
	if lastMs > 0 {
		if err := s.backend.Trim(ctx, st.meta.shardID(), lastMs); err != nil && ctx.Err() == nil {
			s.log.Warn("trim buffer log", "stream", st.meta.Name, "err", err)
		}
	}
	buf.reset(pos)
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

// deliver uploads buf to the destination (and the S3 backup when enabled).
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
	if deref(cfg.dest.S3BackupMode) == backupEnabled && cfg.dest.S3BackupConfiguration != nil && !buf.backupDone {
		bc := cfg.dest.S3BackupConfiguration
		key, data, err := encodeObject(bc, cfg.name, cfg.version, buf.arrivals[0], concat(buf.recs, false))
		if err != nil {
			return err
		}
		bucket, _ := s3dest.BucketFromARN(deref(bc.BucketARN))
		if err := up.Put(ctx, bucket, key, data, s3dest.ContentEncoding(deref(bc.CompressionFormat))); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		buf.backupDone = true
		st.m.backupRecords.Add(int64(len(buf.recs)))
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
