package firehose

// The KinesisStreamAsSource reader: copies the source data stream into the
// delivery stream's buffer log through the in-process Data Streams API
// (SourceStreams, implemented by *kinesis.Service), without HTTP, signing
// or shard iterators. Shards are read in lineage order (a child only after
// its parents are finished), aggregated KPL records are split, and the last
// sequence number appended per shard is checkpointed after each append, so
// a restart resumes after it (at least once). An idle reader waits on the
// shards' Watch channels, not on a timer.
//
// Checkpoint format (streamMeta.Shards, and the cluster key
// firehose-ckpt-<id>): per source shard id, the sequence number of the last
// record appended ("seq", as before the in-process reader: its log position
// is the sequence number's position field) and "done" for a finished shard;
// "stream" stamps the entry with the source stream's creation time, so the
// progress of a deleted and recreated stream of the same name is not applied
// to the new one. An entry without the stamp (written before it existed)
// belongs to whichever incarnation the reader finds first.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/eddy-streams/eddy/internal/kinesis"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/pkg/kpl"
)

// SourceStreams is the in-process Data Streams API a KinesisStreamAsSource
// reader uses (*kinesis.Service).
type SourceStreams interface {
	ResolveARN(arn string) (kinesis.StreamRef, error)
	Shards(ref kinesis.StreamRef) ([]kinesis.ShardInfo, error)
	Bounds(ctx context.Context, ref kinesis.StreamRef, shard uint32) (kinesis.ShardBounds, error)
	PosAtTime(ctx context.Context, ref kinesis.StreamRef, shard uint32, ms int64) (uint64, error)
	Read(ctx context.Context, ref kinesis.StreamRef, shard uint32, from uint64, max int, fn func(kinesis.InprocRecord) bool) (uint64, error)
	Watch(ref kinesis.StreamRef, shard uint32, next uint64) <-chan struct{}
}

// kinesisReadMax bounds the records read from one shard per pass (the
// GetRecords limits): the record that reaches the byte bound is the last.
const (
	kinesisReadMax   = 10000
	kinesisReadBytes = 10 << 20
)

// sourceReader is the state of one stream's reader.
type sourceReader struct {
	s      *Service
	st     *stream
	arn    string
	start  int64 // DeliveryStartTimestamp, ms
	id     storage.ShardID
	ref    kinesis.StreamRef
	hasRef bool
	next   map[string]uint64 // shard id -> next position to read (this incarnation)
	gone   bool              // the source was missing at the last attempt (logged once)
}

// kinesisLoop runs the reader until ctx ends or the stream stops.
func (s *Service) kinesisLoop(ctx context.Context, st *stream) {
	s.mu.Lock()
	r := &sourceReader{s: s, st: st, arn: deref(st.meta.KinesisSource.KinesisStreamARN), start: st.meta.StartMs,
		id: st.meta.shardID(), next: map[string]uint64{}}
	s.mu.Unlock()
	log := s.log.With("stream", st.meta.Name, "source", r.arn)
	for {
		busy, watches, err := r.pass(ctx)
		if err != nil && ctx.Err() == nil {
			if errors.Is(err, kinesis.ErrStreamGone) {
				if !r.gone {
					log.Warn("source stream gone; waiting for it", "err", err)
				}
				r.gone = true
			} else {
				log.Warn("read source stream", "err", err)
			}
		}
		if busy && err == nil {
			select {
			case <-ctx.Done():
				return
			case <-st.stop:
				return
			default:
			}
			continue
		}
		if !r.wait(ctx, watches, err != nil || len(watches) == 0) {
			return
		}
	}
}

// wait blocks until a watched shard has news, or (retry) the poll interval
// passed. False when the reader must stop.
func (r *sourceReader) wait(ctx context.Context, watches []<-chan struct{}, retry bool) bool {
	cases := make([]reflect.SelectCase, 0, len(watches)+3)
	cases = append(cases,
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(r.st.stop)})
	if retry {
		t := time.NewTimer(r.s.opts.KinesisPollInterval)
		defer t.Stop()
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.C)})
	}
	for _, w := range watches {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(w)})
	}
	i, _, _ := reflect.Select(cases)
	return i >= 2
}

// resolve finds the source stream's current incarnation and drops the
// progress of any other.
func (r *sourceReader) resolve() error {
	if r.hasRef {
		return nil
	}
	if r.s.opts.Streams == nil {
		return fmt.Errorf("%w: Data Streams is not available on this server", kinesis.ErrStreamGone)
	}
	ref, err := r.s.opts.Streams.ResolveARN(r.arn)
	if err != nil {
		return err
	}
	r.s.mu.Lock()
	for id, p := range r.st.meta.Shards {
		if p != nil && p.Stream != 0 && p.Stream != ref.CreatedMs {
			delete(r.st.meta.Shards, id) // a former incarnation's shard
		}
	}
	r.s.mu.Unlock()
	if r.gone {
		r.s.log.Info("source stream found", "stream", r.st.meta.Name, "source", r.arn, "createdMs", ref.CreatedMs)
	}
	r.ref, r.hasRef, r.gone = ref, true, false
	clear(r.next)
	return nil
}

// pass reads once from every readable shard. busy reports that some shard
// returned records (or finished) and may have more; watches are the
// channels of the shards at their tip.
func (r *sourceReader) pass(ctx context.Context) (busy bool, watches []<-chan struct{}, err error) {
	if err := r.resolve(); err != nil {
		return false, nil, err
	}
	src := r.s.opts.Streams
	shards, err := src.Shards(r.ref)
	if err != nil {
		r.hasRef = false
		return false, nil, fmt.Errorf("list shards: %w", err)
	}
	known := make(map[string]bool, len(shards))
	for _, sh := range shards {
		known[sh.ID] = true
	}
	var behind int64
	defer func() { r.st.m.kdsBehindMs.Store(behind) }()
	for _, sh := range shards {
		r.s.mu.Lock()
		prog := r.st.meta.Shards[sh.ID]
		ready := prog == nil || !prog.Done
		for _, p := range []string{sh.Parent, sh.AdjacentParent} {
			if p != "" && known[p] {
				if pp := r.st.meta.Shards[p]; pp == nil || !pp.Done {
					ready = false
				}
			}
		}
		var seq string
		if prog != nil {
			seq = prog.Seq
		}
		r.s.mu.Unlock()
		if !ready {
			continue
		}
		b, w, lag, err := r.readShard(ctx, sh, seq)
		behind = max(behind, lag)
		if err != nil {
			// resolve again and restart every shard from its checkpoint
			r.hasRef = false
			return busy, nil, err
		}
		busy = busy || b
		if w != nil {
			watches = append(watches, w)
		}
	}
	return busy, watches, nil
}

// readShard appends the next records of one shard to the buffer log and
// checkpoints them. It returns the shard's watch channel when the shard
// is at its tip (nil when it finished or may have more).
func (r *sourceReader) readShard(ctx context.Context, sh kinesis.ShardInfo, seq string) (busy bool, watch <-chan struct{}, behind int64, err error) {
	src := r.s.opts.Streams
	pos, ok := r.next[sh.ID]
	if !ok {
		if pos, err = r.startPos(ctx, sh, seq); err != nil {
			return false, nil, 0, err
		}
		r.next[sh.ID] = pos
	}
	var recs []storage.Record
	nsrc, nbytes, lastArr := 0, 0, int64(0)
	end, err := src.Read(ctx, r.ref, sh.Index, pos, kinesisReadMax, func(rec kinesis.InprocRecord) bool {
		nsrc++
		nbytes += len(rec.Data)
		data := append([]byte(nil), rec.Data...) // rec aliases storage buffers
		sq, arr := rec.SequenceNumber(), rec.ArrivalMs
		// the source metadata rides in the buffered record's partition key,
		// rendered as the kinesisRecordMetadata of Lambda transformation
		// events (transform.go)
		if subs, ok := kpl.Deaggregate(data); ok {
			for i, sub := range subs {
				recs = append(recs, storage.Record{Data: sub.Data, PartitionKey: string(sourceMetadata(sh.ID, sub.PartitionKey, sq, i, arr))})
			}
		} else {
			recs = append(recs, storage.Record{Data: data, PartitionKey: string(sourceMetadata(sh.ID, string(rec.PartitionKey), sq, 0, arr))})
		}
		seq, lastArr = sq, arr
		return nbytes < kinesisReadBytes
	})
	if err != nil {
		return false, nil, 0, fmt.Errorf("read %s: %w", sh.ID, err)
	}
	if len(recs) > 0 {
		if _, err := r.s.backend.Append(ctx, r.id, recs); err != nil {
			return false, nil, 0, fmt.Errorf("append to buffer: %w", err) // re-read from r.next
		}
		st := r.st
		st.m.kdsRecords.Add(int64(nsrc))
		st.m.kdsBytes.Add(int64(nbytes))
		inBytes := 0
		for _, rec := range recs {
			inBytes += len(rec.Data)
		}
		st.m.incomingRecords.Add(int64(len(recs)))
		st.m.incomingBytes.Add(int64(inBytes))
	}
	r.next[sh.ID] = end
	b, err := src.Bounds(ctx, r.ref, sh.Index)
	if err != nil {
		return false, nil, 0, fmt.Errorf("bounds of %s: %w", sh.ID, err)
	}
	done := b.Sealed && end >= b.Next
	if end < b.Next && lastArr > 0 {
		behind = max(0, r.s.now().UnixMilli()-lastArr)
	}
	if nsrc > 0 || done {
		if err := r.checkpoint(sh.ID, seq, done); err != nil {
			return true, nil, behind, err
		}
	}
	switch {
	case done:
		return true, nil, behind, nil // children may be readable now
	case nsrc > 0 && end < b.Next:
		return true, nil, behind, nil // more to read
	}
	return nsrc > 0, src.Watch(r.ref, sh.Index, end), behind, nil
}

// startPos is where a shard's reading begins: after the checkpointed
// sequence number, else at the delivery stream's start time.
func (r *sourceReader) startPos(ctx context.Context, sh kinesis.ShardInfo, seq string) (uint64, error) {
	if seq != "" {
		f, err := shardmap.DecodeSeq(seq)
		if err == nil && f.ShardIndex == sh.Index && f.Pos > 0 && f.Pos < shardmap.EndPos {
			return f.Pos, nil // a record's Pos field is its log position + 1
		}
		r.s.log.Warn("checkpoint names no record of the shard; reading from the delivery start", "stream", r.st.meta.Name,
			"shard", sh.ID, "seq", seq)
	}
	pos, err := r.s.opts.Streams.PosAtTime(ctx, r.ref, sh.Index, r.start)
	if err != nil {
		return 0, fmt.Errorf("position at %d in %s: %w", r.start, sh.ID, err)
	}
	return pos, nil
}

func (r *sourceReader) checkpoint(shardID, seq string, done bool) error {
	r.s.mu.Lock()
	if r.st.meta.Shards == nil {
		r.st.meta.Shards = map[string]*shardProgress{}
	}
	r.st.meta.Shards[shardID] = &shardProgress{Seq: seq, Done: done, Stream: r.ref.CreatedMs}
	r.s.mu.Unlock()
	return r.s.saveCheckpoint(r.st)
}
