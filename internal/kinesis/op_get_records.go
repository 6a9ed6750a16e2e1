package kinesis

// GetRecords reads up to Limit (default and max 10,000) records or 10 MiB
// from an iterator's position and always returns a fresh NextShardIterator,
// except at the end of a closed shard, where NextShardIterator is null and
// ChildShards lists the children with their parents (the invariant the KCL
// checks). Records carry SequenceNumber, ApproximateArrivalTimestamp (ms),
// Data, PartitionKey and, on encrypted streams, EncryptionType.
// MillisBehindLatest is 0 when caught up, else the tip's arrival time minus
// that of the last record returned. Iterators expire after 5 minutes and may
// arrive wrapped in double quotes (AWS accepts that). Reads see only durable
// records. With --enforce-limits: 5 calls/s and 2 MiB/s per shard.

import (
	"encoding/base64"
	"strconv"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

const (
	maxGetRecords      = 10000
	maxGetRecordsBytes = 10 << 20
)

type getRecordsInput struct {
	ShardIterator *string `json:"ShardIterator"`
	Limit         *int64  `json:"Limit"`
	StreamARN     *string `json:"StreamARN"`
}

type recordShape struct {
	SequenceNumber              string              `json:"SequenceNumber"`
	ApproximateArrivalTimestamp *awsproto.Timestamp `json:"ApproximateArrivalTimestamp"`
	Data                        []byte              `json:"Data"`
	PartitionKey                string              `json:"PartitionKey"`
	EncryptionType              *string             `json:"EncryptionType,omitempty"`
}

type getRecordsOutput struct {
	Records            []recordShape `json:"Records"`
	NextShardIterator  *string       `json:"NextShardIterator,omitempty"`
	MillisBehindLatest int64         `json:"MillisBehindLatest"`
	ChildShards        []childShard  `json:"ChildShards,omitempty"`
}

func init() { register("GetRecords", (*Service).getRecords) }

// readTarget is a resolved, checked iterator.
type readTarget struct {
	st *stream
	sh *shard
	it shardmap.Iterator
}

func (s *Service) openIterator(raw string) (readTarget, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	it, err := s.iters.Decode(raw)
	if err != nil {
		return readTarget{}, awserr.InvalidArgument("Invalid ShardIterator.")
	}
	now := s.nowMs()
	if now-it.IssuedMs > s.opt.IteratorTTL.Milliseconds() {
		return readTarget{}, awserr.ExpiredIterator("Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			amzTime(it.IssuedMs), amzTime(now), s.opt.IteratorTTL.Milliseconds())
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.streams[nsKey{it.Account, it.Region, it.StreamName}]
	var sh *shard
	if st != nil && st.CreatedMs == it.StreamCreated {
		sh = st.shard(it.ShardIndex)
	}
	if sh == nil {
		return readTarget{}, awserr.ResourceNotFound("Shard %s in stream %s under account %s does not exist", shardID(it.ShardIndex), it.StreamName, it.Account)
	}
	return readTarget{st: st, sh: sh, it: it}, nil
}

func (s *Service) getRecords(r *awsproto.Request) (any, error) {
	var in getRecordsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.ShardIterator == nil {
		v.Add(nil, "shardIterator", "Member must not be null")
	} else {
		checkLen(&v, *in.ShardIterator, "shardIterator", 1, 512)
	}
	checkRange(&v, in.Limit, "limit", 1, maxGetRecords)
	if err := v.Err(); err != nil {
		return nil, err
	}
	t, err := s.openIterator(*in.ShardIterator)
	if err != nil {
		return nil, err
	}
	id := storage.ShardID{Stream: t.st.ID, Index: t.sh.Index}
	if s.opt.EnforceLimits && !s.limits.take(t.st.ID, t.sh.Index, []uint8{2, 3}, []float64{0, 1}) {
		return nil, awserr.ThroughputExceeded("Rate exceeded for Shard - %s in stream %s under account %s.", t.sh.id, t.st.Name, t.st.Account)
	}
	limit := maxGetRecords
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	s.mu.RLock()
	encType := t.st.Encryption
	s.mu.RUnlock()

	var enc recordEncoder
	if r.Codec == awsproto.JSON {
		enc = newJSONRecords(t.sh, encType)
	} else {
		enc = &shapeRecords{sh: t.sh, enc: encType}
	}
	lastMs := int64(0)
	bytes := 0
	next, err := s.backend.Read(r.Ctx, id, t.it.Pos, storage.ReadLimits{MaxRecords: limit, MaxBytes: maxGetRecordsBytes}, func(rec storage.StoredRecord) bool {
		enc.add(rec)
		lastMs = rec.ArrivalMs
		bytes += len(rec.Data) + len(rec.PartitionKey)
		return true
	})
	if err != nil {
		return nil, s.storageErr("GetRecords", err)
	}
	if s.opt.EnforceLimits && bytes > 0 {
		s.limits.debt(t.st.ID, t.sh.Index, 2, float64(bytes))
	}
	b, err := s.backend.Bounds(r.Ctx, id)
	if err != nil {
		return nil, s.storageErr("GetRecords", err)
	}
	if next < b.Trim {
		next = b.Trim
	}
	var behind int64
	if next < b.Next {
		if lastMs == 0 {
			lastMs = s.nowMs()
		}
		behind = max(0, b.TipMs-lastMs)
	}
	var nextIt *string
	var children []childShard
	s.mu.RLock()
	closed := !t.sh.open()
	if closed && b.Sealed && next >= b.Next {
		children = t.st.children(t.sh)
	}
	s.mu.RUnlock()
	if children == nil {
		n := s.iters.Encode(shardmap.Iterator{Account: t.it.Account, Region: t.it.Region, StreamName: t.it.StreamName, StreamCreated: t.it.StreamCreated, ShardIndex: t.it.ShardIndex, Pos: next, IssuedMs: s.nowMs()})
		nextIt = &n
	}
	return enc.finish(r.Codec, nextIt, behind, children)
}

// recordEncoder builds a GetRecords response while records stream by.
type recordEncoder interface {
	add(storage.StoredRecord)
	finish(c awsproto.Codec, next *string, behind int64, children []childShard) (any, error)
}

// shapeRecords collects record shapes for a generic (CBOR) encode.
type shapeRecords struct {
	sh   *shard
	enc  string
	recs []recordShape
}

func (e *shapeRecords) add(r storage.StoredRecord) {
	rs := recordShape{
		SequenceNumber:              recordSeq(e.sh, r.Pos, r.ArrivalMs),
		ApproximateArrivalTimestamp: awsproto.TSMillis(r.ArrivalMs),
		Data:                        append(make([]byte, 0, len(r.Data)), r.Data...), // empty, never null
		PartitionKey:                string(r.PartitionKey),
	}
	if e.enc == "KMS" {
		k := "KMS"
		rs.EncryptionType = &k
	}
	e.recs = append(e.recs, rs)
}

func (e *shapeRecords) finish(_ awsproto.Codec, next *string, behind int64, children []childShard) (any, error) {
	if e.recs == nil {
		e.recs = []recordShape{}
	}
	return getRecordsOutput{Records: e.recs, NextShardIterator: next, MillisBehindLatest: behind, ChildShards: children}, nil
}

// jsonRecords writes the JSON response directly: no per-record structs.
type jsonRecords struct {
	sh    *shard
	kms   bool
	buf   []byte
	count int
}

func newJSONRecords(sh *shard, enc string) *jsonRecords {
	e := &jsonRecords{sh: sh, kms: enc == "KMS", buf: make([]byte, 0, 4096)}
	e.buf = append(e.buf, `{"Records":[`...)
	return e
}

func (e *jsonRecords) add(r storage.StoredRecord) {
	if e.count > 0 {
		e.buf = append(e.buf, ',')
	}
	e.count++
	b := e.buf
	b = append(b, `{"SequenceNumber":"`...)
	b = shardmap.AppendSeq(b, recordSeqFields(e.sh, r.Pos, r.ArrivalMs))
	b = append(b, `","ApproximateArrivalTimestamp":`...)
	b = awsproto.AppendEpochSeconds(b, r.ArrivalMs)
	b = append(b, `,"Data":"`...)
	n := base64.StdEncoding.EncodedLen(len(r.Data))
	b = growBy(b, n)
	base64.StdEncoding.Encode(b[len(b)-n:], r.Data)
	b = append(b, `","PartitionKey":`...)
	b = awsproto.AppendJSONString(b, r.PartitionKey)
	if e.kms {
		b = append(b, `,"EncryptionType":"KMS"`...)
	}
	b = append(b, '}')
	e.buf = b
}

func growBy(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

func (e *jsonRecords) finish(c awsproto.Codec, next *string, behind int64, children []childShard) (any, error) {
	b := append(e.buf, ']')
	if next != nil {
		b = append(b, `,"NextShardIterator":"`...)
		b = append(b, *next...) // base64: no escaping needed
		b = append(b, '"')
	}
	b = append(b, `,"MillisBehindLatest":`...)
	b = strconv.AppendInt(b, behind, 10)
	if len(children) > 0 {
		cb, err := awsproto.Encode(c, children)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"ChildShards":`...)
		b = append(b, cb...)
	}
	b = append(b, '}')
	return awsproto.Raw(b), nil
}
