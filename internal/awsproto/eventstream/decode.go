package eventstream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// prelude is the checked fixed part of a frame.
type prelude struct {
	total, headers uint32
}

// readPrelude checks the 12 prelude bytes against max.
func readPrelude(p []byte, max int) (prelude, error) {
	pr := prelude{
		total:   binary.BigEndian.Uint32(p[0:4]),
		headers: binary.BigEndian.Uint32(p[4:8]),
	}
	if got, want := crc32.ChecksumIEEE(p[0:8]), binary.BigEndian.Uint32(p[8:12]); got != want {
		return pr, fmt.Errorf("%w: computed %08x, frame says %08x", ErrPreludeCRC, got, want)
	}
	if pr.total < MinMessageSize {
		return pr, fmt.Errorf("%w: total length %d below the minimum %d", ErrMalformed, pr.total, MinMessageSize)
	}
	if max > 0 && uint64(pr.total) > uint64(max) {
		return pr, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, pr.total, max)
	}
	if pr.headers > pr.total-MinMessageSize {
		return pr, fmt.Errorf("%w: headers length %d exceeds the frame (total %d)", ErrMalformed, pr.headers, pr.total)
	}
	return pr, nil
}

// Decode reads the first message of b, allowing at most max bytes (0 means
// DefaultMaxMessageSize), and reports how many bytes it used. The returned
// message's byte slices alias b. A b too short for the frame it starts gives
// an error wrapping io.ErrUnexpectedEOF.
func Decode(b []byte, max int) (Message, int, error) {
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	if len(b) < preludeLen {
		return Message{}, 0, fmt.Errorf("eventstream: prelude of %d bytes: %w", len(b), io.ErrUnexpectedEOF)
	}
	pr, err := readPrelude(b[:preludeLen], max)
	if err != nil {
		return Message{}, 0, err
	}
	if uint64(len(b)) < uint64(pr.total) {
		return Message{}, 0, fmt.Errorf("eventstream: frame of %d bytes, have %d: %w", pr.total, len(b), io.ErrUnexpectedEOF)
	}
	m, err := parseFrame(b[:pr.total], pr)
	if err != nil {
		return Message{}, 0, err
	}
	return m, int(pr.total), nil
}

// parseFrame checks the message CRC of a whole frame and splits it.
func parseFrame(f []byte, pr prelude) (Message, error) {
	end := len(f) - crcLen
	if got, want := crc32.ChecksumIEEE(f[:end]), binary.BigEndian.Uint32(f[end:]); got != want {
		return Message{}, fmt.Errorf("%w: computed %08x, frame says %08x", ErrMessageCRC, got, want)
	}
	hEnd := preludeLen + int(pr.headers)
	hs, err := parseHeaders(f[preludeLen:hEnd])
	if err != nil {
		return Message{}, err
	}
	return Message{Headers: hs, Payload: f[hEnd:end:end]}, nil
}

// parseHeaders splits a headers block. Byte values alias b.
func parseHeaders(b []byte) ([]Header, error) {
	if len(b) == 0 {
		return nil, nil
	}
	// Every header takes at least 3 bytes; count first to allocate once.
	n := 0
	for off := 0; off < len(b); n++ {
		l, err := headerSize(b[off:])
		if err != nil {
			return nil, fmt.Errorf("header %d at offset %d: %w", n, off, err)
		}
		off += l
	}
	hs := make([]Header, 0, n)
	for off := 0; off < len(b); {
		nl := int(b[off])
		name := string(b[off+1 : off+1+nl])
		p := off + 1 + nl
		typ := b[p]
		p++
		var v any
		switch typ {
		case TypeTrue:
			v = true
		case TypeFalse:
			v = false
		case TypeByte:
			v = int8(b[p])
			p++
		case TypeShort:
			v = int16(binary.BigEndian.Uint16(b[p:]))
			p += 2
		case TypeInt:
			v = int32(binary.BigEndian.Uint32(b[p:]))
			p += 4
		case TypeLong:
			v = int64(binary.BigEndian.Uint64(b[p:]))
			p += 8
		case TypeTimestamp:
			v = time.UnixMilli(int64(binary.BigEndian.Uint64(b[p:]))).UTC()
			p += 8
		case TypeBytes, TypeString:
			l := int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			if typ == TypeBytes {
				v = b[p : p+l : p+l]
			} else {
				v = string(b[p : p+l])
			}
			p += l
		case TypeUUID:
			var u UUID
			copy(u[:], b[p:p+16])
			v = u
			p += 16
		}
		hs = append(hs, Header{Name: name, Value: v})
		off = p
	}
	return hs, nil
}

