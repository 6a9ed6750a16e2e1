package firehose

import (
	"encoding/base64"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

// decodePutRecordBatch decodes a PutRecordBatch body. The shape every SDK
// sends, {"DeliveryStreamName":"…","Records":[{"Data":"<base64>"},…]}, is
// scanned without reflection and decoded into one buffer; anything else
// (escapes, other members, nulls, CBOR) goes through awsproto.Decode, which
// also produces the errors.
func decodePutRecordBatch(req *awsproto.Request, in *putRecordBatchInput) error {
	if req.Codec == awsproto.JSON && fastPutRecordBatch(req.Body, in) {
		return nil
	}
	*in = putRecordBatchInput{}
	return awsproto.Decode(req.Codec, req.Body, in)
}

type scan struct {
	b []byte
	i int
}

func (s *scan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scan) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str returns a string's raw bytes; ok is false for escapes, control
// characters and non-ASCII (left to the generic decoder).
func (s *scan) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

func fastPutRecordBatch(b []byte, in *putRecordBatchInput) bool {
	s := &scan{b: b}
	if !s.eat('{') {
		return false
	}
	var raw [][]byte // base64 text of each record; nil when the record has no Data
	var haveRecords, haveName bool
	if !s.eat('}') {
		for {
			key, ok := s.str()
			if !ok || !s.eat(':') {
				return false
			}
			switch string(key) {
			case "DeliveryStreamName":
				v, ok := s.str()
				if !ok || haveName {
					return false
				}
				name := string(v)
				in.DeliveryStreamName = &name
				haveName = true
			case "Records":
				if haveRecords || !s.eat('[') {
					return false
				}
				haveRecords = true
				raw = make([][]byte, 0, 500)
				if !s.eat(']') {
					for {
						if !s.eat('{') {
							return false
						}
						var data []byte
						if !s.eat('}') {
							k, ok := s.str()
							if !ok || string(k) != "Data" || !s.eat(':') {
								return false
							}
							if data, ok = s.str(); !ok || !s.eat('}') {
								return false
							}
							if data == nil {
								data = []byte{}
							}
						}
						raw = append(raw, data)
						if s.eat(']') {
							break
						}
						if !s.eat(',') {
							return false
						}
					}
				}
			default:
				return false
			}
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return false
			}
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return false
	}
	if !haveRecords {
		return true
	}
	total := 0
	for _, r := range raw {
		total += base64.StdEncoding.DecodedLen(len(r))
	}
	buf := make([]byte, total)
	in.Records = make([]recordIn, len(raw))
	off := 0
	for i, r := range raw {
		if r == nil {
			continue // {} : Data stays nil, as with the generic decoder
		}
		n, err := base64.StdEncoding.Decode(buf[off:], r)
		if err != nil {
			return false
		}
		in.Records[i].Data = buf[off : off+n : off+n]
		off += n
	}
	return true
}
