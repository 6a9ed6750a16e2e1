package natsstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eddy-streams/eddy/internal/storage"
)

// Options tune a Store.
type Options struct {
	// Replicas is the JetStream replica count of every shard stream and of
	// the metadata bucket: 3 in a cluster, 1 for a single node.
	Replicas int
	// Server, when set, is an embedded server the Store owns and shuts down
	// on Close (after closing the connection, which it also owns).
	Server *server.Server
	// OwnConn makes Close close the connection.
	OwnConn bool
	// Timeout bounds calls that take no context (SaveMeta, LoadMeta, Watch's
	// first look); 10 s when zero.
	Timeout time.Duration
	// PollInterval is how often watchers re-check their shards in case a
	// writer died between its ack and its notice; 1 s when zero.
	PollInterval time.Duration
	// AppendTimeout bounds an Append whose context has no deadline (it
	// retries through leader elections until then); 20 s when zero.
	AppendTimeout time.Duration
	// Now is the clock for arrival times; time.Now when nil.
	Now func() time.Time
}

// Store is a storage.Backend on JetStream. See the package doc for the mapping.
type Store struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	kv   jetstream.KeyValue
	opts Options

	mu     sync.Mutex
	closed bool
	shards map[storage.ShardID]*shardState // cached append state

	watch   *watchSet
	leaders *leaderWatch
	done    chan struct{}
	wg      sync.WaitGroup
}

// shardState is what an appender on this node believes about a shard's tip.
// It is a cache: a wrong guess costs one rejected publish and a reload.
type shardState struct {
	// acked is the newest sequence this node had acknowledged: a read
	// served by a replica that has not caught up to it is retried (reads
	// go to any replica, and a node must at least read its own writes).
	acked atomic.Uint64

	mu      sync.Mutex
	loaded  bool
	lastSeq uint64 // JetStream sequence of the newest record (position+1)
	lastMs  int64
	created int64
	sealed  bool
}

const (
	metaBucket = "EDDY_META"
	mdCreated  = "eddy.created"
	mdNonce    = "eddy.nonce"
	mdSealed   = "eddy.sealed"
	mdTipMs    = "eddy.tipms"
	payloadVer = 1
	hdrLen     = 9
	readBatch  = 256
	readBytes  = 8 << 20
	// attemptTimeout bounds one publish or tip reload; appendTimeout a whole
	// Append without a caller deadline.
	attemptTimeout = 2 * time.Second
	appendTimeout  = 20 * time.Second
)

// Open returns a Store over an established connection. It creates the
// metadata bucket if needed, retrying while a fresh cluster elects its
// JetStream meta leader (bounded by ctx).
func Open(ctx context.Context, nc *nats.Conn, opts Options) (*Store, error) {
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AppendTimeout <= 0 {
		opts.AppendTimeout = appendTimeout
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	var kv jetstream.KeyValue
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		kv, err = openMeta(cctx, js, opts.Replicas)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open metadata bucket %s: %w", metaBucket, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	s := &Store{nc: nc, js: js, kv: kv, opts: opts, shards: map[storage.ShardID]*shardState{}, done: make(chan struct{})}
	s.watch = newWatchSet(s)
	s.leaders = newLeaderWatch(nc)
	s.wg.Add(1)
	go s.pollLoop()
	return s, nil
}

// openMeta creates the metadata bucket if needed and turns direct reads off:
// a KV read must see the latest acknowledged write (LoadMeta after SaveMeta
// on any node), so reads go to the stream leader, not to any replica.
func openMeta(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	_, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       metaBucket,
		History:      5,
		Replicas:     replicas,
		Storage:      jetstream.FileStorage,
		MaxValueSize: MaxPayload - 4096,
	})
	if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
		return nil, err
	}
	str, err := js.Stream(ctx, "KV_"+metaBucket)
	if err != nil {
		return nil, err
	}
	if cfg := str.CachedInfo().Config; cfg.AllowDirect {
		cfg.AllowDirect = false
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return js.KeyValue(ctx, metaBucket)
}

