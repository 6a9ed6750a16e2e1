// Package awsproto holds the wire codecs the AWS SDKs speak to JSON-protocol
// services: JSON 1.1 (`application/x-amz-json-1.1`) and CBOR
// (`application/x-amz-cbor-1.1`, the Java SDK's default for Kinesis).
//
// Shapes are plain Go structs with `json` tags naming the AWS member
// (fxamacker/cbor reads the same tags). Blobs are []byte: base64 text in JSON,
// a byte string (major type 2) in CBOR. Timestamps are Timestamp: fractional
// epoch seconds in JSON (never an exponent), tag 1 around integer epoch
// milliseconds in CBOR, in both directions.
package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// Codec is a request's wire format.
type Codec int

const (
	JSON Codec = iota // application/x-amz-json-1.1
	CBOR              // application/x-amz-cbor-1.1
)

// Content types.
const (
	ContentTypeJSON = "application/x-amz-json-1.1"
	ContentTypeCBOR = "application/x-amz-cbor-1.1"
)

// ContentKind is what a request's Content-Type says to the front door.
type ContentKind int

const (
	KindOther   ContentKind = iota // missing or not spoken (x-amz-json-1.0 included)
	KindJSON                       // application/x-amz-json-1.1
	KindCBOR                       // application/x-amz-cbor-1.1
	KindAppJSON                    // application/json: AWS's legacy Coral envelope
)

// ContentKindOf classifies a Content-Type header (parameters ignored).
func ContentKindOf(contentType string) ContentKind {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch ct {
	case ContentTypeJSON:
		return KindJSON
	case ContentTypeCBOR:
		return KindCBOR
	case "application/json":
		return KindAppJSON
	}
	return KindOther
}

// CodecFor maps a Content-Type header to a codec. ok is false for a type the
// JSON-protocol services do not speak (anything but JSON 1.1 and CBOR 1.1).
func CodecFor(contentType string) (c Codec, ok bool) {
	switch ContentKindOf(contentType) {
	case KindJSON:
		return JSON, true
	case KindCBOR:
		return CBOR, true
	}
	return JSON, false
}

// WellFormed reports whether body parses as a JSON or CBOR object or list:
// the bodies AWS reads on to the operation (anything else is a
// SerializationException without a message).
func WellFormed(c Codec, body []byte) bool {
	if c == CBOR {
		if len(body) == 0 || (body[0]>>5 != 4 && body[0]>>5 != 5) {
			return false
		}
		return cborDec.Wellformed(body) == nil
	}
	t := bytes.TrimSpace(body)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
}

// ContentType is the response content type for c.
func (c Codec) ContentType() string {
	if c == CBOR {
		return ContentTypeCBOR
	}
	return ContentTypeJSON
}

var (
	cborDec cbor.DecMode
	cborEnc cbor.EncMode
)

func init() {
	var err error
	cborDec, err = cbor.DecOptions{
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 20,
		MaxNestedLevels:  32,
		DefaultMapType:   nil,
		TimeTag:          cbor.DecTagOptional,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	cborEnc, err = cbor.EncOptions{Sort: cbor.SortNone}.EncMode()
	if err != nil {
		panic(err)
	}
}

// Decode reads body into v. An empty body is an empty object. Any failure is
// a SerializationException with the message AWS gives for it (conform.go).
//
// JSON bodies are always checked against the shape as AWS reads them (member
// types, exact member names, conversions); the hot operations have their own
// scanners and come here only for bodies those refuse. CBOR bodies take the
// check only when the strict decoder refuses them (the Java SDKs send
// well-typed CBOR, and CBOR PutRecords comes through here).
func Decode(c Codec, body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var err error
	if c == CBOR {
		if err = cborDec.Unmarshal(body, v); err == nil {
			return nil
		}
	} else {
		err = json.Unmarshal(body, v)
	}
	return check(c, body, v, err == nil)
}

// Encode writes v in the codec. A nil v encodes as an empty object.
func Encode(c Codec, v any) ([]byte, error) {
	if v == nil {
		if c == CBOR {
			return []byte{0xa0}, nil
		}
		return []byte("{}"), nil
	}
	if c == CBOR {
		return cborEnc.Marshal(v)
	}
	return json.Marshal(v)
}

// errorBody is the shape of an error on the wire.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message,omitempty"`
}

