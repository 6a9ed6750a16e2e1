package eventstream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	sdkes "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

var testUUID = UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}

// allTypes has one header of every value type, with edge values.
func allTypes() Message {
	return Message{
		Headers: []Header{
			{"t", true},
			{"f", false},
			{"byte", int8(-128)},
			{"short", int16(-32768)},
			{"int", int32(2147483647)},
			{"long", int64(-9223372036854775808)},
			{"bytes", []byte{0, 1, 2, 0xff}},
			{"string", "héllo"},
			{"ts", time.UnixMilli(1764000000123).UTC()},
			{"uuid", testUUID},
			{"", ""},
			{"empty-bytes", []byte{}},
		},
		Payload: []byte(`{"Records":[]}`),
	}
}

func mustAppend(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := AppendMessage(nil, m)
	if err != nil {
		t.Fatalf("AppendMessage: %v", err)
	}
	return b
}

func equalMessages(a, b Message) bool {
	if !bytes.Equal(a.Payload, b.Payload) || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		ha, hb := a.Headers[i], b.Headers[i]
		if ha.Name != hb.Name {
			return false
		}
		switch va := ha.Value.(type) {
		case []byte:
			vb, ok := hb.Value.([]byte)
			if !ok || !bytes.Equal(va, vb) {
				return false
			}
		case time.Time:
			vb, ok := hb.Value.(time.Time)
			if !ok || !va.Equal(vb) {
				return false
			}
		default:
			if !reflect.DeepEqual(ha.Value, hb.Value) {
				return false
			}
		}
	}
	return true
}

func TestRoundTripEachType(t *testing.T) {
	for _, h := range allTypes().Headers {
		t.Run(h.Name, func(t *testing.T) {
			for _, payload := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte{7}, 70000)} {
				m := Message{Headers: []Header{h}, Payload: payload}
				b := mustAppend(t, m)
				if n, _ := EncodedLen(m); n != len(b) {
					t.Fatalf("EncodedLen %d, encoded %d bytes", n, len(b))
				}
				got, n, err := Decode(b, 0)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if n != len(b) {
					t.Fatalf("used %d of %d bytes", n, len(b))
				}
				if !equalMessages(m, got) {
					t.Fatalf("round trip: got %#v, want %#v", got, m)
				}
			}
		})
	}
}

func TestKnownBytes(t *testing.T) {
	// An empty message is the 16-byte minimum; a single string header is
	// laid out as name_len, name, type 7, u16 length, bytes.
	empty := mustAppend(t, Message{})
	if len(empty) != 16 || binary.BigEndian.Uint32(empty) != 16 || binary.BigEndian.Uint32(empty[4:]) != 0 {
		t.Fatalf("empty message % x", empty)
	}
	if got, want := binary.BigEndian.Uint32(empty[8:]), crc32.ChecksumIEEE(empty[:8]); got != want {
		t.Fatalf("prelude crc %08x, want %08x", got, want)
	}
	b := mustAppend(t, Message{Headers: []Header{{"ab", "xyz"}}, Payload: []byte("P")})
	hdr := b[12 : len(b)-5]
	if want := []byte{2, 'a', 'b', 7, 0, 3, 'x', 'y', 'z'}; !bytes.Equal(hdr, want) {
		t.Fatalf("header bytes % x, want % x", hdr, want)
	}
	if b[len(b)-5] != 'P' {
		t.Fatalf("payload not before the trailing crc: % x", b)
	}
}

func toSDK(t *testing.T, m Message) sdkes.Message {
	t.Helper()
	var hs sdkes.Headers
	for _, h := range m.Headers {
		var v sdkes.Value
		switch x := h.Value.(type) {
		case bool:
			v = sdkes.BoolValue(x)
		case int8:
			v = sdkes.Int8Value(x)
		case int16:
			v = sdkes.Int16Value(x)
		case int32:
			v = sdkes.Int32Value(x)
		case int64:
			v = sdkes.Int64Value(x)
		case []byte:
			v = sdkes.BytesValue(x)
		case string:
			v = sdkes.StringValue(x)
		case time.Time:
			v = sdkes.TimestampValue(x)
		case UUID:
			v = sdkes.UUIDValue(x)
		default:
			t.Fatalf("no SDK type for %T", x)
		}
		// Append directly: Headers.Set would merge duplicate names.
		hs = append(hs, sdkes.Header{Name: h.Name, Value: v})
	}
	return sdkes.Message{Headers: hs, Payload: m.Payload}
}

func fromSDKValue(v sdkes.Value) any {
	switch x := v.(type) {
	case sdkes.BoolValue:
		return bool(x)
	case sdkes.Int8Value:
		return int8(x)
	case sdkes.Int16Value:
		return int16(x)
	case sdkes.Int32Value:
		return int32(x)
	case sdkes.Int64Value:
		return int64(x)
	case sdkes.BytesValue:
		return []byte(x)
	case sdkes.StringValue:
		return string(x)
	case sdkes.TimestampValue:
		return time.Time(x)
	case sdkes.UUIDValue:
		return UUID(x)
	}
	return nil
}

func crossCases() []Message {
	return []Message{
		{},
		{Payload: []byte("payload only")},
		allTypes(),
		EventMessage("initial-response", "application/json", []byte("{}")),
		EventMessage("SubscribeToShardEvent", "application/x-amz-cbor-1.1", bytes.Repeat([]byte("r"), 1<<20)),
		ExceptionMessage("ResourceInUseException", "application/json", []byte(`{"message":"busy"}`)),
		ErrorMessage("InternalFailure", "boom"),
	}
}

// The AWS SDK's own decoder reads what we write.
func TestSDKDecodesOurs(t *testing.T) {
	dec := sdkes.NewDecoder()
	for i, m := range crossCases() {
		b := mustAppend(t, m)
		got, err := dec.Decode(bytes.NewReader(b), nil)
		if err != nil {
			t.Fatalf("case %d: SDK decode: %v", i, err)
		}
		if !bytes.Equal(got.Payload, m.Payload) {
			t.Fatalf("case %d: payload differs", i)
		}
		if len(got.Headers) != len(m.Headers) {
			t.Fatalf("case %d: %d headers, want %d", i, len(got.Headers), len(m.Headers))
		}
		for j, h := range got.Headers {
			want := Message{Headers: []Header{m.Headers[j]}}
			have := Message{Headers: []Header{{h.Name, fromSDKValue(h.Value)}}}
			if !equalMessages(want, have) {
				t.Fatalf("case %d header %d: SDK read %v=%v, want %v", i, j, h.Name, h.Value, m.Headers[j])
			}
		}
	}
}

// We read what the AWS SDK's encoder writes, byte for byte the same frame.
func TestWeDecodeSDK(t *testing.T) {
	enc := sdkes.NewEncoder()
	for i, m := range crossCases() {
		var buf bytes.Buffer
		if err := enc.Encode(&buf, toSDK(t, m)); err != nil {
			t.Fatalf("case %d: SDK encode: %v", i, err)
		}
		ours := mustAppend(t, m)
		if !bytes.Equal(buf.Bytes(), ours) {
			t.Fatalf("case %d: SDK frame differs from ours\n sdk % x\nours % x", i, head(buf.Bytes()), head(ours))
		}
		got, err := NewDecoder(&buf).Decode()
		if err != nil {
			t.Fatalf("case %d: decode: %v", i, err)
		}
		if !equalMessages(m, got) {
			t.Fatalf("case %d: got %v, want %v", i, got, m)
		}
	}
}

func head(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func TestDecoderStream(t *testing.T) {
	var stream []byte
	cases := crossCases()
	for _, m := range cases {
		stream = mustAppendTo(t, stream, m)
	}
	d := NewDecoder(bytes.NewReader(stream))
	for i, want := range cases {
		got, err := d.Decode()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !equalMessages(want, got) {
			t.Fatalf("message %d differs", i)
		}
	}
	if _, err := d.Decode(); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
	// Next reuses one buffer: each message is right while it is current,
	// whether it is longer or shorter than the one before.
	d = NewDecoder(bytes.NewReader(stream))
	for i, want := range cases {
		got, err := d.Next()
		if err != nil {
			t.Fatalf("Next message %d: %v", i, err)
		}
		if !equalMessages(want, got) {
			t.Fatalf("Next message %d differs", i)
		}
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("Next after the last message: %v, want io.EOF", err)
	}
	// A stream cut inside a message is an unexpected EOF, at every cut.
	one := mustAppend(t, allTypes())
	for cut := 1; cut < len(one); cut++ {
		_, err := NewDecoder(bytes.NewReader(one[:cut])).Decode()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v, want ErrUnexpectedEOF", cut, err)
		}
		if _, _, err := Decode(one[:cut], 0); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("Decode cut at %d: %v, want ErrUnexpectedEOF", cut, err)
		}
	}
}

