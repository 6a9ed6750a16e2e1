// Package eventstream encodes and decodes the AWS event-stream binary framing
// (`application/vnd.amazon.eventstream`), the body of a SubscribeToShard
// response and of other streaming AWS operations.
//
// A message is one self-delimiting, checksummed frame:
//
//	offset  size  field
//	0       4     total_len    uint32 BE, length of the whole message (>= 16)
//	4       4     headers_len  uint32 BE, length of the headers block
//	8       4     prelude_crc  CRC32 (IEEE) of bytes 0..8
//	12      h     headers      headers_len bytes, zero or more headers
//	12+h    p     payload      p = total_len - headers_len - 16
//	12+h+p  4     message_crc  CRC32 (IEEE) of bytes 0..12+h+p
//
// A header is
//
//	1 byte  name_len, then name_len bytes of name
//	1 byte  value type, then the value:
//	  0 bool true    (no bytes)      5 long      int64 BE
//	  1 bool false   (no bytes)      6 bytes     uint16 BE length + bytes
//	  2 byte    int8                 7 string    uint16 BE length + bytes
//	  3 short   int16 BE             8 timestamp int64 BE epoch milliseconds
//	  4 int     int32 BE             9 uuid      16 bytes
//
// In Go a header value is one of bool, int8, int16, int32, int64, []byte,
// string, time.Time (millisecond precision, decoded in UTC) or UUID. Decoding
// and re-encoding a message gives back the same bytes, header order and
// duplicates included.
//
// AppendMessage writes a frame into a caller-owned buffer without other
// allocations (the server encodes one frame per pushed batch). Decoder reads
// frames from a stream, bounded by a maximum message size, and reports bad
// lengths, checksums and header encodings as errors.
package eventstream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"
)

// Frame geometry.
const (
	preludeLen = 12 // total_len, headers_len, prelude_crc
	crcLen     = 4
	// MinMessageSize is the size of a message with no headers and no payload.
	MinMessageSize = preludeLen + crcLen
	// DefaultMaxMessageSize bounds a decoded message unless the decoder is
	// told otherwise.
	DefaultMaxMessageSize = 16 << 20
	// MaxHeaderNameLen is the longest header name the format can carry.
	MaxHeaderNameLen = math.MaxUint8
	// MaxHeaderValueLen is the longest bytes or string header value AWS
	// accepts (the SDKs refuse longer ones).
	MaxHeaderValueLen = math.MaxInt16
)

// Header value types on the wire.
const (
	TypeTrue      byte = 0
	TypeFalse     byte = 1
	TypeByte      byte = 2
	TypeShort     byte = 3
	TypeInt       byte = 4
	TypeLong      byte = 5
	TypeBytes     byte = 6
	TypeString    byte = 7
	TypeTimestamp byte = 8
	TypeUUID      byte = 9
)

// Well-known header names.
const (
	HeaderMessageType   = ":message-type"
	HeaderEventType     = ":event-type"
	HeaderExceptionType = ":exception-type"
	HeaderContentType   = ":content-type"
	HeaderErrorCode     = ":error-code"
	HeaderErrorMessage  = ":error-message"
)

// UUID is a header value of type 9.
type UUID [16]byte

// Header is one message header. Value is a bool, int8, int16, int32, int64,
// []byte, string, time.Time or UUID.
type Header struct {
	Name  string
	Value any
}

// Message is one event-stream frame.
type Message struct {
	Headers []Header
	Payload []byte
}

// Get returns the value of the first header called name.
func (m Message) Get(name string) (any, bool) {
	for _, h := range m.Headers {
		if h.Name == name {
			return h.Value, true
		}
	}
	return nil, false
}

// String returns the first header called name if it is a string, else "".
func (m Message) String(name string) string {
	v, _ := m.Get(name)
	s, _ := v.(string)
	return s
}

// Errors. Decoding errors wrap one of these.
var (
	ErrPreludeCRC = errors.New("eventstream: prelude checksum mismatch")
	ErrMessageCRC = errors.New("eventstream: message checksum mismatch")
	ErrTooLarge   = errors.New("eventstream: message larger than the limit")
	ErrMalformed  = errors.New("eventstream: malformed message")
	ErrHeader     = errors.New("eventstream: header cannot be encoded")
)

// EventMessage is an `event` message, e.g. a SubscribeToShardEvent or the
// `initial-response`. contentType may be empty.
func EventMessage(eventType, contentType string, payload []byte) Message {
	hs := make([]Header, 0, 3)
	hs = append(hs, Header{HeaderEventType, eventType})
	if contentType != "" {
		hs = append(hs, Header{HeaderContentType, contentType})
	}
	hs = append(hs, Header{HeaderMessageType, "event"})
	return Message{Headers: hs, Payload: payload}
}

// ExceptionMessage is a modelled error (`exception`) message, e.g.
// ResourceInUseException with a `{"message":"..."}` payload.
func ExceptionMessage(exceptionType, contentType string, payload []byte) Message {
	hs := make([]Header, 0, 3)
	hs = append(hs, Header{HeaderExceptionType, exceptionType})
	if contentType != "" {
		hs = append(hs, Header{HeaderContentType, contentType})
	}
	hs = append(hs, Header{HeaderMessageType, "exception"})
	return Message{Headers: hs, Payload: payload}
}

// ErrorMessage is an unmodelled error (`error`) message; it has no payload.
func ErrorMessage(code, msg string) Message {
	return Message{Headers: []Header{
		{HeaderErrorCode, code},
		{HeaderErrorMessage, msg},
		{HeaderMessageType, "error"},
	}}
}

// headerLen is the encoded size of h.
func headerLen(h Header) (int, error) {
	if len(h.Name) > MaxHeaderNameLen {
		return 0, fmt.Errorf("%w: name of %d bytes (max %d)", ErrHeader, len(h.Name), MaxHeaderNameLen)
	}
	n := 1 + len(h.Name) + 1
	switch v := h.Value.(type) {
	case bool:
	case int8:
		n++
	case int16:
		n += 2
	case int32:
		n += 4
	case int64, time.Time:
		n += 8
	case []byte:
		if len(v) > MaxHeaderValueLen {
			return 0, fmt.Errorf("%w: %q value of %d bytes (max %d)", ErrHeader, h.Name, len(v), MaxHeaderValueLen)
		}
		n += 2 + len(v)
	case string:
		if len(v) > MaxHeaderValueLen {
			return 0, fmt.Errorf("%w: %q value of %d bytes (max %d)", ErrHeader, h.Name, len(v), MaxHeaderValueLen)
		}
		n += 2 + len(v)
	case UUID:
		n += 16
	default:
		return 0, fmt.Errorf("%w: %q has a value of Go type %T", ErrHeader, h.Name, h.Value)
	}
	return n, nil
}

// EncodedLen is the size AppendMessage will add for m.
func EncodedLen(m Message) (int, error) {
	n := MinMessageSize + len(m.Payload)
	for _, h := range m.Headers {
		l, err := headerLen(h)
		if err != nil {
			return 0, err
		}
		n += l
	}
	if uint64(n) > math.MaxUint32 {
		return 0, fmt.Errorf("%w: %d bytes does not fit the length field", ErrTooLarge, n)
	}
	return n, nil
}

// AppendMessage appends the encoding of m to dst. It allocates only when dst
// lacks capacity. On error dst is returned unchanged.
func AppendMessage(dst []byte, m Message) ([]byte, error) {
	total, err := EncodedLen(m)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	dst = grow(dst, total)
	headersLen := total - MinMessageSize - len(m.Payload)
	dst = binary.BigEndian.AppendUint32(dst, uint32(total))
	dst = binary.BigEndian.AppendUint32(dst, uint32(headersLen))
	dst = binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:start+8]))
	for _, h := range m.Headers {
		dst = appendHeader(dst, h)
	}
	dst = append(dst, m.Payload...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:])), nil
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// appendHeader writes h, already checked by headerLen.
func appendHeader(b []byte, h Header) []byte {
	b = append(b, byte(len(h.Name)))
	b = append(b, h.Name...)
	switch v := h.Value.(type) {
	case bool:
		if v {
			b = append(b, TypeTrue)
		} else {
			b = append(b, TypeFalse)
		}
	case int8:
		b = append(b, TypeByte, byte(v))
	case int16:
		b = append(b, TypeShort)
		b = binary.BigEndian.AppendUint16(b, uint16(v))
	case int32:
		b = append(b, TypeInt)
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	case int64:
		b = append(b, TypeLong)
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	case []byte:
		b = append(b, TypeBytes)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	case string:
		b = append(b, TypeString)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	case time.Time:
		b = append(b, TypeTimestamp)
		b = binary.BigEndian.AppendUint64(b, uint64(v.UnixMilli()))
	case UUID:
		b = append(b, TypeUUID)
		b = append(b, v[:]...)
	}
	return b
}
