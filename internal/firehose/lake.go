package firehose

// The partitioned delivery loop, used instead of deliverLoop's single
// buffer when a stream has dynamic partitioning, format conversion or the
// RecordDeAggregation / MetadataExtraction processors.
//
// Records are read from the stream's durable buffer log as before. Each is
// de-aggregated (RecordDeAggregation), its partition keys are extracted
// with the stream's JQ query (compiled once per configuration version), and
// the prefix evaluated with them (and the record's arrival time) names the
// partition it joins. Each partition is a buffer with the stream's
// BufferingHints: it is delivered once it holds SizeInMBs or its oldest
// record is IntervalInSeconds old, as one object (converted to Parquet when
// format conversion is on), and then forgotten.
//
// Durability: the log position checkpointed as delivered is the smallest
// position still held by an undelivered partition, so a crash (kill -9)
// loses nothing: on restart the records from there are read again and
// re-partitioned. Partitions delivered after that position may be
// delivered again (at least once, as for the plain loop).
//
// Memory: the loop reads from the log only while the partitions hold less
// than max(Options.LakeMemory, SizeInMBs) bytes (records with their
// per-record overhead, lake_recs.go); above that it delivers the largest
// partitions early. The formula is in the package doc: about three times
// the cap at worst, however many partitions.
//
// Records that fail: no partition key (not JSON, key missing or not a
// scalar, query error, a `partitionKeyFromLambda` key the function did not
// return) or a 501st active partition → `partitioning-failed` error
// output; not fitting the Glue schema → `format-conversion-failed`.
//
// With a Lambda processor, de-aggregated records are transformed before
// they are partitioned (lake_transform.go); records undelivered for 24
// hours are dropped (lake_retention.go).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/itchyny/gojq"

	"github.com/eddy-streams/eddy/internal/firehose/convert"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/glue"
	"github.com/eddy-streams/eddy/internal/storage"
)

const (
	lakeUploads       = 64 // partitions delivered concurrently (S3 round trips bound many-partition throughput)
	defaultLakeMemory = 256 << 20
	jqTimeout         = 10 * time.Second
)

// lakeRec is one (sub-)record waiting in a partition.
type lakeRec struct {
	pos     uint64 // buffer-log position of the record it came from
	sub     int    // index within that record after de-aggregation
	arrival int64
	data    []byte
	keys    map[string]string
	lkeys   map[string]string // metadata.partitionKeys from the Lambda processor
}

type partition struct {
	prefix string // evaluated prefix (random strings as s3dest.RandomMarker)
	recs   recList
	keys   map[string]string // the partition keys its records share (lake_recs.go)
	bytes  int
	minPos uint64
	oldest int64
}

// lakePipeline is a stream configuration compiled for the loop.
type lakePipeline struct {
	version     string
	dest        *S3Config
	prefix      *s3dest.Prefix
	errPrefix   *s3dest.Prefix
	dp          bool
	query       *gojq.Code
	fields      *fieldQuery // the query when it only picks fields (lake_keys.go)
	deagg       string
	delim       []byte
	appendDelim bool
	conv        *formatConversion
	loc         *time.Location
	lambda      *lambdaParams // the Lambda processor (lake_transform.go), if any

	convVersion string // Glue table version the converter was built for
	converter   *convert.Converter
	convErr     string // why the schema is unusable this round ("" if fine)
}

