package natsstore

import (
	"strings"
	"testing"
)

// FuzzItemKey: an item's KV key is one NATS token after the namespace's
// (no dots, spaces or wildcards whatever the name), decodes back to the
// name, and any key of the bucket decodes without panicking.
func FuzzItemKey(f *testing.F) {
	f.Add("lambda", "fn/000000000000/us-east-1/f", "item.6c616d626461.zz")
	f.Add("analytics", "a/b/c.d *>", "meta.00")
	f.Fuzz(func(t *testing.T, ns, key, raw string) {
		k := itemKey(ns, key)
		if rest := strings.TrimPrefix(k, itemPrefix(ns)); strings.ContainsAny(rest, ". *>\t\r\n") || rest == "" && key != "" {
			t.Fatalf("key %q of item %q is not one token", k, key)
		}
		if got, ok := itemName(ns, k); key != "" && (!ok || got != key) {
			t.Fatalf("itemName(%q) = %q, %v; want %q", k, got, ok, key)
		}
		itemName(ns, raw)
	})
}