// OpenEmbedded starts a single-node embedded server storing in dir and opens
// a Store over it (R1). The Store owns both.
func OpenEmbedded(dir, name string) (*Store, error) {
	srv, err := StartServer(ServerConfig{Name: name, StoreDir: dir})
	if err != nil {
		return nil, err
	}
	nc, err := ConnectInProcess(srv, name)
	if err != nil {
		srv.Shutdown()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := Open(ctx, nc, Options{Replicas: 1, Server: srv, OwnConn: true})
	if err != nil {
		nc.Close()
		srv.Shutdown()
		return nil, err
	}
	return st, nil
}

// Conn is the store's NATS connection (for leases and notices of other packages).
func (s *Store) Conn() *nats.Conn { return s.nc }

func streamName(id storage.ShardID) string {
	return "KIN_" + hex.EncodeToString([]byte(id.Stream)) + "_" + strconv.FormatUint(uint64(id.Index), 10)
}

func subject(prefix string, id storage.ShardID) string {
	return prefix + "." + hex.EncodeToString([]byte(id.Stream)) + "." + strconv.FormatUint(uint64(id.Index), 10)
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Store) state(id storage.ShardID) *shardState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.shards[id]
	if st == nil {
		st = &shardState{}
		s.shards[id] = st
	}
	return st
}

func (s *Store) forget(id storage.ShardID) {
	s.mu.Lock()
	delete(s.shards, id)
	s.mu.Unlock()
}

// mapErr turns JetStream errors into storage sentinels.
func mapErr(op string, id storage.ShardID, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("%s %s/%d: %w", op, id.Stream, id.Index, storage.ErrNotFound)
	case errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("%s %s/%d: %w", op, id.Stream, id.Index, storage.ErrClosed)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, jetstream.ErrJetStreamNotEnabled), isJSCode(err, 10008 /* cluster not available */):
		return fmt.Errorf("%s %s/%d: %w: %v", op, id.Stream, id.Index, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("%s %s/%d: %w", op, id.Stream, id.Index, err)
}

func isJSCode(err error, code jetstream.ErrorCode) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && ae.ErrorCode == code
}

func (s *Store) CreateShard(ctx context.Context, id storage.ShardID, createdMs int64) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	cfg := jetstream.StreamConfig{
		Name:               streamName(id),
		Subjects:           []string{subject("kin", id)},
		Storage:            jetstream.FileStorage,
		Replicas:           s.opts.Replicas,
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardOld,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		DenyDelete:         true,
		Metadata: map[string]string{
			mdCreated:     strconv.FormatInt(createdMs, 10),
			mdNonce:       hex.EncodeToString(nonce[:]),
			"eddy.stream": id.Stream,
			"eddy.index":  strconv.FormatUint(uint64(id.Index), 10),
		},
	}
	_, err := s.js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("create shard %s/%d: %w", id.Stream, id.Index, storage.ErrExists)
	}
	if err != nil {
		return mapErr("create shard", id, err)
	}
	s.forget(id)
	return nil
}

// info is one look at a shard's stream.
type info struct {
	first, last uint64
	created     int64
	tipMs       int64 // from metadata, used when the newest record is trimmed
	sealed      bool
	cfg         jetstream.StreamConfig
}

func (s *Store) info(ctx context.Context, id storage.ShardID) (info, error) {
	str, err := s.js.Stream(ctx, streamName(id))
	if err != nil {
		return info{}, mapErr("stream info", id, err)
	}
	ci := str.CachedInfo()
	var in info
	in.cfg = ci.Config
	in.first, in.last = ci.State.FirstSeq, ci.State.LastSeq
	in.created, _ = strconv.ParseInt(ci.Config.Metadata[mdCreated], 10, 64)
	in.tipMs, _ = strconv.ParseInt(ci.Config.Metadata[mdTipMs], 10, 64)
	in.sealed = ci.Config.Metadata[mdSealed] == "1"
	return in, nil
}

func (in info) trim() uint64 {
	if in.first == 0 {
		return 0
	}
	return in.first - 1
}

func (s *Store) loadLocked(ctx context.Context, id storage.ShardID, st *shardState) error {
	in, err := s.info(ctx, id)
	if err != nil {
		return err
	}
	st.lastSeq, st.created, st.sealed = in.last, in.created, in.sealed
	st.lastMs = in.tipMs
	if in.last > 0 && in.last >= in.first {
		r, ok, err := s.readOne(ctx, id, in.last)
		if err != nil {
			return err
		}
		if ok {
			st.lastMs = max(st.lastMs, r.ArrivalMs)
		}
	}
	st.loaded = true
	return nil
}

