package kinesis

import (
	"encoding/base64"
	"strconv"
	"sync"
	"unsafe"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

// PutRecords is the hot path: its JSON body is decoded by a small scanner
// that understands exactly the shape the SDKs send (an object with
// StreamName, StreamARN and Records of {Data, PartitionKey, ExplicitHashKey},
// strings without escapes). Anything else — escapes, nulls, unknown members,
// wrong types — falls back to encoding/json, which stays the reference for
// what is accepted and for the SerializationException a bad body gets.
func decodePutRecords(r *awsproto.Request, in *putRecordsInput) error {
	if r.Codec == awsproto.JSON {
		if ok := fastPutRecords(r.Body, in); ok {
			return nil
		}
		*in = putRecordsInput{}
	}
	return decode(r, in)
}

// arenas holds decoded-data buffers between PutRecords calls: the records
// are copied by the storage append, so a buffer is free again once the
// call has answered.
var arenas sync.Pool

func getArena(n int) *[]byte {
	if p, _ := arenas.Get().(*[]byte); p != nil && cap(*p) >= n {
		*p = (*p)[:0]
		return p
	}
	b := make([]byte, 0, max(n, 64<<10))
	return &b
}

// release returns the decode buffer (call when the records are no longer used).
func (in *putRecordsInput) release() {
	if in.arena != nil && cap(*in.arena) <= 16<<20 {
		arenas.Put(in.arena)
	}
	in.arena = nil
}

func fastPutRecords(body []byte, in *putRecordsInput) bool {
	s := &awsproto.Scanner{B: body}
	if !s.Eat('{') {
		return false
	}
	// arenas: one buffer for all data, one string for all partition keys
	var data []byte
	var keys []byte
	type span struct{ ds, de, ks, ke, hs, he int }
	var spans []span
	sawRecords := false
	if s.Peek() != '}' {
		for {
			key, ok := s.Str()
			if !ok || !s.Eat(':') {
				return false
			}
			switch string(key) {
			case "StreamName", "StreamARN":
				if s.Null() {
					break
				}
				v, ok := s.Str()
				if !ok {
					return false
				}
				str := string(v)
				if key[6] == 'N' {
					in.StreamName = &str
				} else {
					in.StreamARN = &str
				}
			case "Records":
				if !s.Eat('[') || sawRecords {
					return false
				}
				sawRecords = true
				if data == nil {
					in.arena = getArena(len(body) * 3 / 4)
					data = *in.arena
					keys = make([]byte, 0, len(body)/8)
					spans = make([]span, 0, 500)
				}
				if s.Peek() != ']' {
					for {
						if !s.Eat('{') {
							return false
						}
						sp := span{ds: -1, ks: -1, hs: -1}
						if s.Peek() != '}' {
							for {
								k, ok := s.Str()
								if !ok || !s.Eat(':') {
									return false
								}
								if s.Null() {
									// null leaves the member unset, as encoding/json does
									if string(k) != "Data" && string(k) != "PartitionKey" && string(k) != "ExplicitHashKey" {
										return false
									}
									if s.Eat(',') {
										continue
									}
									if s.Eat('}') {
										break
									}
									return false
								}
								var v []byte
								if string(k) == "Data" {
									v, ok = s.RawStr() // checked by the base64 decoding
								} else {
									v, ok = s.Str()
								}
								if !ok {
									return false
								}
								switch string(k) {
								case "Data":
									if sp.ds >= 0 {
										return false
									}
									n := base64.StdEncoding.DecodedLen(len(v))
									if cap(data)-len(data) < n {
										return false
									}
									m, ok := awsproto.DecodeBase64(data[len(data):len(data)+n], v)
									if !ok {
										return false
									}
									sp.ds, sp.de = len(data), len(data)+m
									data = data[:len(data)+m]
								case "PartitionKey", "ExplicitHashKey":
									start := len(keys)
									keys = append(keys, v...)
									if k[0] == 'P' {
										if sp.ks >= 0 {
											return false
										}
										sp.ks, sp.ke = start, len(keys)
									} else {
										if sp.hs >= 0 {
											return false
										}
										sp.hs, sp.he = start, len(keys)
									}
								default:
									return false
								}
								if s.Eat(',') {
									continue
								}
								if s.Eat('}') {
									break
								}
								return false
							}
						} else {
							s.I++
						}
						spans = append(spans, sp)
						if s.Eat(',') {
							continue
						}
						if s.Eat(']') {
							break
						}
						return false
					}
				} else {
					s.I++
				}
			default:
				return false
			}
			if s.Eat(',') {
				continue
			}
			if s.Eat('}') {
				break
			}
			return false
		}
	} else {
		s.I++
	}
	if !s.End() {
		return false
	}
	if !sawRecords {
		return true
	}
	ks := string(keys)
	in.Records = make([]putRecordsEntry, len(spans))
	ptrs := make([]string, 2*len(spans))
	for i, sp := range spans {
		e := &in.Records[i]
		if sp.ds >= 0 {
			e.Data = data[sp.ds:sp.de:sp.de]
		}
		if sp.ks >= 0 {
			ptrs[2*i] = ks[sp.ks:sp.ke]
			e.PartitionKey = &ptrs[2*i]
		}
		if sp.hs >= 0 {
			ptrs[2*i+1] = ks[sp.hs:sp.he]
			e.ExplicitHashKey = &ptrs[2*i+1]
		}
	}
	return true
}

var respBufs sync.Pool // *[]byte

// encodePutRecordsJSON writes the PutRecords response without reflection,
// into a pooled buffer the gateway hands back after writing it.
func encodePutRecordsJSON(out *putRecordsOutput) awsproto.Pooled {
	bp, _ := respBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b := (*bp)[:0]
	if need := 64 + len(out.Records)*110; cap(b) < need {
		b = make([]byte, 0, need)
	}
	b = append(b, `{"EncryptionType":"`...)
	b = append(b, out.EncryptionType...)
	b = append(b, `","FailedRecordCount":`...)
	b = strconv.AppendInt(b, int64(out.FailedRecordCount), 10)
	b = append(b, `,"Records":[`...)
	for i, e := range out.Records {
		if i > 0 {
			b = append(b, ',')
		}
		if e.ErrorCode != nil {
			b = append(b, `{"ErrorCode":`...)
			b = awsproto.AppendJSONString(b, unsafe.Slice(unsafe.StringData(*e.ErrorCode), len(*e.ErrorCode)))
			b = append(b, `,"ErrorMessage":`...)
			b = awsproto.AppendJSONString(b, unsafe.Slice(unsafe.StringData(*e.ErrorMessage), len(*e.ErrorMessage)))
			b = append(b, '}')
			continue
		}
		b = append(b, `{"SequenceNumber":"`...)
		b = append(b, *e.SequenceNumber...)
		b = append(b, `","ShardId":"`...)
		b = append(b, *e.ShardId...)
		b = append(b, `"}`...)
	}
	b = append(b, `]}`...)
	*bp = b
	return awsproto.Pooled{B: b, Release: func() {
		if cap(*bp) <= 1<<20 {
			respBufs.Put(bp)
		}
	}}
}
