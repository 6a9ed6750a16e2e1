// Package replicated names what a service needs, in cluster mode, from the
// store the nodes share (natsstore.Store): control state kept as one item
// per resource, written by compare-and-set on the item's revision and
// watched by every node, and whole objects (Lambda's code). Services
// declare their Options.Shared with these interfaces, so they depend on
// the behaviour, not on NATS.
package replicated

import "context"

// Items is per-item control state in namespaces. A revision of 0 means
// "must not exist yet"; PutItem and DeleteItem fail with an error for
// which IsConflict is true when the item's revision has moved on.
type Items interface {
	LoadItems(ns string, fn func(key string, val []byte, rev uint64)) error
	PutItem(ns, key string, rev uint64, val []byte) (uint64, error)
	DeleteItem(ns, key string, rev uint64) error
	// WatchItems calls fn for every later change in ns, from any node this
	// one included (val nil: deleted), until ctx ends.
	WatchItems(ctx context.Context, ns string, fn func(key string, val []byte, rev uint64)) error
	IsConflict(err error) bool
}

// Objects is a replicated store of named blobs of any size.
type Objects interface {
	PutObject(name string, data []byte) error
	GetObject(name string) ([]byte, error)
	DeleteObject(name string) error
}