func encode(r storage.Record) []byte {
	var lb [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(lb[:], uint64(len(r.PartitionKey)))
	b := make([]byte, hdrLen+n+len(r.PartitionKey)+len(r.Data))
	b[0] = payloadVer
	copy(b[hdrLen:], lb[:n])
	copy(b[hdrLen+n:], r.PartitionKey)
	copy(b[hdrLen+n+len(r.PartitionKey):], r.Data)
	return b
}

func decode(seq uint64, b []byte) (storage.StoredRecord, error) {
	if len(b) < hdrLen || b[0] != payloadVer {
		return storage.StoredRecord{}, fmt.Errorf("record %d: bad header: %w", seq, storage.ErrCorrupt)
	}
	ms := int64(binary.BigEndian.Uint64(b[1:9]))
	k, n := binary.Uvarint(b[hdrLen:])
	if n <= 0 || uint64(len(b)-hdrLen-n) < k {
		return storage.StoredRecord{}, fmt.Errorf("record %d: bad key length: %w", seq, storage.ErrCorrupt)
	}
	off := hdrLen + n
	return storage.StoredRecord{Pos: seq - 1, ArrivalMs: ms, PartitionKey: b[off : off+int(k)], Data: b[off+int(k):]}, nil
}

func (s *Store) Append(ctx context.Context, id storage.ShardID, recs []storage.Record) (storage.AppendResult, error) {
	if len(recs) == 0 {
		return storage.AppendResult{}, errors.New("natsstore: append of an empty batch")
	}
	if s.isClosed() {
		return storage.AppendResult{}, storage.ErrClosed
	}
	payloads := make([][]byte, len(recs))
	for i, r := range recs {
		payloads[i] = encode(r)
	}
	st := s.state(id)
	st.mu.Lock()
	defer st.mu.Unlock()
	var lastErr error
	// While a shard's Raft group elects a new leader (4-9 s in nats-server
	// after a leader dies) publishes go unanswered: each attempt is bounded
	// by attemptTimeout (and by the shard's next election, leader.go), the
	// whole append by the caller's deadline or appendTimeout. An attempt
	// left unanswered may still have been stored: the retry publishes the
	// same bytes after the same expected sequence, and when that check
	// fails the records found there are compared with the batch (pending):
	// if they are the batch, it was stored once and that is the answer.
	var pend pending
	deadline := time.Now().Add(s.opts.AppendTimeout)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	name := streamName(id)
	var elected <-chan struct{} // closed when the shard elected a new leader
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if time.Now().After(deadline) {
				break
			}
			select {
			case <-ctx.Done():
				return storage.AppendResult{}, mapErr("append", id, ctx.Err())
			case <-elected: // a new leader: try it at once
			case <-time.After(time.Duration(min(attempt, 8)) * 25 * time.Millisecond):
			}
		}
		elected = s.leaders.next(name)
		if s.isClosed() {
			return storage.AppendResult{}, storage.ErrClosed
		}
		// One attempt (a tip reload if needed, then the publish) waits at
		// most attemptTimeout, and no longer than the shard's next leader
		// election: what the dead leader will never answer is abandoned
		// as soon as a new one exists (leader.go).
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		go func(elected <-chan struct{}) {
			select {
			case <-elected:
				cancel()
			case <-actx.Done():
			}
		}(elected)
		res, retry, err := s.appendAttempt(actx, id, st, recs, payloads, &pend)
		cancel()
		if err == nil {
			return res, nil
		}
		if !retry && !(errors.Is(err, context.Canceled) && ctx.Err() == nil) { // (cancelled by an election: retry)
			return storage.AppendResult{}, err
		}
		lastErr = err
	}
	return storage.AppendResult{}, mapErr("append", id, fmt.Errorf("%w (gave up after %v)", unavailable(lastErr), s.opts.AppendTimeout))
}

// pending is an append attempt that went unanswered: it may have been
// stored after expected with arrival time ms.
type pending struct {
	ok       bool
	expected uint64
	ms       int64
}