func mustAppendTo(t *testing.T, dst []byte, m Message) []byte {
	t.Helper()
	b, err := AppendMessage(dst, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reframe rewrites both CRCs after a test edits a frame.
func reframe(b []byte) []byte {
	binary.BigEndian.PutUint32(b[8:], crc32.ChecksumIEEE(b[:8]))
	binary.BigEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func TestDecodeErrors(t *testing.T) {
	good := mustAppend(t, Message{Headers: []Header{{"s", "v"}}, Payload: []byte("data")})
	edit := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	cases := []struct {
		name string
		b    []byte
		max  int
		want error
	}{
		{"prelude crc", edit(func(b []byte) []byte { b[9] ^= 1; return b }), 0, ErrPreludeCRC},
		{"length without its crc", edit(func(b []byte) []byte { b[3]++; return b }), 0, ErrPreludeCRC},
		{"message crc", edit(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), 0, ErrMessageCRC},
		{"payload flipped", edit(func(b []byte) []byte { b[len(b)-6] ^= 0x20; return b }), 0, ErrMessageCRC},
		{"total below minimum", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b, 15)
			binary.BigEndian.PutUint32(b[8:], crc32.ChecksumIEEE(b[:8]))
			return b
		}), 0, ErrMalformed},
		{"headers longer than frame", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[4:], uint32(len(b)))
			return reframe(b)
		}), 0, ErrMalformed},
		{"over the limit", good, len(good) - 1, ErrTooLarge},
		{"unknown value type", edit(func(b []byte) []byte { b[14] = 10; return reframe(b) }), 0, ErrMalformed},
		{"string runs past headers", edit(func(b []byte) []byte { b[16] = 9; return reframe(b) }), 0, ErrMalformed},
		{"name runs past headers", edit(func(b []byte) []byte { b[12] = 200; return reframe(b) }), 0, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := Decode(c.b, c.max); !errors.Is(err, c.want) {
				t.Fatalf("Decode: %v, want %v", err, c.want)
			}
			d := NewDecoder(bytes.NewReader(c.b))
			d.SetMaxMessageSize(c.max)
			if _, err := d.Decode(); !errors.Is(err, c.want) {
				t.Fatalf("Decoder: %v, want %v", err, c.want)
			}
		})
	}
	// A huge advertised length is refused before anything is allocated.
	huge := make([]byte, 12)
	binary.BigEndian.PutUint32(huge, 1<<31)
	binary.BigEndian.PutUint32(huge[8:], crc32.ChecksumIEEE(huge[:8]))
	if _, err := NewDecoder(bytes.NewReader(huge)).Decode(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("2 GiB frame: %v, want ErrTooLarge", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		name string
		h    Header
	}{
		{"long name", Header{strings.Repeat("n", 256), true}},
		{"long string", Header{"s", strings.Repeat("v", MaxHeaderValueLen+1)}},
		{"long bytes", Header{"b", make([]byte, MaxHeaderValueLen+1)}},
		{"unsupported type", Header{"i", 5}},
		{"nil value", Header{"nil", nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := AppendMessage(dst, Message{Headers: []Header{c.h}})
			if !errors.Is(err, ErrHeader) {
				t.Fatalf("err %v, want ErrHeader", err)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed on error: %q", out)
			}
		})
	}
	// The limits themselves are fine.
	ok := Message{Headers: []Header{{strings.Repeat("n", 255), strings.Repeat("v", MaxHeaderValueLen)}}}
	if _, err := AppendMessage(nil, ok); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
}

func TestAppendMessageAllocs(t *testing.T) {
	m := EventMessage("SubscribeToShardEvent", "application/json", bytes.Repeat([]byte("x"), 4096))
	buf := make([]byte, 0, 8192)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = AppendMessage(buf[:0], m)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("AppendMessage into a big enough buffer allocated %.1f times", allocs)
	}
}

func TestHelpers(t *testing.T) {
	cases := []struct {
		m                  Message
		msgType, typHeader string
		typ, contentType   string
	}{
		{EventMessage("initial-response", "application/json", nil), "event", HeaderEventType, "initial-response", "application/json"},
		{EventMessage("SubscribeToShardEvent", "", nil), "event", HeaderEventType, "SubscribeToShardEvent", ""},
		{ExceptionMessage("ResourceNotFoundException", "application/x-amz-cbor-1.1", nil), "exception", HeaderExceptionType, "ResourceNotFoundException", "application/x-amz-cbor-1.1"},
		{ErrorMessage("InternalFailure", "oops"), "error", HeaderErrorCode, "InternalFailure", ""},
	}
	for _, c := range cases {
		got, _, err := Decode(mustAppend(t, c.m), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.String(HeaderMessageType) != c.msgType || got.String(c.typHeader) != c.typ || got.String(HeaderContentType) != c.contentType {
			t.Fatalf("headers %v", got.Headers)
		}
	}
	if m := ErrorMessage("C", "the message"); m.String(HeaderErrorMessage) != "the message" || len(m.Payload) != 0 {
		t.Fatalf("error message %v", m)
	}
}

func fuzzSeeds(f *testing.F) {
	for _, m := range crossCases()[:4] {
		b, err := AppendMessage(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 16))
}

// FuzzDecode: no input panics, and whatever decodes re-encodes to the same
// bytes.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := Decode(b, 1<<20)
		d := NewDecoder(bytes.NewReader(b))
		d.SetMaxMessageSize(1 << 20)
		m2, err2 := d.Decode()
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Decode err %v, Decoder err %v", err, err2)
		}
		if err != nil {
			return
		}
		if !equalMessages(m, m2) {
			t.Fatal("Decode and Decoder disagree")
		}
		re, err := AppendMessage(nil, m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoded\n% x\nfrom\n% x", re, b[:n])
		}
	})
}

// FuzzEncodeDecode builds messages from fuzz input and checks the round trip.
func FuzzEncodeDecode(f *testing.F) {
	f.Add("name", "value", []byte("payload"), int64(5), uint8(0))
	f.Add("", "", []byte{}, int64(-1), uint8(9))
	f.Add(":event-type", "SubscribeToShardEvent", []byte("{}"), int64(1764000000000), uint8(8))
	f.Fuzz(func(t *testing.T, name, sval string, payload []byte, ival int64, kind uint8) {
		var v any
		switch kind % 10 {
		case 0:
			v = true
		case 1:
			v = false
		case 2:
			v = int8(ival)
		case 3:
			v = int16(ival)
		case 4:
			v = int32(ival)
		case 5:
			v = ival
		case 6:
			v = []byte(sval)
		case 7:
			v = sval
		case 8:
			v = time.UnixMilli(ival).UTC()
		case 9:
			var u UUID
			copy(u[:], sval)
			v = u
		}
		m := Message{Headers: []Header{{name, v}, {"s", sval}}, Payload: payload}
		b, err := AppendMessage(nil, m)
		if err != nil {
			if len(name) > MaxHeaderNameLen || len(sval) > MaxHeaderValueLen {
				return
			}
			t.Fatalf("encode: %v", err)
		}
		got, n, err := Decode(b, len(b))
		if err != nil || n != len(b) {
			t.Fatalf("decode: %v (%d of %d bytes)", err, n, len(b))
		}
		if !equalMessages(m, got) {
			t.Fatalf("got %v, want %v", got, m)
		}
	})
}

func BenchmarkAppendMessage(b *testing.B) {
	m := EventMessage("SubscribeToShardEvent", "application/json", bytes.Repeat([]byte("x"), 64<<10))
	buf := make([]byte, 0, 80<<10)
	b.SetBytes(int64(len(m.Payload)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendMessage(buf[:0], m)
	}
}

func BenchmarkDecode(b *testing.B) {
	m := EventMessage("SubscribeToShardEvent", "application/json", bytes.Repeat([]byte("x"), 64<<10))
	frame, _ := AppendMessage(nil, m)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewDecoder(bytes.NewReader(frame)).Decode(); err != nil {
			b.Fatal(err)
		}
	}
}
