package kinesis

// cborEvent writes a SubscribeToShardEvent in CBOR (the Java SDK's and the
// KCL's default) directly, without reflection or a copy of each record's
// data: the map the generic encoder would produce for subscribeEvent, key
// for key and in the same order. Records go to a scratch buffer first, since
// the array header needs their count. Timestamps are tag 1 around integer
// epoch milliseconds, as awsproto.Timestamp encodes them.

import (
	"encoding/binary"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

// CBOR major types.
const (
	cborUint  = 0 << 5
	cborBytes = 2 << 5
	cborText  = 3 << 5
	cborArray = 4 << 5
	cborMap   = 5 << 5
	cborTag   = 6 << 5
)

// appendCBORHead appends a head of major type m and argument v, shortest form.
func appendCBORHead(b []byte, m byte, v uint64) []byte {
	switch {
	case v < 24:
		return append(b, m|byte(v))
	case v <= 0xff:
		return append(b, m|24, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), v)
}

func appendCBORText(b []byte, s string) []byte {
	return append(appendCBORHead(b, cborText, uint64(len(s))), s...)
}

// appendCBORInt appends a signed integer (major 0, or 1 when negative).
func appendCBORInt(b []byte, v int64) []byte {
	if v < 0 {
		return appendCBORHead(b, 1<<5, uint64(-(v + 1)))
	}
	return appendCBORHead(b, cborUint, uint64(v))
}

type cborEvent struct {
	sh    *shard
	kms   bool
	recs  []byte // encoded records
	out   []byte // the event, reused
	count int
}

func (e *cborEvent) add(r storage.StoredRecord) {
	e.count++
	b := e.recs
	n := uint64(4)
	if e.kms {
		n = 5
	}
	b = appendCBORHead(b, cborMap, n)
	b = appendCBORText(b, "SequenceNumber")
	var seq [64]byte
	s := shardmap.AppendSeq(seq[:0], recordSeqFields(e.sh, r.Pos, r.ArrivalMs))
	b = appendCBORHead(b, cborText, uint64(len(s)))
	b = append(b, s...)
	b = appendCBORText(b, "ApproximateArrivalTimestamp")
	b = appendCBORHead(b, cborTag, 1)
	b = appendCBORInt(b, r.ArrivalMs)
	b = appendCBORText(b, "Data")
	b = appendCBORHead(b, cborBytes, uint64(len(r.Data)))
	b = append(b, r.Data...)
	b = appendCBORText(b, "PartitionKey")
	b = appendCBORHead(b, cborText, uint64(len(r.PartitionKey)))
	b = append(b, r.PartitionKey...)
	if e.kms {
		b = appendCBORText(b, "EncryptionType")
		b = appendCBORText(b, "KMS")
	}
	e.recs = b
}

func (e *cborEvent) finish(c awsproto.Codec, cont *string, behind int64, children []childShard) ([]byte, error) {
	n := uint64(2)
	if cont != nil {
		n++
	}
	if children != nil {
		n++
	}
	b := appendCBORHead(e.out[:0], cborMap, n)
	b = appendCBORText(b, "Records")
	b = appendCBORHead(b, cborArray, uint64(e.count))
	b = append(b, e.recs...)
	if cont != nil {
		b = appendCBORText(b, "ContinuationSequenceNumber")
		b = appendCBORText(b, *cont)
	}
	b = appendCBORText(b, "MillisBehindLatest")
	b = appendCBORInt(b, behind)
	if children != nil {
		cb, err := awsproto.Encode(c, children)
		if err != nil {
			return nil, err
		}
		b = appendCBORText(b, "ChildShards")
		b = append(b, cb...)
	}
	return b, nil
}