// appendAttempt is one try of Append; st.mu is held. retry reports an error
// worth another try (a stale view of the tip, a leader change, a quorum
// briefly missing).
func (s *Store) appendAttempt(ctx context.Context, id storage.ShardID, st *shardState, recs []storage.Record, payloads [][]byte, pend *pending) (storage.AppendResult, bool, error) {
	if !st.loaded {
		if err := s.loadLocked(ctx, id, st); err != nil {
			return storage.AppendResult{}, errors.Is(err, storage.ErrUnavailable), err
		}
	}
	n := uint64(len(payloads))
	if pend.ok && st.lastSeq != pend.expected {
		// The tip moved since the unanswered publish: is it our batch?
		stored, err := s.storedAt(ctx, id, pend.expected, pend.ms, recs)
		if err != nil {
			return storage.AppendResult{}, true, err
		}
		if stored {
			seq := pend.expected + n
			st.acked.Store(max(st.acked.Load(), seq))
			s.watch.notify(id, st.lastSeq, false)
			s.nc.Publish(subject("kinw", id), strconv.AppendUint(nil, st.lastSeq, 10))
			return storage.AppendResult{FirstPos: pend.expected, ArrivalMs: pend.ms}, false, nil
		}
		pend.ok = false // another node's records: append after them
	}
	if st.sealed {
		return storage.AppendResult{}, false, fmt.Errorf("append %s/%d: %w", id.Stream, id.Index, storage.ErrShardSealed)
	}
	ms := max(s.opts.Now().UnixMilli(), st.lastMs, st.created)
	if pend.ok {
		ms = pend.ms // the same bytes as the unanswered attempt
	}
	for _, p := range payloads {
		binary.BigEndian.PutUint64(p[1:9], uint64(ms))
	}
	seq, err := s.publish(ctx, id, payloads, st.lastSeq)
	if err == nil {
		first := seq - n // positions are seq-1
		st.lastSeq, st.lastMs = seq, ms
		st.acked.Store(seq)
		s.watch.notify(id, seq, false)
		s.nc.Publish(subject("kinw", id), strconv.AppendUint(nil, seq, 10))
		return storage.AppendResult{FirstPos: first, ArrivalMs: ms}, false, nil
	}
	switch {
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Unanswered: the leader died or an election is running. The
		// tip this node knows is still the one to expect (the
		// expected-last-sequence check catches it if not), so the retry
		// goes straight to the publish, without a stream-info call that
		// a leaderless stream would not answer either.
		*pend = pending{ok: true, expected: st.lastSeq, ms: ms}
		return storage.AppendResult{}, true, err
	case isJSCode(err, jetstream.JSErrCodeStreamWrongLastSequence), isJSCode(err, jetstream.JSErrCodeStreamWrongLastSequenceConstant),
		errors.Is(err, nats.ErrNoResponders), isJSCode(err, 10008), isIncomplete(err):
		// A stale view (another node appended, sealed or deleted), or a
		// cluster briefly without quorum: reload and try again.
		st.loaded = false
		return storage.AppendResult{}, true, err
	}
	st.loaded = false
	return storage.AppendResult{}, false, mapErr("append", id, err)
}