// serializationBody uses the capital "Message" AWS sends for that exception.
type serializationBody struct {
	Type    string `json:"__type"`
	Message string `json:"Message,omitempty"`
}

// EncodeError renders e for the wire.
func EncodeError(c Codec, e *awserr.Error) []byte {
	var v any = errorBody{Type: e.Type, Message: e.Message}
	if e.Type == awserr.TSerialization {
		v = serializationBody{Type: e.Type, Message: e.Message}
	}
	b, err := Encode(c, v)
	if err != nil {
		return []byte(`{"__type":"InternalFailure"}`)
	}
	return b
}

// Timestamp is an AWS timestamp member.
type Timestamp struct{ time.Time }

// TS wraps t; a zero time gives nil so that `omitempty` drops the member.
func TS(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	return &Timestamp{t}
}

// TSMillis wraps epoch milliseconds.
func TSMillis(ms int64) *Timestamp { return &Timestamp{time.UnixMilli(ms)} }

// MarshalJSON writes epoch seconds with millisecond precision and no exponent.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return AppendEpochSeconds(nil, t.UnixMilli()), nil
}

// AppendEpochSeconds appends ms as fractional seconds ("1506440188.749"),
// trimming trailing zeros ("1506440188.7", "1506440188").
func AppendEpochSeconds(b []byte, ms int64) []byte {
	neg := ms < 0
	if neg {
		b = append(b, '-')
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	if frac == 0 {
		return b
	}
	d := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := 3
	for n > 0 && d[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, d[:n]...)
}

// UnmarshalJSON accepts epoch seconds (integer or fractional, as the CLI and
// SDKs send). A string is refused with AWS's message, as AWS refuses it.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if len(s) > 0 && s[0] == '"' {
		return serErr("class java.lang.String can not be converted to milliseconds since epoch")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(f) {
		return serErr(fmt.Sprintf("%s can not be converted to milliseconds since epoch", kindOfJSON(s).token()))
	}
	t.Time = fromEpochSeconds(f)
	return nil
}

// kindOfJSON names the kind of a raw JSON value.
func kindOfJSON(s string) valueKind {
	switch {
	case s == "true":
		return kTrue
	case s == "false":
		return kFalse
	case strings.HasPrefix(s, "["):
		return kList
	case strings.HasPrefix(s, "{"):
		return kMap
	case strings.HasPrefix(s, `"`):
		return kString
	}
	return kNumber
}

func fromEpochSeconds(f float64) time.Time {
	if f > 1e12 || f < -1e12 {
		f = math.Copysign(1e12, f)
	}
	ms := int64(math.Round(f * 1000))
	return time.UnixMilli(ms)
}

// MarshalCBOR writes tag 1 around integer epoch milliseconds (AWS's
// convention, not RFC 8949's seconds).
func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return cborEnc.Marshal(cbor.Tag{Number: 1, Content: t.UnixMilli()})
}

// UnmarshalCBOR reads tag 1 around epoch milliseconds (integer or float), or a
// bare number of milliseconds.
func (t *Timestamp) UnmarshalCBOR(b []byte) error {
	var raw cbor.RawTag
	var content any
	if len(b) > 0 && b[0]>>5 == 6 {
		if err := cborDec.Unmarshal(b, &raw); err != nil {
			return err
		}
		if raw.Number != 1 {
			return fmt.Errorf("timestamp with tag %d", raw.Number)
		}
		if err := cborDec.Unmarshal(raw.Content, &content); err != nil {
			return err
		}
	} else if err := cborDec.Unmarshal(b, &content); err != nil {
		return err
	}
	switch v := content.(type) {
	case uint64:
		t.Time = time.UnixMilli(int64(min(v, 1<<62)))
	case int64:
		t.Time = time.UnixMilli(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("timestamp is not finite")
		}
		t.Time = time.UnixMilli(int64(v))
	case nil:
	default:
		return fmt.Errorf("timestamp of type %T", content)
	}
	return nil
}
