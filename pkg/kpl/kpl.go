// Package kpl reads and writes the Kinesis Producer Library's aggregated
// record format.
//
// An aggregated record is
//
//	offset  size  field
//	0       4     magic F3 89 9A C2
//	4       n     protobuf AggregatedRecord
//	4+n     16    MD5 of the n protobuf bytes
//
// with (proto2)
//
//	message AggregatedRecord { repeated string partition_key_table = 1;
//	                           repeated string explicit_hash_key_table = 2;
//	                           repeated Record records = 3; }
//	message Record { required uint64 partition_key_index = 1;
//	                 optional uint64 explicit_hash_key_index = 2;
//	                 required bytes data = 3; repeated Tag tags = 4; }
//
// As the KCL does, anything that is not a well-formed aggregate (bad magic,
// bad MD5, bad protobuf, an index out of range) is passed through as one
// plain record.
package kpl

import (
	"bytes"
	"crypto/md5"
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
)

// Magic starts every aggregated record.
var Magic = []byte{0xF3, 0x89, 0x9A, 0xC2}

// Record is one user record.
type Record struct {
	PartitionKey    string
	ExplicitHashKey string // empty when the sub-record has none
	Data            []byte
}

var errBad = errors.New("kpl: malformed aggregate")

// Deaggregate returns the user records inside b, or ok=false when b is not a
// valid aggregate (the caller then keeps b as one record). Data slices alias b.
func Deaggregate(b []byte) (recs []Record, ok bool) {
	if len(b) < len(Magic)+md5.Size || !bytes.Equal(b[:4], Magic) {
		return nil, false
	}
	body := b[4 : len(b)-md5.Size]
	sum := md5.Sum(body)
	if !bytes.Equal(sum[:], b[len(b)-md5.Size:]) {
		return nil, false
	}
	recs, err := parseAggregate(body)
	if err != nil {
		return nil, false
	}
	return recs, true
}

type rawRec struct {
	pk, ehk       uint64
	hasPK, ehkSet bool
	data          []byte
	hasData       bool
}

func parseAggregate(b []byte) ([]Record, error) {
	var pks, ehks []string
	var raws []rawRec
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errBad
		}
		b = b[n:]
		switch {
		case (num == 1 || num == 2) && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, errBad
			}
			if num == 1 {
				pks = append(pks, string(v))
			} else {
				ehks = append(ehks, string(v))
			}
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, errBad
			}
			r, err := parseRecord(v)
			if err != nil {
				return nil, err
			}
			raws = append(raws, r)
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, errBad
			}
			b = b[n:]
		}
	}
	out := make([]Record, 0, len(raws))
	for _, r := range raws {
		if !r.hasPK || !r.hasData || r.pk >= uint64(len(pks)) {
			return nil, errBad
		}
		rec := Record{PartitionKey: pks[r.pk], Data: r.data}
		if r.ehkSet {
			if r.ehk >= uint64(len(ehks)) {
				return nil, errBad
			}
			rec.ExplicitHashKey = ehks[r.ehk]
		}
		out = append(out, rec)
	}
	return out, nil
}

func parseRecord(b []byte) (rawRec, error) {
	var r rawRec
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, errBad
		}
		b = b[n:]
		switch {
		case (num == 1 || num == 2) && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return r, errBad
			}
			if num == 1 {
				r.pk, r.hasPK = v, true
			} else {
				r.ehk, r.ehkSet = v, true
			}
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return r, errBad
			}
			r.data, r.hasData = v, true
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return r, errBad
			}
			b = b[n:]
		}
	}
	return r, nil
}

// Aggregate builds an aggregated record from recs (the inverse of
// Deaggregate).
func Aggregate(recs []Record) []byte {
	var b Builder
	for _, r := range recs {
		b.Add(r.PartitionKey, r.ExplicitHashKey, r.Data)
	}
	return b.Bytes()
}
