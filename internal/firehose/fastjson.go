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

func fastPutRecordBatch(b []byte, in *putRecordBatchInput) bool {
	s := &awsproto.Scanner{B: b}
	if !s.Eat('{') {
		return false
	}
	var raw [][]byte // base64 text of each record; nil when the record has no Data
	var haveRecords, haveName bool
	if !s.Eat('}') {
		for {
			key, ok := s.Str()
			if !ok || !s.Eat(':') {
				return false
			}
			switch string(key) {
			case "DeliveryStreamName":
				v, ok := s.Str()
				if !ok || haveName {
					return false
				}
				name := string(v)
				in.DeliveryStreamName = &name
				haveName = true
			case "Records":
				if haveRecords || !s.Eat('[') {
					return false
				}
				haveRecords = true
				raw = make([][]byte, 0, 500)
				if !s.Eat(']') {
					for {
						if !s.Eat('{') {
							return false
						}
						var data []byte
						if !s.Eat('}') {
							k, ok := s.Str()
							if !ok || string(k) != "Data" || !s.Eat(':') {
								return false
							}
							if data, ok = s.Str(); !ok || !s.Eat('}') {
								return false
							}
							if data == nil {
								data = []byte{}
							}
						}
						raw = append(raw, data)
						if s.Eat(']') {
							break
						}
						if !s.Eat(',') {
							return false
						}
					}
				}
			default:
				return false
			}
			if s.Eat('}') {
				break
			}
			if !s.Eat(',') {
				return false
			}
		}
	}
	if !s.End() {
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
		n, err := base64.StdEncoding.Strict().Decode(buf[off:], r)
		if err != nil {
			return false
		}
		in.Records[i].Data = buf[off : off+n : off+n]
		off += n
	}
	return true
}