func compileLake(cfg deliveryConfig) (*lakePipeline, error) {
	c := cfg.dest
	p := &lakePipeline{version: cfg.version, dest: c, dp: partitioningEnabled(c), loc: time.UTC}
	var err error
	opts := s3dest.ParseOptions{Partitioning: p.dp}
	if p.prefix, err = s3dest.ParsePrefixWith(deref(c.Prefix), opts); err != nil {
		return nil, err
	}
	ep := deref(c.ErrorOutputPrefix)
	if ep == "" {
		ep = deref(c.Prefix) + "!{firehose:error-output-type}/"
	}
	if p.errPrefix, err = s3dest.ParsePrefixWith(ep, opts); err != nil {
		return nil, err
	}
	if tz := deref(c.CustomTimeZone); tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			p.loc = l
		}
	}
	for _, pr := range processorsOf(c) {
		switch deref(pr.Type) {
		case appendDelimiter:
			p.appendDelim = true
		case procDeAgg:
			p.deagg, _ = param(pr, paramSubType)
			if d, ok := param(pr, paramDelimiter); ok {
				p.delim, _ = base64.StdEncoding.DecodeString(d)
			}
		case procMetadata:
			q, _ := param(pr, paramQuery)
			parsed, err := gojq.Parse(q)
			if err != nil {
				return nil, fmt.Errorf("MetadataExtractionQuery: %w", err)
			}
			if p.query, err = gojq.Compile(parsed); err != nil {
				return nil, fmt.Errorf("MetadataExtractionQuery: %w", err)
			}
			p.fields = parseFieldQuery(q)
		}
	}
	if lp, ok := lambdaProcessorOf(c); ok {
		p.lambda = &lp
	}
	if p.conv, err = conversionOf(c); err != nil {
		return nil, err
	}
	return p, nil
}

// failedRec is a record bound for an error output.
type failedRec struct {
	rec       lakeRec
	errType   string
	code, msg string
	attempts  int    // processing-failed: invocations made (else 1)
	lambdaArn string // processing-failed: the function
}

// splitRecord applies RecordDeAggregation.
func (p *lakePipeline) splitRecord(data []byte) ([][]byte, error) {
	switch p.deagg {
	case "JSON":
		var out [][]byte
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				return nil, fmt.Errorf("multi-record de-aggregation failed: %v", err)
			}
			out = append(out, []byte(raw))
		}
	case "DELIMITED":
		var out [][]byte
		for _, part := range bytes.Split(data, p.delim) {
			if len(part) > 0 {
				out = append(out, part)
			}
		}
		return out, nil
	}
	return [][]byte{data}, nil
}

// partitionKeys runs the JQ query on one record.
func (p *lakePipeline) partitionKeys(ctx context.Context, data []byte) (map[string]string, error) {
	obj, err := p.runQuery(ctx, data)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]string, len(obj))
	for k, val := range obj {
		switch x := val.(type) {
		case string:
			keys[k] = x
		case bool:
			keys[k] = strconv.FormatBool(x)
		case int:
			keys[k] = strconv.Itoa(x)
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1e17 {
				keys[k] = strconv.FormatInt(int64(x), 10)
			} else {
				keys[k] = strconv.FormatFloat(x, 'g', 17, 64)
			}
		case nil:
		default:
			if s, err := json.Marshal(x); err == nil && len(s) > 0 && s[0] != '{' && s[0] != '[' {
				keys[k] = string(s)
			}
		}
	}
	for _, k := range p.prefix.QueryKeys() {
		if _, ok := keys[k]; !ok {
			return nil, fmt.Errorf("partition key %s is missing or not a scalar value", k)
		}
	}
	return keys, nil
}

// runQuery evaluates the MetadataExtractionQuery on one record: picked
// straight from its bytes when the query only picks fields (lake_keys.go),
// on gojq otherwise.
func (p *lakePipeline) runQuery(ctx context.Context, data []byte) (map[string]any, error) {
	if p.fields != nil {
		return p.fields.eval(data)
	}
	v, err := convert.DecodeJSON(data, false) // as json.Unmarshal, faster (FuzzDecodeJSON)
	if err != nil {
		return nil, fmt.Errorf("the record is not valid JSON: %v", err)
	}
	it := p.query.RunWithContext(ctx, v)
	out, ok := it.Next()
	if !ok {
		return nil, errors.New("the MetadataExtractionQuery returned no value")
	}
	if err, isErr := out.(error); isErr {
		return nil, fmt.Errorf("the MetadataExtractionQuery failed: %v", err)
	}
	obj, ok := out.(map[string]any)
	if !ok {
		return nil, errors.New("the MetadataExtractionQuery did not return a JSON object")
	}
	return obj, nil
}

