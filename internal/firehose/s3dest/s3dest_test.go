package s3dest

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPrefixEval(t *testing.T) {
	ts := time.Date(2026, 7, 3, 4, 5, 6, 789_000_000, time.UTC)
	cases := []struct {
		prefix, errType, want string
		re                    string
	}{
		{prefix: "", want: "2026/07/03/04/"},
		{prefix: "logs/", want: "logs/2026/07/03/04/"},
		{prefix: "legacy", want: "legacy2026/07/03/04/"},
		{prefix: "y=!{timestamp:yyyy}/m=!{timestamp:MM}/d=!{timestamp:dd}/h=!{timestamp:HH}/", want: "y=2026/m=07/d=03/h=04/"},
		{prefix: "!{timestamp:'year='yyyy'/month='M'/'}", want: "year=2026/month=7/"},
		{prefix: "!{timestamp:yy-D HH:mm:ss.SSS}/", want: "26-184 04:05:06.789/"},
		{prefix: "!{timestamp:''yyyy''}", want: "'2026'"},
		{prefix: "!{timestamp:EEE MMM h a}", want: "Fri Jul 4 AM"},
		{prefix: "err/!{firehose:error-output-type}/", errType: "processing-failed", want: "err/processing-failed/2026/07/03/04/"},
		{prefix: "r/!{firehose:random-string}/", re: `^r/[a-z0-9]{11}/2026/07/03/04/$`},
	}
	for _, tc := range cases {
		p, err := ParsePrefix(tc.prefix)
		if err != nil {
			t.Fatalf("%q: %v", tc.prefix, err)
		}
		got := p.Eval(ts, tc.errType)
		if tc.re != "" {
			if !regexp.MustCompile(tc.re).MatchString(got) {
				t.Errorf("%q → %q, want match %s", tc.prefix, got, tc.re)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%q → %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

func TestPrefixErrors(t *testing.T) {
	for _, s := range []string{"a!{", "!{timestamp:yyyy", "!{nope}", "!{foo:bar}", "!{firehose:nope}", "!{timestamp:'x}", "!{timestamp:qq}", "!{partitionKeyFromQuery:k}"} {
		if _, err := ParsePrefix(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

func TestObjectKey(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got := ObjectKey("p/2026/01/02/03/", "my-stream", "7", ts, "0b6d3a3e-2a6c-4f4e-9a65-0e0c9d0f0a1b", ".gz")
	want := "p/2026/01/02/03/my-stream-7-2026-01-02-03-04-05-0b6d3a3e-2a6c-4f4e-9a65-0e0c9d0f0a1b.gz"
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if u := NewUUID(); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) {
		t.Fatalf("uuid %s", u)
	}
	// The stream's CustomTimeZone shifts both the prefix and the name.
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no tzdata")
	}
	p, _ := ParsePrefix("")
	local := ts.In(loc)
	if k := ObjectKey(p.Eval(local, ""), "s", "1", local, "u", ""); !strings.HasPrefix(k, "2026/01/02/12/s-1-2026-01-02-12-04-05-u") {
		t.Fatalf("tokyo key %s", k)
	}
}

func TestCompressionRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	bodies := [][]byte{{}, []byte("hello"), bytes.Repeat([]byte("abc\n"), 300000)}
	noise := make([]byte, 700000)
	for i := range noise {
		noise[i] = byte(r.IntN(256))
	}
	bodies = append(bodies, noise)
	for _, f := range []string{Uncompressed, GZIP, ZIP, Snappy, HadoopSnappy} {
		for i, b := range bodies {
			enc, err := Compress(f, b, "entry")
			if err != nil {
				t.Fatalf("%s/%d: %v", f, i, err)
			}
			dec, err := Decompress(f, enc)
			if err != nil {
				t.Fatalf("%s/%d: decompress: %v", f, i, err)
			}
			if !bytes.Equal(dec, b) {
				t.Fatalf("%s/%d: round trip differs", f, i)
			}
		}
	}
	// Framing details readers rely on.
	sj, _ := Compress(Snappy, []byte("x"), "")
	if !bytes.HasPrefix(sj, []byte("\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01")) {
		t.Fatalf("snappy-java header % x", sj[:16])
	}
	hs, _ := Compress(HadoopSnappy, []byte("hello"), "")
	if !bytes.HasPrefix(hs, []byte{0, 0, 0, 5}) {
		t.Fatalf("hadoop-snappy header % x", hs[:8])
	}
	if Extension(HadoopSnappy) != ".snappy" || Extension(GZIP) != ".gz" || Extension(ZIP) != ".zip" || Extension(Uncompressed) != "" {
		t.Fatal("extensions")
	}
}

func TestBucketFromARN(t *testing.T) {
	for arn, want := range map[string]string{"arn:aws:s3:::b": "b", "arn:aws-cn:s3:::my.bucket": "my.bucket", "arn:aws:s3:::": "", "bucket": "", "arn:aws:s3:::b/k": ""} {
		got, ok := BucketFromARN(arn)
		if got != want || ok != (want != "") {
			t.Errorf("%s → %q %v", arn, got, ok)
		}
	}
}

func FuzzDecompress(f *testing.F) {
	for _, fm := range []string{GZIP, ZIP, Snappy, HadoopSnappy} {
		b, _ := Compress(fm, []byte("some records\nmore records\n"), "e")
		f.Add(fm, b)
	}
	f.Add(Snappy, []byte("\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\xff\xff\xff\xff"))
	f.Add(HadoopSnappy, []byte{0, 0, 0, 9, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		out, err := Decompress(format, data)
		if err != nil {
			return
		}
		if format == HadoopSnappy || format == Snappy {
			again, err := Compress(format, out, "e")
			if err != nil {
				t.Fatal(err)
			}
			if back, err := Decompress(format, again); err != nil || !bytes.Equal(back, out) {
				t.Fatalf("re-compress round trip: %v", err)
			}
		}
	})
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"", "logs/", "!{timestamp:yyyy}/!{firehose:random-string}", "!{timestamp:'a''b'yyyy}", "a!{", "!{firehose:error-output-type}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			return
		}
		_ = p.Eval(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "processing-failed")
	})
}
