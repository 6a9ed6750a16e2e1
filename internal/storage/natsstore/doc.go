// Package natsstore is the clustered storage.Backend: shard logs in NATS
// JetStream, metadata in a replicated JetStream key-value bucket.
//
// Mapping. Each shard is one JetStream stream named KIN_<hex(stream id)>_<index>
// with the single subject kin.<hex>.<index> (NATS names cannot hold the dots
// and slashes a stream id may contain). A shard position is the JetStream
// sequence minus one, so positions stay dense and start at 0. Streams are
// file-backed, AllowDirect (reads by direct get from any replica),
// AllowAtomicPublish (a PutRecords batch is one all-or-nothing commit), and
// the embedded server runs with sync_interval: always.
//
// Record payload (one NATS message per Kinesis record, no headers):
//
//	offset  size     field
//	0       1        version (1)
//	1       8        arrival time, epoch ms, big-endian (the batch's, clamped)
//	9       uvarint  partition key length k
//	9+n     k        partition key
//	9+n+k   rest     data
//
// Arrival times and positions. An append computes the batch's arrival time
// as max(now, previous tip time, shard creation time) and publishes with
// Nats-Expected-Last-Sequence set to the tip it computed from; a node whose
// view is stale gets a wrong-last-sequence error, reloads the tip and
// retries. So arrival times never go backwards within a shard even when
// several nodes append to it, and PosAtTime is a binary search over the
// payload times.
//
// Sealing. A sealed shard's stream has its subject moved to
// kinsealed.<hex>.<index> and the metadata key eddy.sealed set, in one
// stream update: a publish to the old subject finds no stream, so no node can
// append after the seal, however stale its cache. (JetStream's own Sealed
// flag is not used: it also blocks purges, which Trim needs.)
//
// Failover. An append whose publish goes unanswered (the shard's leader
// died) retries as soon as the shard's new leader announces itself
// (leader.go), with the same bytes after the same expected sequence; when
// the expected-sequence check then fails because the unanswered batch was
// stored after all, the records found there are compared with the batch and
// it is answered from them instead of being appended twice.
//
// Routes. StartServer can require mutual TLS (RouteTLS) and a user and
// password (RouteUser, RoutePassword) on the routes between nodes.
//
// Watch. After a successful append the writer publishes the new tip on the
// core subject kinw.<hex>.<index>; every node's watchers listen there, and a
// slow poll covers a writer that died between its ack and that notice.
//
// Metadata. SaveMeta/LoadMeta keep one key per namespace in the KV bucket
// EDDY_META; LoadMetaRev and UpdateMeta expose the revision for
// compare-and-set control-plane changes.
//
// Lock order: shardState.mu (held across one Append or SealShard, network
// calls included) before watchSet.mu and leaderWatch.mu; Store.mu and
// leaderWatch.mu are leaves, never held while taking another lock.
package natsstore