// lakeErrorsKey is LakeDone's key for the partitioning error output.
const lakeErrorsKey = "\x00partitioning-failed"

type lakeState struct {
	done     map[string]uint64 // see streamMeta.LakeDone
	dirty    bool              // done changed since the last save
	parts    map[string]*partition
	bytes    int
	readPos  uint64
	lastMs   int64 // arrival of the last record read (the trim bound once all is delivered)
	failed   []failedRec
	pipeline *lakePipeline
	pending  []pendingRec // read, awaiting the Lambda processor (lake_transform.go)
	backup   lakeBackup   // the source-record backup (lake_backup.go)
}

// lakeLoop runs until ctx ends, the stream is deleted (false) or its
// configuration no longer needs it (true: deliverLoop takes over from the
// checkpoint).
func (s *Service) lakeLoop(ctx context.Context, st *stream, cfg deliveryConfig) bool {
	id := st.meta.shardID()
	log := s.log.With("stream", cfg.name, "account", st.meta.Account)
	ls := &lakeState{parts: map[string]*partition{}, readPos: cfg.delivered, done: map[string]uint64{}}
	s.mu.Lock()
	for k, v := range st.meta.LakeDone {
		ls.done[k] = v
	}
	s.mu.Unlock()
	var flushes []flushReq
	failures := 0
	var failingSince time.Time
	memCap := s.opts.LakeMemory
	if memCap <= 0 {
		memCap = defaultLakeMemory
	}
	for {
		var ok bool
		if cfg, ok = s.snapshot(st); !ok {
			for _, f := range flushes {
				f.done <- errors.New("firehose: stream deleted")
			}
			return false
		}
		if !lakeEnabled(cfg.dest) {
			for _, f := range flushes {
				f.done <- errors.New("firehose: configuration changed during flush")
			}
			return true
		}
		if ls.pipeline == nil || ls.pipeline.version != cfg.version {
			p, err := compileLake(cfg)
			if err != nil {
				log.Error("compile lake pipeline", "err", err)
				if !s.pause(ctx, st, s.opts.RetryMax) {
					return false
				}
				continue
			}
			if p.conv != nil {
				p.prepareConverter(ctx, s, st)
			}
			ls.pipeline = p
		}
		p := ls.pipeline
		sizeLimit := int(deref(cfg.dest.BufferingHints.SizeInMBs)) << 20
		interval := time.Duration(deref(cfg.dest.BufferingHints.IntervalInSeconds)) * time.Second
		limit := max(memCap, sizeLimit)

		bounds, err := s.backend.Bounds(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			log.Error("buffer log bounds", "err", err)
			if !s.pause(ctx, st, s.opts.RetryMax) {
				return false
			}
			continue
		}
		if ls.bytes < limit && ls.readPos < bounds.Next && len(ls.failed) == 0 {
			// One JQ deadline per read batch (a context per record costs a
			// timer each): a query that loops fails the rest of its batch.
			jctx, cancel := context.WithTimeout(ctx, jqTimeout)
			next, err := s.backend.Read(ctx, id, ls.readPos, storage.ReadLimits{MaxBytes: p.readLimit(limit - ls.bytes)}, func(r storage.StoredRecord) bool {
				ls.lastMs = r.ArrivalMs
				if p.lambda != nil {
					ls.collect(r) // transformed below, in batches
				} else {
					s.lakeAdd(jctx, ls, st, r)
				}
				return ls.bytes < limit // the cap holds to within one record
			})
			cancel()
			if err == nil && len(ls.pending) > 0 {
				err = s.lakeTransform(ctx, ls, st) // lake_transform.go
			}
			if err != nil {
				if ctx.Err() != nil {
					return false
				}
				log.Error("read buffer log", "err", err)
				if !s.pause(ctx, st, s.opts.RetryMax) {
					return false
				}
				continue
			}
			ls.readPos = next
		}
		s.lakeExpire(ls, st, s.now()) // lake_retention.go
		var deliverErr error
		if len(ls.failed) > 0 {
			if deliverErr = s.writeFailed(ctx, st, cfg, p, ls.failed); deliverErr == nil {
				for _, f := range ls.failed {
					ls.done[lakeErrorsKey] = max(ls.done[lakeErrorsKey], f.rec.pos)
				}
				ls.failed, ls.dirty = nil, true
			}
		}
		now := s.now()
		forced := len(flushes) > 0
		// Partitions due: full, old enough, forced, or the largest ones
		// while memory is over the cap.
		var due []*partition
		var nextDue time.Time
		for _, pt := range ls.parts {
			d := time.UnixMilli(pt.oldest).Add(interval)
			if forced || pt.bytes >= sizeLimit || !now.Before(d) {
				due = append(due, pt)
			} else if nextDue.IsZero() || d.Before(nextDue) {
				nextDue = d
			}
		}
		if !forced && ls.bytes >= limit {
			rest := make([]*partition, 0, len(ls.parts))
			for _, pt := range ls.parts {
				if pt.bytes < sizeLimit && now.Before(time.UnixMilli(pt.oldest).Add(interval)) {
					rest = append(rest, pt)
				}
			}
			sort.Slice(rest, func(i, j int) bool { return rest[i].bytes > rest[j].bytes })
			freed := 0
			for _, pt := range rest {
				if ls.bytes-freed < limit/2 {
					break
				}
				due = append(due, pt)
				freed += pt.bytes
			}
		}
		if deliverErr == nil && len(due) > 0 {
			expired := false
			if d, ok := retryDuration(cfg.dest); ok && !failingSince.IsZero() && s.now().Sub(failingSince) >= d {
				expired = true
			}
			if p.conv != nil {
				p.prepareConverter(ctx, s, st) // once, before the parallel deliveries share it
			}
			// Up to lakeUploads partitions deliver at once: with hundreds of
			// partitions the S3 round trips, not the CPU, bound throughput.
			errs := make([]error, len(due))
			sem := make(chan struct{}, lakeUploads)
			var wg sync.WaitGroup
			for i, pt := range due {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					if expired {
						b := buffer{}
						for _, r := range pt.recs.all() {
							b.recs = append(b.recs, r.data)
							b.arrivals = append(b.arrivals, r.arrival)
						}
						errs[i] = s.deliverErrorOutput(ctx, st, cfg, &b, errors.New("delivery to the partition's prefix kept failing"), failures)
					} else {
						errs[i] = s.deliverPartition(ctx, st, cfg, p, pt)
					}
				}()
			}
			wg.Wait()
			for i, pt := range due {
				if errs[i] != nil {
					deliverErr = errs[i]
					continue
				}
				delete(ls.parts, pt.prefix)
				ls.bytes -= pt.bytes
				ls.done[pt.prefix] = max(ls.done[pt.prefix], pt.recs.last().pos)
				ls.dirty = true
			}
		}
		bkDue, bkMore, bkErr := s.lakeBackupStep(ctx, st, cfg, &ls.backup, forced) // lake_backup.go
		flushes = failFlushes(flushes, bkErr)
		if deliverErr != nil {
			if ctx.Err() != nil {
				return false
			}
			if failingSince.IsZero() {
				failingSince = s.now()
			}
			failures++
			st.m.failures.Add(1)
			msg := deliverErr.Error()
			st.failure.Store(&msg)
			backoff := min(s.opts.RetryBase<<min(failures-1, 20), s.opts.RetryMax)
			log.Warn("delivery failed; will retry", "err", deliverErr, "attempt", failures, "backoff", backoff)
			for _, f := range flushes {
				f.done <- deliverErr
			}
			flushes = flushes[:0]
			fr, ok := s.wait(ctx, st, nil, backoff)
			if !ok {
				return false
			}
			if fr != nil {
				flushes = append(flushes, s.flushTarget(ctx, id, fr))
			}
			continue
		}
		if len(due) > 0 {
			failures, failingSince = 0, time.Time{}
			st.failure.Store(nil)
		}
		delivered := s.lakeCheckpoint(ctx, st, ls)
		flushes = replyFlushes(flushes, delivered)
		if bkMore || ls.readPos < bounds.Next && ls.bytes < limit {
			continue // more to read now
		}
		if forced && len(ls.parts) == 0 && ls.readPos < bounds.Next {
			continue
		}
		oldest := int64(0)
		for _, pt := range ls.parts {
			if oldest == 0 || pt.oldest < oldest {
				oldest = pt.oldest
			}
		}
		st.m.oldestPendingMs.Store(oldest)
		wait := time.Duration(0)
		if nextDue = earlier(nextDue, bkDue); !nextDue.IsZero() {
			wait = max(nextDue.Sub(s.now()), time.Millisecond)
		}
		var watch <-chan struct{}
		if ls.bytes < limit {
			watch = s.backend.Watch(id, ls.readPos)
		}
		fr, ok := s.wait(ctx, st, watch, wait)
		if !ok {
			return false
		}
		if fr != nil {
			flushes = append(flushes, s.flushTarget(ctx, id, fr))
		}
	}
}

// lakeAdd de-aggregates, partitions and buffers one log record.
func (s *Service) lakeAdd(ctx context.Context, ls *lakeState, st *stream, r storage.StoredRecord) {
	p := ls.pipeline
	subs, err := p.splitRecord(r.Data)
	if err != nil {
		ls.fail(failedRec{rec: lakeRec{pos: r.Pos, arrival: r.ArrivalMs, data: append([]byte(nil), r.Data...)},
			errType: errTypePartitioning, code: "DynamicPartitioning.DeAggregationFailed", msg: err.Error()})
		return
	}
	for i, sub := range subs {
		s.lakePlace(ctx, ls, st, lakeRec{pos: r.Pos, sub: i, arrival: r.ArrivalMs, data: append([]byte(nil), sub...)})
	}
}

// fail queues f for the error output unless it was written before a restart.
func (ls *lakeState) fail(f failedRec) {
	if d, ok := ls.done[lakeErrorsKey]; !ok || f.rec.pos > d {
		ls.failed = append(ls.failed, f)
	}
}

// lakePlace extracts a (de-aggregated, transformed) record's partition
// keys, evaluates its prefix and buffers it in that partition (rows are
// converted at delivery, lake_flush.go).
func (s *Service) lakePlace(ctx context.Context, ls *lakeState, st *stream, rec lakeRec) {
	p := ls.pipeline
	if p.query != nil {
		keys, err := p.partitionKeys(ctx, rec.data)
		if err != nil {
			ls.fail(failedRec{rec: rec, errType: errTypePartitioning, code: "DynamicPartitioning.MetadataExtractionFailed", msg: err.Error()})
			return
		}
		rec.keys = keys
	}
	prefix := ""
	if p.dp {
		if err := p.checkLambdaKeys(rec.lkeys); err != nil {
			ls.fail(failedRec{rec: rec, errType: errTypePartitioning, code: "DynamicPartitioning.LambdaPartitionKeyMissing", msg: err.Error()})
			return
		}
		prefix = p.prefix.EvalPartition(time.UnixMilli(rec.arrival).In(p.loc), rec.keys, rec.lkeys)
		if len(prefix) > s3dest.MaxEvaluatedPrefix {
			ls.fail(failedRec{rec: rec, errType: errTypePartitioning, code: "DynamicPartitioning.PrefixTooLong",
				msg: fmt.Sprintf("The evaluated prefix is longer than %d characters.", s3dest.MaxEvaluatedPrefix)})
			return
		}
	}
	if d, ok := ls.done[prefix]; ok && rec.pos <= d {
		return // written before a restart
	}
	pt := ls.parts[prefix]
	if pt == nil {
		if len(ls.parts) >= maxPartitions {
			st.m.partitionCountExceeded.Add(1)
			ls.fail(failedRec{rec: rec, errType: errTypePartitioning, code: "DynamicPartitioning.PartitionCountExceeded",
				msg: fmt.Sprintf("The number of active partitions exceeds the limit of %d.", maxPartitions)})
			return
		}
		pt = &partition{prefix: prefix, minPos: rec.pos, oldest: rec.arrival}
		ls.parts[prefix] = pt
	}
	size := len(rec.data) + pt.share(&rec) // see lake_recs.go
	pt.recs.add(rec)
	pt.bytes += size
	ls.bytes += size
}

