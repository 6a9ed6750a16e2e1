package kinesis

import (
	"encoding/base64"
	"strconv"
	"strings"
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

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// null consumes a literal null.
func (s *scanner) null() bool {
	s.ws()
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// str returns the raw bytes of a string without escapes.
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := s.b[start:s.i]
			s.i++
			return v, true
		}
		if c == '\\' || c < 0x20 {
			return nil, false
		}
		s.i++
	}
	return nil, false
}

func fastPutRecords(body []byte, in *putRecordsInput) bool {
	s := &scanner{b: body}
	if !s.eat('{') {
		return false
	}
	// arenas: one buffer for all data, one string for all partition keys
	var data []byte
	var keys []byte
	type span struct{ ds, de, ks, ke, hs, he int }
	var spans []span
	sawRecords := false
	if s.peek() != '}' {
		for {
			key, ok := s.str()
			if !ok || !s.eat(':') {
				return false
			}
			switch string(key) {
			case "StreamName", "StreamARN":
				if s.null() {
					break
				}
				v, ok := s.str()
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
				if !s.eat('[') || sawRecords {
					return false
				}
				sawRecords = true
				if data == nil {
					data = make([]byte, 0, len(body)*3/4)
					keys = make([]byte, 0, len(body)/8)
					spans = make([]span, 0, 500)
				}
				if s.peek() != ']' {
					for {
						if !s.eat('{') {
							return false
						}
						sp := span{ds: -1, ks: -1, hs: -1}
						if s.peek() != '}' {
							for {
								k, ok := s.str()
								if !ok || !s.eat(':') {
									return false
								}
								if s.null() {
									// null leaves the member unset, as encoding/json does
									if string(k) != "Data" && string(k) != "PartitionKey" && string(k) != "ExplicitHashKey" {
										return false
									}
									if s.eat(',') {
										continue
									}
									if s.eat('}') {
										break
									}
									return false
								}
								v, ok := s.str()
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
									m, err := base64.StdEncoding.Decode(data[len(data):len(data)+n], v)
									if err != nil {
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
								if s.eat(',') {
									continue
								}
								if s.eat('}') {
									break
								}
								return false
							}
						} else {
							s.i++
						}
						spans = append(spans, sp)
						if s.eat(',') {
							continue
						}
						if s.eat(']') {
							break
						}
						return false
					}
				} else {
					s.i++
				}
			default:
				return false
			}
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				break
			}
			return false
		}
	} else {
		s.i++
	}
	s.ws()
	if s.i != len(s.b) {
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

// encodePutRecordsJSON writes the PutRecords response without reflection.
func encodePutRecordsJSON(out *putRecordsOutput) awsproto.Raw {
	b := make([]byte, 0, 64+len(out.Records)*110)
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
			b = appendJSONString(b, unsafe.Slice(unsafe.StringData(*e.ErrorCode), len(*e.ErrorCode)))
			b = append(b, `,"ErrorMessage":`...)
			b = appendJSONString(b, unsafe.Slice(unsafe.StringData(*e.ErrorMessage), len(*e.ErrorMessage)))
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
	return awsproto.Raw(b)
}

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }
