package shardmap

import (
	"bytes"
	"math/big"
	"strings"
	"testing"
)

func TestEvenRangesMatchAWS(t *testing.T) {
	// AWS splits a 3-shard stream at these keys.
	r := EvenRanges(3)
	want := []string{"0", "113427455640312821154458202477256070484", "113427455640312821154458202477256070485",
		"226854911280625642308916404954512140969", "226854911280625642308916404954512140970",
		"340282366920938463463374607431768211455"}
	got := []string{r[0].Start.String(), r[0].End.String(), r[1].Start.String(), r[1].End.String(), r[2].Start.String(), r[2].End.String()}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("boundary %d = %s, want %s", i, got[i], want[i])
		}
	}
	for n := 1; n <= 64; n++ {
		rs := EvenRanges(n)
		if rs[0].Start != (HashKey{}) || rs[n-1].End != MaxHashKey {
			t.Fatalf("n=%d: does not cover the key space", n)
		}
		for i := 1; i < n; i++ {
			if rs[i].Start != rs[i-1].End.Add(1) {
				t.Fatalf("n=%d: gap between %d and %d", n, i-1, i)
			}
		}
	}
}

func TestHashKeyStringParse(t *testing.T) {
	for _, s := range []string{"0", "1", "18446744073709551615", "18446744073709551616", "340282366920938463463374607431768211455", "10000000000000000000"} {
		k, err := ParseHashKey(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if k.String() != s {
			t.Fatalf("round trip %s -> %s", s, k.String())
		}
		b, _ := new(big.Int).SetString(s, 10)
		if b.Cmp(new(big.Int).Or(new(big.Int).Lsh(new(big.Int).SetUint64(k.Hi), 64), new(big.Int).SetUint64(k.Lo))) != 0 {
			t.Fatalf("%s parsed to wrong value", s)
		}
	}
	for _, s := range []string{"", "-1", "340282366920938463463374607431768211456", "1a", "99999999999999999999999999999999999999999"} {
		if _, err := ParseHashKey(s); err == nil {
			t.Fatalf("%q: parsed", s)
		}
	}
}

func TestHashPartitionKey(t *testing.T) {
	// md5("a") = 0cc175b9c0f1b6a831c399e269772661
	k := HashPartitionKey("a")
	if k.Hi != 0x0cc175b9c0f1b6a8 || k.Lo != 0x31c399e269772661 {
		t.Fatalf("md5 routing: %x %x", k.Hi, k.Lo)
	}
}

func TestSeqMatchesAWSExample(t *testing.T) {
	// A real AWS sequence number: shard 0, seq index 195.
	const aws = "49594189147623985939251953501666965394405037144469929986"
	f, err := DecodeSeq(aws)
	if err != nil {
		t.Fatal(err)
	}
	if f.ShardIndex != 0 || f.Pos != 195 || f.ShardCreateSecs != 0x05c9993c8 || f.ArrivalSecs != 0x05c9993df {
		t.Fatalf("decoded %+v", f)
	}
	if got := EncodeSeq(f); got != aws {
		t.Fatalf("encode = %s", got)
	}
}

func TestSeqRoundTripAndOrder(t *testing.T) {
	prev := ""
	for _, pos := range []uint64{0, 1, 9, 10, 1 << 20, 1 << 40, 1<<48 - 1, 1 << 48, EndPos} {
		f := SeqFields{ShardCreateSecs: 1764000000, ShardIndex: 0x1234567a, Pos: pos, ArrivalSecs: 1764000123}
		s := EncodeSeq(f)
		if len(s) != 56 {
			t.Fatalf("len %d: %s", len(s), s)
		}
		g, err := DecodeSeq(s)
		if err != nil || g != f {
			t.Fatalf("round trip %+v -> %s -> %+v %v", f, s, g, err)
		}
		if prev != "" && !(len(s) > len(prev) || (len(s) == len(prev) && s > prev)) {
			t.Fatalf("not increasing: %s then %s", prev, s)
		}
		prev = s
	}
	for _, s := range []string{"", "0", "1", "x", strings.Repeat("9", 57), "49594189147623985939251953501666965394405037144469929987"} {
		if _, err := DecodeSeq(s); err == nil {
			t.Fatalf("%q decoded", s)
		}
	}
}

func TestIteratorSealed(t *testing.T) {
	c, err := NewIteratorCodec(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	it := Iterator{Account: "000000000000", Region: "us-east-1", StreamName: "s", StreamCreated: 17, ShardIndex: 3, Pos: 99, IssuedMs: 12345}
	s := c.Encode(it)
	if len(s) < 152 || !strings.HasPrefix(s, "AAAAAAAAAAE") {
		t.Fatalf("iterator shape: %d %q", len(s), s[:12])
	}
	got, err := c.Decode(s)
	if err != nil || got != it {
		t.Fatalf("decode: %+v %v", got, err)
	}
	b := []byte(s)
	b[40] ^= 1
	if _, err := c.Decode(string(b)); err == nil {
		t.Fatal("tampered iterator accepted")
	}
	other, _ := NewIteratorCodec(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Decode(s); err == nil {
		t.Fatal("iterator from another key accepted")
	}
}

func TestMidpointSplitsRange(t *testing.T) {
	r := EvenRanges(1)[0]
	m := r.Midpoint()
	if m.Cmp(r.Start) <= 0 || m.Cmp(r.End) > 0 {
		t.Fatalf("midpoint %s outside", m)
	}
	if m.String() != "170141183460469231731687303715884105728" {
		t.Fatalf("midpoint = %s", m)
	}
}

func FuzzDecodeSeq(f *testing.F) {
	f.Add("49594189147623985939251953501666965394405037144469929986")
	f.Add("0")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		fields, err := DecodeSeq(s)
		if err != nil {
			return
		}
		back := EncodeSeq(fields)
		g, err := DecodeSeq(back)
		if err != nil || g != fields {
			t.Fatalf("%q -> %+v -> %q -> %+v %v", s, fields, back, g, err)
		}
	})
}

func FuzzDecodeIterator(f *testing.F) {
	c, _ := NewIteratorCodec(bytes.Repeat([]byte{1}, 32))
	f.Add(c.Encode(Iterator{Account: "a", Region: "r", StreamName: "n", Pos: 5}))
	f.Add("AAAAAAAAAAE=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		it, err := c.Decode(s)
		if err != nil {
			return
		}
		if _, err := c.Decode(c.Encode(it)); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseHashKey(f *testing.F) {
	f.Add("340282366920938463463374607431768211455")
	f.Add("0")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseHashKey(s)
		if err != nil {
			return
		}
		b, ok := new(big.Int).SetString(s, 10)
		if !ok || b.String() != k.String() {
			t.Fatalf("%q -> %s", s, k)
		}
	})
}

func TestAppendSeqRunMatchesAppendSeq(t *testing.T) {
	for _, start := range []uint64{1, 9, 99999, 1<<48 - 3, 1<<63 - 5} {
		f := SeqFields{ShardCreateSecs: 1764000000, ShardIndex: 7, Pos: start, ArrivalSecs: 1764000100}
		got := strings.Fields(string(AppendSeqRun(nil, f, 5)))
		if len(got) != 5 {
			t.Fatalf("%d numbers", len(got))
		}
		for k, s := range got {
			g := f
			g.Pos = start + uint64(k)
			if want := EncodeSeq(g); s != want {
				t.Fatalf("pos %d: %s, want %s", g.Pos, s, want)
			}
		}
	}
	// a carry that lengthens the number
	if got := string(addDecimal(append(make([]byte, 0, 8), "999"...), "1")); got != "1000" {
		t.Fatalf("999+1 = %s", got)
	}
}

func FuzzAppendSeqRun(f *testing.F) {
	f.Add(uint64(1764000000), uint32(3), uint64(1), uint64(1764000001), uint8(7))
	f.Add(uint64(1<<36-1), uint32(1<<31), uint64(1<<48-2), uint64(1<<36-1), uint8(4))
	f.Fuzz(func(t *testing.T, create uint64, ix uint32, pos, arr uint64, n uint8) {
		fs := SeqFields{ShardCreateSecs: create & mask36, ShardIndex: ix, Pos: pos % EndPos, ArrivalSecs: arr & mask36}
		if fs.Pos+uint64(n) >= EndPos {
			return
		}
		got := strings.Fields(string(AppendSeqRun(nil, fs, int(n))))
		if len(got) != int(n) {
			t.Fatalf("%d numbers, want %d", len(got), n)
		}
		for k, s := range got {
			g := fs
			g.Pos += uint64(k)
			if want := EncodeSeq(g); s != want {
				t.Fatalf("%+v: %s, want %s", g, s, want)
			}
		}
	})
}