var errTruncatedHeader = fmt.Errorf("%w: truncated header", ErrMalformed)

// headerSize validates the header at the start of b and returns its size.
func headerSize(b []byte) (int, error) {
	if len(b) < 1 {
		return 0, errTruncatedHeader
	}
	p := 1 + int(b[0])
	if len(b) < p+1 {
		return 0, errTruncatedHeader
	}
	typ := b[p]
	p++
	var vl int
	switch typ {
	case TypeTrue, TypeFalse:
	case TypeByte:
		vl = 1
	case TypeShort:
		vl = 2
	case TypeInt:
		vl = 4
	case TypeLong, TypeTimestamp:
		vl = 8
	case TypeUUID:
		vl = 16
	case TypeBytes, TypeString:
		if len(b) < p+2 {
			return 0, errTruncatedHeader
		}
		vl = int(binary.BigEndian.Uint16(b[p:]))
		if vl > MaxHeaderValueLen {
			return 0, fmt.Errorf("%w: header value of %d bytes (max %d)", ErrMalformed, vl, MaxHeaderValueLen)
		}
		p += 2
	default:
		return 0, fmt.Errorf("%w: unknown header value type %d", ErrMalformed, typ)
	}
	if len(b) < p+vl {
		return 0, errTruncatedHeader
	}
	return p + vl, nil
}

// Decoder reads messages from a stream. It reads ahead in large blocks
// into a window of its own and parses frames where they lie, so a busy
// stream costs one read call per many messages and one copy of its bytes.
type Decoder struct {
	r    io.Reader
	max  int
	win  []byte // read-ahead window; win[lo:hi] is unread
	lo   int
	hi   int
	rerr error // sticky read error, reported once the window is drained
}

// decoderBlock is the smallest window, and so the smallest read.
const decoderBlock = 64 << 10

// NewDecoder reads from r with the DefaultMaxMessageSize limit.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, max: DefaultMaxMessageSize}
}

// SetMaxMessageSize changes the largest frame Decode accepts (n <= 0 restores
// the default).
func (d *Decoder) SetMaxMessageSize(n int) {
	if n <= 0 {
		n = DefaultMaxMessageSize
	}
	d.max = n
}

// Decode reads the next message. It returns io.EOF when the stream ends
// cleanly between messages and an error wrapping io.ErrUnexpectedEOF when it
// ends inside one. The message owns its memory.
func (d *Decoder) Decode() (Message, error) {
	f, pr, err := d.frame()
	if err != nil {
		return Message{}, err
	}
	return parseFrame(append([]byte(nil), f...), pr)
}

// Next is Decode without a copy or an allocation per message: the message
// aliases the decoder's window and is valid until the next call.
func (d *Decoder) Next() (Message, error) {
	f, pr, err := d.frame()
	if err != nil {
		return Message{}, err
	}
	return parseFrame(f, pr)
}

// frame returns the next whole frame, in the window, and its prelude.
func (d *Decoder) frame() ([]byte, prelude, error) {
	if err := d.fill(preludeLen); err != nil {
		if errors.Is(err, io.EOF) && d.hi == d.lo {
			return nil, prelude{}, io.EOF
		}
		return nil, prelude{}, fmt.Errorf("eventstream: read prelude: %w", unexpected(err))
	}
	pr, err := readPrelude(d.win[d.lo:d.lo+preludeLen], d.max)
	if err != nil {
		return nil, pr, err
	}
	if err := d.fill(int(pr.total)); err != nil {
		return nil, pr, fmt.Errorf("eventstream: read frame of %d bytes: %w", pr.total, unexpected(err))
	}
	f := d.win[d.lo : d.lo+int(pr.total) : d.lo+int(pr.total)]
	d.lo += int(pr.total)
	return f, pr, nil
}

// unexpected turns a plain EOF inside a message into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// fill reads until n bytes are unread in the window, moving the unread
// part to the front or growing the window when n would not fit.
func (d *Decoder) fill(n int) error {
	for d.hi-d.lo < n {
		if d.rerr != nil {
			return d.rerr
		}
		if d.lo+n > len(d.win) {
			w := d.win
			if n > len(w) {
				w = make([]byte, max(n, decoderBlock))
			}
			d.hi = copy(w, d.win[d.lo:d.hi])
			d.lo = 0
			d.win = w
		}
		m, err := d.r.Read(d.win[d.hi:])
		d.hi += m
		if err != nil {
			d.rerr = err
		}
	}
	return nil
}