// lakeCheckpoint saves the smallest undelivered position and trims the log
// below the oldest undelivered arrival; it returns the delivered position.
func (s *Service) lakeCheckpoint(ctx context.Context, st *stream, ls *lakeState) uint64 {
	pos := ls.readPos
	var cutoff int64 = -1
	for _, pt := range ls.parts {
		if pt.minPos < pos {
			pos = pt.minPos
		}
		if cutoff < 0 || pt.oldest < cutoff {
			cutoff = pt.oldest
		}
	}
	for _, f := range ls.failed {
		if f.rec.pos < pos {
			pos = f.rec.pos
		}
	}
	if cutoff < 0 && len(ls.pending) == 0 {
		// Every record read is delivered: trim below the last one (those
		// not read yet arrived at or after it).
		cutoff = ls.lastMs
	}
	ls.backup.bound(&pos, &cutoff) // lake_backup.go
	// done marks below pos can no longer match a re-read record.
	for k, v := range ls.done {
		if v < pos {
			delete(ls.done, k)
			ls.dirty = true
		}
	}
	s.mu.Lock()
	changed := st.meta.Delivered != pos
	st.meta.Delivered = pos
	if ls.dirty {
		st.meta.LakeDone = make(map[string]uint64, len(ls.done))
		for k, v := range ls.done {
			st.meta.LakeDone[k] = v
		}
		if len(ls.done) == 0 {
			st.meta.LakeDone = nil
		}
	}
	s.mu.Unlock()
	if !changed && !ls.dirty {
		return pos
	}
	ls.dirty = false
	if err := s.saveCheckpoint(st); err != nil {
		s.log.Error("save delivery checkpoint", "stream", st.meta.Name, "err", err)
	}
	if cutoff > 0 && len(ls.failed) == 0 {
		if err := s.backend.Trim(ctx, st.meta.shardID(), cutoff); err != nil && ctx.Err() == nil {
			s.log.Warn("trim buffer log", "stream", st.meta.Name, "err", err)
		}
	}
	return pos
}

