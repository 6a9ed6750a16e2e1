package bench

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	cases := []struct {
		name    string
		samples func(r *rand.Rand) []time.Duration
	}{
		{"constant", func(*rand.Rand) []time.Duration { return slices.Repeat([]time.Duration{3 * time.Millisecond}, 100) }},
		{"small exact", func(*rand.Rand) []time.Duration { return []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} }},
		{"uniform", func(r *rand.Rand) []time.Duration {
			s := make([]time.Duration, 10000)
			for i := range s {
				s[i] = time.Duration(r.Int64N(int64(50 * time.Millisecond)))
			}
			return s
		}},
		{"long tail", func(r *rand.Rand) []time.Duration {
			s := make([]time.Duration, 5000)
			for i := range s {
				s[i] = time.Duration(r.ExpFloat64() * float64(time.Millisecond))
			}
			return append(s, 2*time.Second)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			samples := c.samples(rand.New(rand.NewPCG(1, 2)))
			// Split over two histograms to exercise Merge.
			var a, b Histogram
			for i, d := range samples {
				if i%2 == 0 {
					a.Record(d)
				} else {
					b.Record(d)
				}
			}
			a.Merge(&b)
			if a.Count() != uint64(len(samples)) {
				t.Fatalf("count %d, want %d", a.Count(), len(samples))
			}
			sorted := slices.Clone(samples)
			slices.Sort(sorted)
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 1} {
				want := sorted[int(q*float64(len(sorted)-1))]
				got := a.Quantile(q)
				tol := float64(want)/64 + 1
				if diff := float64(got - want); diff > tol || diff < -tol {
					t.Errorf("q%.2f = %v, want %v ± %.0fns", q, got, want, tol)
				}
			}
		})
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Summary().Count != 0 {
		t.Error("empty histogram not zero")
	}
}

func TestBucketsMonotonic(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 3, 1<<63 - 1, 1 << 63, ^uint64(0)} {
		b := bucketOf(v)
		if b < prev || b >= histBuckets {
			t.Errorf("bucketOf(%d) = %d (prev %d, max %d)", v, b, prev, histBuckets-1)
		}
		prev = b
		if v < 1<<62 {
			mid := bucketMid(b)
			if bucketOf(mid) != b {
				t.Errorf("bucketMid(%d) = %d lies in bucket %d", b, mid, bucketOf(mid))
			}
		}
	}
}

func TestCountRecords(t *testing.T) {
	cases := []struct {
		body string
		want int
		err  bool
	}{
		{`{}`, 0, false},
		{`{"StreamName":"s"}`, 0, false},
		{`{"Records":[]}`, 0, false},
		{`{"Records":null}`, 0, false},
		{`{"Records":[{"Data":"AAA=","PartitionKey":"k"}],"StreamName":"s"}`, 1, false},
		{` { "StreamName" : "a]}\",[" , "Records" : [ {"Data":"x","PartitionKey":"},{"} , {"PartitionKey":"[[\\"} ] } `, 2, false},
		{`{"Other":{"Records":[1,2,3]},"Records":[{"a":[1,{"b":[]}]},{},{}]}`, 3, false},
		{`{"Records":[1,2],"Records":[1]}`, 1, false},
		{`{"Recor\u0064s":[{},{}]}`, 2, false},
		{`{"records":[{},{}]}`, 0, false},
		{`{"Records":{"a":1}}`, 0, true},
		{`{"Records":[{}`, 0, true},
		{`[]`, 0, true},
		{`{"Records":[{},]}`, 0, true},
		{``, 0, true},
	}
	for _, c := range cases {
		got, err := countRecords([]byte(c.body))
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("countRecords(%s) = %d, %v; want %d, error %v", c.body, got, err, c.want, c.err)
		}
	}
}

// refCount is encoding/json's answer for valid JSON: ok false when the body
// is not an object or Records is neither an array nor null.
func refCount(b []byte) (int, bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return 0, false
	}
	raw, found := obj["Records"]
	if !found {
		return 0, true
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(raw, &recs); err != nil {
		return 0, false
	}
	return len(recs), true
}

// FuzzCountRecords checks the scanner never panics and agrees with
// encoding/json on every valid object.
func FuzzCountRecords(f *testing.F) {
	for _, s := range []string{
		`{"Records":[{"Data":"AAA=","PartitionKey":"k"}],"StreamName":"s"}`,
		`{"Records":[1,"]",{"x":"[{"},[[]]],"Records":[]}`,
		`{"Recor\u0064s":[{},{}],"a\"b":null}`,
		`{"Records":null}`,
		`{"x":[{"Records":[1]}]}`,
		`{"Records":[true,false,null,-1.5e3]}`,
		strings.Repeat(`[`, 50),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := countRecords(b)
		if !json.Valid(b) {
			return
		}
		want, ok := refCount(b)
		if !ok {
			if err == nil {
				t.Fatalf("countRecords(%q) = %d, want an error", b, got)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("countRecords(%q) = %d, %v; want %d", b, got, err, want)
		}
	})
}

func TestParseStatCPU(t *testing.T) {
	cases := []struct {
		line string
		want time.Duration
		err  bool
	}{
		{"1234 (eddy) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 0 0", 3250 * time.Millisecond, false},
		{"77 (a b) c)) R 1 2 3 4 5 6 7 8 9 10 1 2 3 4", 30 * time.Millisecond, false},
		{"77 (x) R 1 2 3", 0, true},
		{"no parenthesis", 0, true},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 1 0 0", 0, true},
	}
	for _, c := range cases {
		got, err := parseStatCPU([]byte(c.line))
		if (err != nil) != c.err || got != c.want {
			t.Errorf("parseStatCPU(%q) = %v, %v; want %v, error %v", c.line, got, err, c.want, c.err)
		}
	}
}
