package glue

import (
	"slices"
	"testing"
)

// FuzzParseItemKey: any stored key decodes without panicking, and a key
// that decodes encodes back to the same parts.
func FuzzParseItemKey(f *testing.F) {
	f.Add(`["000000000000","us-east-1","db"]`)
	f.Add(`["000000000000","us-east-1","d/b","t\"x"]`)
	f.Add(`["a","b"]`)
	f.Add(`{"a":1}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, k string) {
		p, ok := parseItemKey(k)
		if !ok {
			return
		}
		if len(p) < 3 || len(p) > 4 {
			t.Fatalf("%q parsed into %d parts", k, len(p))
		}
		q, ok := parseItemKey(itemKey(p...))
		if !ok || !slices.Equal(p, q) {
			t.Fatalf("%q: %q re-encoded parses as %q", k, p, q)
		}
	})
}