// deliverPartition uploads one partition as one object.
func (s *Service) deliverPartition(ctx context.Context, st *stream, cfg deliveryConfig, p *lakePipeline, pt *partition) error {
	c := cfg.dest
	t := time.UnixMilli(pt.oldest).In(p.loc)
	prefix := s3dest.ResolveRandom(pt.prefix)
	if !p.dp {
		prefix = p.prefix.Eval(t, "")
	}
	uuid := s3dest.NewUUID()
	bucket, _ := s3dest.BucketFromARN(deref(c.BucketARN))
	up := s.uploader(cfg.endpoint)
	var data []byte
	var ext, encoding string
	records := pt.recs.len()
	rawBytes := 0
	if p.conv != nil {
		out, rows, fails, err := s.convertPartition(ctx, st, p, pt)
		if err != nil {
			return err
		}
		if len(fails) > 0 {
			if err := s.writeFailed(ctx, st, cfg, p, fails); err != nil {
				return err
			}
		}
		if rows == 0 {
			return nil
		}
		data, records, ext = out, rows, ".parquet"
		rawBytes = len(out)
	} else {
		recs := make([][]byte, pt.recs.len())
		for i, r := range pt.recs.all() {
			recs[i] = r.data
		}
		body := concat(recs, p.appendDelim)
		rawBytes = len(body)
		format := deref(c.CompressionFormat)
		var err error
		if data, err = s3dest.Compress(format, body, uuid); err != nil {
			return err
		}
		ext, encoding = s3dest.Extension(format), s3dest.ContentEncoding(format)
	}
	if fe := deref(c.FileExtension); fe != "" {
		ext = fe
	}
	key := s3dest.ObjectKey(prefix, cfg.name, cfg.version, t, uuid, ext)
	if err := up.Put(ctx, bucket, key, data, encoding); err != nil {
		return err
	}
	st.m.success.Add(1)
	st.m.objects.Add(1)
	st.m.deliveredRecords.Add(int64(records))
	st.m.deliveredBytes.Add(int64(rawBytes))
	return nil
}

