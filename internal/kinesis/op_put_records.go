package kinesis

// PutRecords writes 1–500 records. Each goes to the open shard whose hash
// range holds MD5(PartitionKey) as an unsigned 128-bit number, or its
// ExplicitHashKey. The records bound for one shard are appended as one batch
// (one frame, one fsync shared through group commit); batches for different
// shards are appended in parallel. Results come back in request order; a
// record refused by the throughput quota (--enforce-limits) or by a storage
// failure carries ErrorCode/ErrorMessage and is counted in FailedRecordCount
// while the others succeed. Ordering holds per shard, as on AWS.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

const (
	maxPutRecordsCount = 500
	maxPutRecordsBytes = 10 << 20 // data + partition keys
	maxModelDataBytes  = 10 << 20
)

type putRecordsEntry struct {
	Data            []byte  `json:"Data"`
	PartitionKey    *string `json:"PartitionKey"`
	ExplicitHashKey *string `json:"ExplicitHashKey"`
}

type putRecordsInput struct {
	StreamName *string           `json:"StreamName"`
	StreamARN  *string           `json:"StreamARN"`
	Records    []putRecordsEntry `json:"Records"`

	arena *[]byte // pooled buffer the fast decoder put Data in
}

type putRecordsResultEntry struct {
	SequenceNumber *string `json:"SequenceNumber,omitempty"`
	ShardId        *string `json:"ShardId,omitempty"`
	ErrorCode      *string `json:"ErrorCode,omitempty"`
	ErrorMessage   *string `json:"ErrorMessage,omitempty"`
}

type putRecordsOutput struct {
	FailedRecordCount int                     `json:"FailedRecordCount"`
	Records           []putRecordsResultEntry `json:"Records"`
	EncryptionType    string                  `json:"EncryptionType"`
}

func init() { register("PutRecords", (*Service).putRecords) }

func (s *Service) putRecords(r *awsproto.Request) (any, error) {
	var in putRecordsInput
	defer in.release()
	if err := decodePutRecords(r, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateStreamRef(&v, in.StreamName, in.StreamARN)
	if in.Records == nil {
		v.Add(nil, "records", "Member must not be null")
	} else if len(in.Records) == 0 {
		v.Add("[]", "records", "Member must have length greater than or equal to 1")
	} else if len(in.Records) > maxPutRecordsCount {
		v.Add(fmt.Sprintf("[%d records]", len(in.Records)), "records", "Member must have length less than or equal to 500")
	}
	total := 0
	for i := range in.Records {
		e := &in.Records[i]
		if !entryValid(e.PartitionKey, e.Data, e.ExplicitHashKey) {
			// the member path is built only for records that break a rule
			checkEntry(&v, fmt.Sprintf("records.%d.member.", i+1), e.PartitionKey, e.Data, e.ExplicitHashKey)
		}
		total += len(e.Data)
		if e.PartitionKey != nil {
			total += len(*e.PartitionKey)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if (in.StreamName == nil || *in.StreamName == "") && (in.StreamARN == nil || *in.StreamARN == "") {
		return nil, awserr.InvalidArgument("Either StreamName or StreamARN should be provided.")
	}
	if total > maxPutRecordsBytes {
		return nil, awserr.InvalidArgument("Records size exceeds 10 MB limit")
	}

	st, routes, err := s.dataStream(r, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	maxRec := st.MaxRecordKiB << 10
	keys := make([]shardmap.HashKey, len(in.Records))
	for i := range in.Records {
		e := &in.Records[i]
		if len(e.Data)+len(*e.PartitionKey) > maxRec {
			return nil, awserr.InvalidArgument("Record %d size exceeds the stream's maximum record size of %d KiB.", i, st.MaxRecordKiB)
		}
		k, err := entryHashKey(*e.PartitionKey, e.ExplicitHashKey)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	out := putRecordsOutput{Records: make([]putRecordsResultEntry, len(in.Records)), EncryptionType: st.Encryption}
	s.appendRouted(r.Ctx, st, routes, in.Records, keys, out.Records)
	for _, e := range out.Records {
		if e.ErrorCode != nil {
			out.FailedRecordCount++
		}
	}
	if r.Codec == awsproto.JSON {
		return encodePutRecordsJSON(&out), nil
	}
	return out, nil
}

// entryValid is the quick test of checkEntry's rules.
func entryValid(pk *string, data []byte, ehk *string) bool {
	return data != nil && len(data) <= maxModelDataBytes && pk != nil && len(*pk) >= 1 &&
		(len(*pk) <= 256 || len([]rune(*pk)) <= 256) && (ehk == nil || hashKeyPattern(*ehk))
}

// checkEntry validates one record's members; p prefixes their paths
// ("records.N.member." in PutRecords, "" in PutRecord).
func checkEntry(v *awserr.Validation, p string, pk *string, data []byte, ehk *string) {
	if data == nil {
		v.Add(nil, p+"data", "Member must not be null")
	} else if len(data) > maxModelDataBytes {
		v.Add(fmt.Sprintf("java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]", len(data), len(data)), p+"data", "Member must have length less than or equal to 10485760")
	}
	if pk == nil {
		v.Add(nil, p+"partitionKey", "Member must not be null")
	} else {
		checkLen(v, *pk, p+"partitionKey", 1, 256)
	}
	if ehk != nil && !hashKeyPattern(*ehk) {
		v.Add(*ehk, p+"explicitHashKey", "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})")
	}
}

func hashKeyPattern(s string) bool {
	if s == "0" {
		return true
	}
	if len(s) == 0 || len(s) > 39 || s[0] < '1' || s[0] > '9' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func entryHashKey(pk string, ehk *string) (shardmap.HashKey, error) {
	if ehk == nil {
		return shardmap.HashPartitionKey(pk), nil
	}
	k, err := shardmap.ParseHashKey(*ehk)
	if err != nil {
		return k, awserr.InvalidArgument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", *ehk)
	}
	return k, nil
}

// dataStream resolves a stream for a data-plane call and snapshots its
// routing table. Data calls work on ACTIVE and UPDATING streams (and while
// DELETING, as on AWS); not while CREATING.
func (s *Service) dataStream(r *awsproto.Request, name, arn *string) (*stream, []*shard, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookupLocked(r, name, arn)
	if err != nil {
		return nil, nil, err
	}
	if st.Status == stateCreating {
		return nil, nil, awserr.ResourceNotFound("Stream %s under account %s not found.", st.Name, st.Account)
	}
	return st, st.routes, nil
}

func (s *Service) freshRoutes(st *stream) []*shard {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return st.routes
}

type shardBatch struct {
	sh   *shard
	n    int // records routed here
	idx  []int
	recs []storage.Record
}

// appendRouted groups records by shard, appends each group and fills res.
func (s *Service) appendRouted(ctx context.Context, st *stream, routes []*shard, entries []putRecordsEntry, keys []shardmap.HashKey, res []putRecordsResultEntry) {
	if ctx == nil {
		ctx = context.Background()
	}
	pending := make([]int, len(entries))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 0; attempt < 3 && len(pending) > 0; attempt++ {
		if attempt > 0 {
			routes = s.freshRoutes(st)
		}
		// route every record, then fill batches sized exactly
		var batches []*shardBatch
		byShard := map[*shard]*shardBatch{}
		dest := make([]*shardBatch, len(pending))
		for j, i := range pending {
			sh := route(routes, keys[i])
			if sh == nil {
				setErr(&res[i], awserr.TInternalFailure, "Internal service failure.")
				continue
			}
			b := byShard[sh]
			if b == nil {
				b = &shardBatch{sh: sh}
				byShard[sh] = b
				batches = append(batches, b)
			}
			dest[j] = b
			b.n++
		}
		for _, b := range batches {
			b.idx = make([]int, 0, b.n)
			b.recs = make([]storage.Record, 0, b.n)
		}
		for j, i := range pending {
			if b := dest[j]; b != nil {
				b.idx = append(b.idx, i)
				b.recs = append(b.recs, storage.Record{PartitionKey: *entries[i].PartitionKey, Data: entries[i].Data})
			}
		}
		var mu sync.Mutex
		var retry []int
		run := func(b *shardBatch) {
			sealed := s.appendBatch(ctx, st, b, res)
			if sealed {
				mu.Lock()
				retry = append(retry, b.idx...)
				mu.Unlock()
			}
		}
		if len(batches) == 1 {
			run(batches[0])
		} else {
			var wg sync.WaitGroup
			for _, b := range batches[1:] {
				wg.Add(1)
				go func() { defer wg.Done(); run(b) }()
			}
			run(batches[0])
			wg.Wait()
		}
		pending = retry
	}
	for _, i := range pending {
		setErr(&res[i], awserr.TInternalFailure, "Internal service failure.")
	}
}

// appendBatch appends one shard's records; it reports true when the shard
// was sealed under us (the records must be routed again).
func (s *Service) appendBatch(ctx context.Context, st *stream, b *shardBatch, res []putRecordsResultEntry) bool {
	if s.opt.EnforceLimits {
		kept := b.recs[:0]
		keptIdx := b.idx[:0]
		for j, rec := range b.recs {
			i := b.idx[j]
			if !s.limits.take(st.ID, b.sh.Index, []uint8{0, 1}, []float64{float64(len(rec.Data) + len(rec.PartitionKey)), 1}) {
				setErr(&res[i], awserr.TProvisionedThroughputExceeded, fmt.Sprintf("Rate exceeded for shard %s in stream %s under account %s.", b.sh.id, st.Name, st.Account))
				continue
			}
			kept = append(kept, rec)
			keptIdx = append(keptIdx, i)
		}
		b.recs, b.idx = kept, keptIdx
		if len(b.recs) == 0 {
			return false
		}
	}
	ar, err := s.backend.Append(ctx, storage.ShardID{Stream: st.ID, Index: b.sh.Index}, b.recs)
	if err != nil {
		if errors.Is(err, storage.ErrShardSealed) {
			return true
		}
		s.log.Error("append failed", "stream", st.Name, "shard", b.sh.id, "err", err)
		for _, i := range b.idx {
			setErr(&res[i], awserr.TInternalFailure, "Internal service failure.")
		}
		return false
	}
	id := b.sh.id
	secs := uint64(ar.ArrivalMs / 1000)
	create := uint64(b.sh.CreatedMs / 1000)
	seqs := shardmap.AppendSeqRun(make([]byte, 0, 58*len(b.idx)), shardmap.SeqFields{ShardCreateSecs: create, ShardIndex: b.sh.Index, Pos: ar.FirstPos + 1, ArrivalSecs: secs}, len(b.idx))
	all := string(seqs) // one allocation for the batch's numbers
	for _, i := range b.idx {
		end := strings.IndexByte(all, ' ')
		seq := all[:end]
		all = all[end+1:]
		res[i] = putRecordsResultEntry{SequenceNumber: &seq, ShardId: &id}
	}
	return false
}

func setErr(e *putRecordsResultEntry, code, msg string) {
	*e = putRecordsResultEntry{ErrorCode: &code, ErrorMessage: &msg}
}