// storedAt reports whether the records after sequence expected are recs
// with arrival time ms: an unanswered publish of this node that was stored.
// A replica that has not caught up is asked again (bounded).
func (s *Store) storedAt(ctx context.Context, id storage.ShardID, expected uint64, ms int64, recs []storage.Record) (bool, error) {
	for try := 0; ; try++ {
		i := 0
		match := true
		err := s.directGet(ctx, id, expected+1, len(recs), readBytes, func(mseq uint64, data []byte) bool {
			r, err := decode(mseq, data)
			if err != nil || mseq != expected+1+uint64(i) || r.ArrivalMs != ms ||
				string(r.PartitionKey) != recs[i].PartitionKey || !bytes.Equal(r.Data, recs[i].Data) {
				match = false
				return false
			}
			i++
			return i < len(recs)
		})
		if err != nil {
			return false, mapErr("append", id, err)
		}
		if !match || i == len(recs) {
			return match && i == len(recs), nil
		}
		if try == 20 { // the tip said they are there; no replica shows them all
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, mapErr("append", id, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func unavailable(err error) error {
	if err == nil || errors.Is(err, storage.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
}

func isIncomplete(err error) bool {
	return isJSCode(err, 10176) || isJSCode(err, 10175) // atomic publish incomplete batch / too many inflight
}

type pubAck struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	Count  int    `json:"count"`
	Error  *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// publish appends payloads after expected (the last sequence the appender
// saw): one message with a plain publish, more as one atomic batch. It
// returns the sequence of the last message stored.
func (s *Store) publish(ctx context.Context, id storage.ShardID, payloads [][]byte, expected uint64) (uint64, error) {
	subj := subject("kin", id)
	exp := strconv.FormatUint(expected, 10)
	if len(payloads) == 1 {
		m := &nats.Msg{Subject: subj, Data: payloads[0], Header: nats.Header{"Nats-Expected-Last-Sequence": []string{exp}}}
		return s.request(ctx, m)
	}
	batch := nats.NewInbox()[len(nats.InboxPrefix):]
	for i, p := range payloads {
		h := nats.Header{"Nats-Batch-Id": []string{batch}, "Nats-Batch-Sequence": []string{strconv.Itoa(i + 1)}}
		if i == 0 {
			h["Nats-Expected-Last-Sequence"] = []string{exp}
		}
		m := &nats.Msg{Subject: subj, Data: p, Header: h}
		if i == len(payloads)-1 {
			h["Nats-Batch-Commit"] = []string{"1"}
			return s.request(ctx, m)
		}
		if err := s.nc.PublishMsg(m); err != nil {
			return 0, err
		}
	}
	panic("unreachable")
}

func (s *Store) request(ctx context.Context, m *nats.Msg) (uint64, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
	}
	resp, err := s.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return 0, err
	}
	var ack pubAck
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return 0, fmt.Errorf("bad publish ack %q: %w", resp.Data, err)
	}
	if ack.Error != nil {
		return 0, &jetstream.APIError{Code: ack.Error.Code, ErrorCode: jetstream.ErrorCode(ack.Error.ErrCode), Description: ack.Error.Description}
	}
	if ack.Seq == 0 {
		return 0, fmt.Errorf("publish ack without a sequence: %q", resp.Data)
	}
	return ack.Seq, nil
}

func (s *Store) Read(ctx context.Context, id storage.ShardID, from uint64, lim storage.ReadLimits, fn func(storage.StoredRecord) bool) (uint64, error) {
	if s.isClosed() {
		return 0, storage.ErrClosed
	}
	acked := s.state(id).acked.Load()
	for attempt := 0; ; attempt++ {
		next, stopped, err := s.read(ctx, id, from, lim, fn)
		// nothing yielded although this node acknowledged records there:
		// the replica that answered lags; ask again (bounded)
		if err != nil || stopped || next != from || from >= acked || attempt == 20 {
			return next, err
		}
		select {
		case <-ctx.Done():
			return next, nil
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// read is one pass of Read; stopped reports that fn or a limit ended it.
func (s *Store) read(ctx context.Context, id storage.ShardID, from uint64, lim storage.ReadLimits, fn func(storage.StoredRecord) bool) (uint64, bool, error) {
	next := from
	count, size := 0, 0
	seq := from + 1
	for {
		want := readBatch
		if lim.MaxRecords > 0 {
			want = min(want, lim.MaxRecords-count)
		}
		got := 0
		stop := false
		err := s.directGet(ctx, id, seq, want, readBytes, func(mseq uint64, data []byte) bool {
			got++
			r, err := decode(mseq, data)
			if err != nil {
				stop = true
				return false
			}
			sz := len(r.PartitionKey) + len(r.Data)
			if lim.MaxBytes > 0 && count > 0 && size+sz > lim.MaxBytes {
				stop = true
				return false
			}
			count++
			size += sz
			next = mseq
			seq = mseq + 1
			if !fn(r) || (lim.MaxRecords > 0 && count >= lim.MaxRecords) {
				stop = true
				return false
			}
			return true
		})
		if err != nil {
			if count > 0 && !errors.Is(err, storage.ErrClosed) {
				return next, true, nil
			}
			return from, false, mapErr("read", id, err)
		}
		if stop || got == 0 {
			break
		}
	}
	if count == 0 {
		in, err := s.info(ctx, id)
		if err != nil {
			return from, false, err
		}
		next = max(from, in.trim())
	}
	return next, count > 0, nil
}

// readOne reads the record at sequence seq or the first after it.
func (s *Store) readOne(ctx context.Context, id storage.ShardID, seq uint64) (storage.StoredRecord, bool, error) {
	var out storage.StoredRecord
	var derr error
	ok := false
	err := s.directGet(ctx, id, seq, 1, 0, func(mseq uint64, data []byte) bool {
		out, derr = decode(mseq, data)
		ok = derr == nil
		return false
	})
	if err == nil {
		err = derr
	}
	return out, ok, err
}

func (s *Store) PosAtTime(ctx context.Context, id storage.ShardID, ms int64) (uint64, error) {
	if s.isClosed() {
		return 0, storage.ErrClosed
	}
	in, err := s.info(ctx, id)
	if err != nil {
		return 0, err
	}
	return s.posAtTime(ctx, id, in, ms)
}

func (s *Store) posAtTime(ctx context.Context, id storage.ShardID, in info, ms int64) (uint64, error) {
	if in.last == 0 || in.first > in.last {
		return max(in.trim(), in.last), nil
	}
	// first sequence in [lo, hi) whose arrival >= ms; hi means none.
	lo, hi := in.first, in.last+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		r, ok, err := s.readOne(ctx, id, mid)
		if err != nil {
			return 0, mapErr("position at time", id, err)
		}
		if !ok { // trimmed under us from mid on
			lo = hi
			break
		}
		if r.ArrivalMs >= ms {
			hi = mid
		} else {
			lo = r.Pos + 2 // the sequence after the record read
		}
	}
	return lo - 1, nil
}

func (s *Store) Bounds(ctx context.Context, id storage.ShardID) (storage.Bounds, error) {
	if s.isClosed() {
		return storage.Bounds{}, storage.ErrClosed
	}
	in, err := s.info(ctx, id)
	if err != nil {
		return storage.Bounds{}, err
	}
	b := storage.Bounds{Trim: in.trim(), Next: in.last, Sealed: in.sealed, CreatedMs: in.created, TipMs: in.tipMs}
	if in.last > 0 && in.last >= in.first {
		r, ok, err := s.readOne(ctx, id, in.last)
		if err != nil {
			return storage.Bounds{}, mapErr("bounds", id, err)
		}
		if ok {
			b.TipMs = r.ArrivalMs
		}
	}
	return b, nil
}

func (s *Store) Watch(id storage.ShardID, next uint64) <-chan struct{} {
	return s.watch.add(id, next)
}

func (s *Store) SealShard(ctx context.Context, id storage.ShardID) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	st := s.state(id)
	st.mu.Lock()
	defer st.mu.Unlock()
	in, err := s.info(ctx, id)
	if err != nil {
		return err
	}
	if !in.sealed {
		cfg := in.cfg
		cfg.Subjects = []string{subject("kinsealed", id)}
		md := map[string]string{}
		for k, v := range cfg.Metadata {
			md[k] = v
		}
		md[mdSealed] = "1"
		cfg.Metadata = md
		if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
			return mapErr("seal", id, err)
		}
	}
	st.loaded = false
	s.watch.notify(id, 0, true)
	s.nc.Publish(subject("kinw", id), []byte("end"))
	return nil
}

func (s *Store) Trim(ctx context.Context, id storage.ShardID, cutoffMs int64) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	in, err := s.info(ctx, id)
	if err != nil {
		return err
	}
	pos, err := s.posAtTime(ctx, id, in, cutoffMs)
	if err != nil {
		return err
	}
	if pos <= in.trim() {
		return nil
	}
	if pos >= in.last && in.last > 0 {
		// Everything goes: keep the tip's arrival time for Bounds.TipMs.
		r, ok, err := s.readOne(ctx, id, in.last)
		if err != nil {
			return mapErr("trim", id, err)
		}
		if ok {
			cfg := in.cfg
			md := map[string]string{}
			for k, v := range cfg.Metadata {
				md[k] = v
			}
			md[mdTipMs] = strconv.FormatInt(r.ArrivalMs, 10)
			cfg.Metadata = md
			if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
				return mapErr("trim", id, err)
			}
		}
	}
	str, err := s.js.Stream(ctx, streamName(id))
	if err != nil {
		return mapErr("trim", id, err)
	}
	if err := str.Purge(ctx, jetstream.WithPurgeSequence(pos+1)); err != nil {
		return mapErr("trim", id, err)
	}
	return nil
}

func (s *Store) DeleteShard(ctx context.Context, id storage.ShardID) error {
	if s.isClosed() {
		return storage.ErrClosed
	}
	err := s.js.DeleteStream(ctx, streamName(id))
	s.forget(id)
	if err != nil {
		return mapErr("delete shard", id, err)
	}
	s.watch.notify(id, 0, true)
	s.nc.Publish(subject("kinw", id), []byte("end"))
	return nil
}

func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.done)
	s.wg.Wait()
	s.leaders.close()
	s.watch.closeAll()
	if s.opts.OwnConn {
		s.nc.Drain()
		s.nc.Close()
	}
	if s.opts.Server != nil {
		s.opts.Server.Shutdown()
		s.opts.Server.WaitForShutdown()
	}
	return nil
}

var _ storage.Backend = (*Store)(nil)

// Done is closed when the Store closes.
func (s *Store) Done() <-chan struct{} { return s.done }

// Server is the embedded nats-server the Store owns, nil over an external
// NATS (tests look at each replica's own copy through it).
func (s *Store) Server() *server.Server { return s.opts.Server }