// prepareConverter reads the Glue table and (re)builds the converter when
// its version changed; a failure is kept in p.convErr for every record of
// this round.
func (p *lakePipeline) prepareConverter(ctx context.Context, s *Service, st *stream) {
	p.convErr = ""
	sc := p.conv.SchemaConfiguration
	if s.opts.Catalog == nil {
		p.convErr = "No Glue Data Catalog is available."
		return
	}
	region := deref(sc.Region)
	if region == "" {
		region = st.meta.Region
	}
	schema, err := s.opts.Catalog.TableSchema(ctx, st.meta.Account, region, deref(sc.CatalogId), deref(sc.DatabaseName), deref(sc.TableName), deref(sc.VersionId))
	if err != nil {
		p.convErr = "The Glue table could not be read: " + err.Error()
		return
	}
	if p.converter == nil || p.convVersion != schema.VersionID {
		conv, err := newConverter(p.conv, schema)
		if err != nil {
			p.convErr = "The Glue table's schema cannot be used: " + err.Error()
			return
		}
		p.converter, p.convVersion = conv, schema.VersionID
	}
}

func newConverter(f *formatConversion, schema glue.TableSchema) (*convert.Converter, error) {
	cols := make([]convert.Column, len(schema.Columns))
	for i, c := range schema.Columns {
		cols[i] = convert.Column{Name: c.Name, Type: c.Type}
	}
	var d convert.Deserializer
	if h := f.InputFormatConfiguration.Deserializer.HiveJsonSerDe; h != nil {
		d = convert.Deserializer{Hive: true, TimestampFormats: h.TimestampFormats}
	} else {
		o := f.InputFormatConfiguration.Deserializer.OpenXJsonSerDe
		d = convert.Deserializer{CaseInsensitive: o.CaseInsensitive == nil || *o.CaseInsensitive,
			DotsToUnderscores: deref(o.ConvertDotsInJsonKeysToUnderscores), Mappings: o.ColumnToJsonKeyMappings}
	}
	ps := f.OutputFormatConfiguration.Serializer.ParquetSerDe
	opts := convert.ParquetOptions{Compression: deref(ps.Compression), BlockSize: int(deref(ps.BlockSizeBytes)),
		PageSize: int(deref(ps.PageSizeBytes)), Dictionary: ps.EnableDictionaryCompression == nil || *ps.EnableDictionaryCompression,
		WriterVersion: deref(ps.WriterVersion)}
	return convert.NewConverter(cols, d, opts)
}

// conversionErrorRecord is one line of a format-conversion-failed object.
type conversionErrorRecord struct {
	AttemptsMade           int              `json:"attemptsMade"`
	ArrivalTimestamp       int64            `json:"arrivalTimestamp"`
	LastErrorCode          string           `json:"lastErrorCode"`
	LastErrorMessage       string           `json:"lastErrorMessage"`
	AttemptEndingTimestamp int64            `json:"attemptEndingTimestamp"`
	RawData                []byte           `json:"rawData"`
	SequenceNumber         string           `json:"sequenceNumber"`
	SubSequenceNumber      int              `json:"subSequenceNumber"`
	DataCatalogTable       dataCatalogTable `json:"dataCatalogTable"`
}

