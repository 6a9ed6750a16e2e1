package kinesis

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseShardID(t *testing.T) {
	for _, tc := range []struct {
		in string
		ix uint32
		ok bool
	}{
		{"shardId-000000000000", 0, true},
		{"shardId-000000000042", 42, true},
		{"anything-7", 7, true},
		{"a-b-c-0009", 9, true},
		{"-00002147483647", 2147483647, true},
		{"2147483647", 2147483647, true},
		{"0000000000000000000000001", 1, true},
		{"2147483648", 0, false},
		{"shardId-002147483648", 0, false},
		{"99999999999999999999999", 0, false},
		{"ABKLFD8", 0, false},
		{"2.14E4", 0, false},
		{"shardId-", 0, false},
		{"", 0, false},
		{"7-x", 0, false},
	} {
		ix, ok := parseShardID(tc.in)
		if ix != tc.ix || ok != tc.ok {
			t.Errorf("%q: %d %v, want %d %v", tc.in, ix, ok, tc.ix, tc.ok)
		}
	}
}

// FuzzParseShardID: the id shardID writes reads back, and an accepted id
// is digits after the last hyphen naming a value ≤ 2147483647.
func FuzzParseShardID(f *testing.F) {
	for _, s := range []string{"shardId-000000000001", "x-2147483648", "", "-", "1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ix, ok := parseShardID(s)
		if !ok {
			return
		}
		tail := s[strings.LastIndexByte(s, '-')+1:]
		v, err := strconv.ParseUint(strings.TrimLeft(tail, "0")+"0", 10, 64)
		if err != nil || v/10 != uint64(ix) || ix > 2147483647 {
			t.Fatalf("%q -> %d", s, ix)
		}
		if back, ok := parseShardID(shardID(ix)); !ok || back != ix {
			t.Fatalf("round trip %d", ix)
		}
	})
}