type dataCatalogTable struct {
	CatalogId    string `json:"catalogId"`
	DatabaseName string `json:"databaseName"`
	TableName    string `json:"tableName"`
	Region       string `json:"region"`
	VersionId    string `json:"versionId"`
	CatalogArn   string `json:"catalogArn"`
}

// writeFailed writes failed records to the error output, one object per
// error type and evaluated error prefix.
func (s *Service) writeFailed(ctx context.Context, st *stream, cfg deliveryConfig, p *lakePipeline, fails []failedRec) error {
	type group struct {
		prefix, errType string
		oldest          int64
		body            []byte
		n               int
	}
	groups := map[string]*group{}
	var order []string
	nowMs := s.now().UnixMilli()
	for _, f := range fails {
		t := time.UnixMilli(f.rec.arrival).In(p.loc)
		prefix := p.errPrefix.EvalKeys(t, f.errType, f.rec.keys, f.rec.lkeys)
		k := f.errType + "\x00" + prefix
		g := groups[k]
		if g == nil {
			g = &group{prefix: prefix, errType: f.errType, oldest: f.rec.arrival}
			groups[k] = g
			order = append(order, k)
		}
		var line []byte
		var err error
		if f.errType == errTypeConversion {
			sc := p.conv.SchemaConfiguration
			region := deref(sc.Region)
			if region == "" {
				region = st.meta.Region
			}
			catalog := deref(sc.CatalogId)
			if catalog == "" {
				catalog = st.meta.Account
			}
			line, err = json.Marshal(conversionErrorRecord{AttemptsMade: 1, ArrivalTimestamp: f.rec.arrival, LastErrorCode: f.code,
				LastErrorMessage: f.msg, AttemptEndingTimestamp: nowMs, RawData: f.rec.data,
				SequenceNumber: strconv.FormatUint(f.rec.pos, 10), SubSequenceNumber: f.rec.sub,
				DataCatalogTable: dataCatalogTable{CatalogId: catalog, DatabaseName: deref(sc.DatabaseName), TableName: deref(sc.TableName),
					Region: region, VersionId: p.convVersion, CatalogArn: "arn:aws:glue:" + region + ":" + catalog + ":catalog"}})
		} else if f.errType == processingFailedType {
			line, err = json.Marshal(failedRecord{errorRecord: errorRecord{AttemptsMade: f.attempts, ArrivalTimestamp: f.rec.arrival,
				ErrorCode: f.code, ErrorMessage: f.msg, AttemptEndingTimestamp: nowMs, RawData: f.rec.data}, LambdaArn: f.lambdaArn})
		} else {
			line, err = json.Marshal(errorRecord{AttemptsMade: 1, ArrivalTimestamp: f.rec.arrival, ErrorCode: f.code,
				ErrorMessage: f.msg, AttemptEndingTimestamp: nowMs, RawData: f.rec.data})
		}
		if err != nil {
			return fmt.Errorf("error record: %w", err)
		}
		g.body = append(append(g.body, line...), '\n')
		g.n++
	}
	bucket, _ := s3dest.BucketFromARN(deref(cfg.dest.BucketARN))
	up := s.uploader(cfg.endpoint)
	for _, k := range order {
		g := groups[k]
		t := time.UnixMilli(g.oldest).In(p.loc)
		key := s3dest.ObjectKey(g.prefix, cfg.name, cfg.version, t, s3dest.NewUUID(), "")
		if err := up.Put(ctx, bucket, key, g.body, ""); err != nil {
			return fmt.Errorf("error output: %w", err)
		}
		st.m.errorOutputRecords.Add(int64(g.n))
	}
	return nil
}
