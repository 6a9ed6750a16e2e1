// Package kinesis implements the Kinesis Data Streams API
// (X-Amz-Target prefix "Kinesis_20131202") on top of a storage.Backend.
//
// Design:
//   - Control state (streams, shards and their lineage, consumers, tags,
//     policies, settings) lives in memory under one RWMutex and is saved as a
//     versioned JSON blob through Backend.SaveMeta after every change, before
//     the call returns. Records live in one shard log per shard.
//   - The data path (PutRecords, GetRecords) holds the read lock only to
//     resolve the stream and its routing table; appends and reads run outside
//     it. A shard sealed by a concurrent split or merge makes an append fail
//     with storage.ErrShardSealed, and the record is routed again.
//   - Sequence numbers and shard iterators come from shardmap: sequence
//     numbers encode shard index, shard creation time and the record's log
//     position; iterators are sealed with a key kept in the metadata.
//   - Asynchronous state changes (CREATING→ACTIVE, UPDATING→ACTIVE,
//     DELETING→gone) take Options.TransitionDelay (default 0: at once).
//
// One file per operation (op_*.go), each opened by a comment on its
// behaviour and any difference from AWS.
package kinesis

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
	"github.com/eddy-streams/eddy/internal/storage"
)

// TargetPrefix is the X-Amz-Target prefix of the Data Streams API.
const TargetPrefix = "Kinesis_20131202"

// Options configure the service.
type Options struct {
	Backend storage.Backend
	Now     func() time.Time
	Logger  *slog.Logger

	// TransitionDelay is how long CREATING, UPDATING and DELETING last.
	TransitionDelay time.Duration
	// EnforceLimits turns on per-shard write and read quotas.
	EnforceLimits bool
	// ShardLimit is the account shard quota (DescribeLimits ShardLimit).
	ShardLimit int
	// OnDemandStreamLimit is the on-demand stream quota per account.
	OnDemandStreamLimit int
	// IteratorTTL is a shard iterator's lifetime (AWS: 5 minutes).
	IteratorTTL time.Duration
	// RetentionCheck is how often expired records are trimmed (default 30 s).
	RetentionCheck time.Duration
}

// Service is the Data Streams API.
type Service struct {
	opt     Options
	backend storage.Backend
	now     func() time.Time
	log     *slog.Logger
	iters   *shardmap.IteratorCodec
	limits  *limiter

	mu       sync.RWMutex
	streams  map[nsKey]*stream
	accounts map[string]*accountSettings // by account id
	idSeq    uint64
	iterKey  []byte

	stop chan struct{}
	wg   sync.WaitGroup

	hubOnce sync.Once
	hub     *fanout // enhanced fan-out subscriptions (fanout.go)

	hooks hooks

	metaRev uint64 // revision of the shared metadata this node holds (cluster.go)
}

// hooks let other parts of the server (enhanced fan-out) observe changes.
type hooks struct {
	onConsumerGone func(consumerARN string)
}

type nsKey struct{ account, region, name string }

type accountSettings struct {
	CommitmentStatus string `json:"commitmentStatus,omitempty"`
	StartedMs        int64  `json:"startedMs,omitempty"`
	EndedMs          int64  `json:"endedMs,omitempty"`
	EarliestEndMs    int64  `json:"earliestEndMs,omitempty"`
}

// persisted is the metadata blob. Version 1.
type persisted struct {
	Version     int                         `json:"version"`
	IteratorKey []byte                      `json:"iteratorKey"`
	IDSeq       uint64                      `json:"idSeq"`
	Streams     []*stream                   `json:"streams"`
	Accounts    map[string]*accountSettings `json:"accounts,omitempty"`
}

const metaNamespace = "kinesis"

// New loads the service state from the backend (or starts empty) and starts
// the retention janitor.
func New(opt Options) (*Service, error) {
	if opt.Backend == nil {
		return nil, errors.New("kinesis: no storage backend")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.ShardLimit == 0 {
		opt.ShardLimit = 20000
	}
	if opt.OnDemandStreamLimit == 0 {
		opt.OnDemandStreamLimit = 50
	}
	if opt.IteratorTTL == 0 {
		opt.IteratorTTL = 5 * time.Minute
	}
	if opt.RetentionCheck == 0 {
		opt.RetentionCheck = 30 * time.Second
	}
	s := &Service{
		opt: opt, backend: opt.Backend, now: opt.Now, log: opt.Logger,
		streams: map[nsKey]*stream{}, accounts: map[string]*accountSettings{},
		stop: make(chan struct{}),
	}
	s.limits = newLimiter(opt.Now)
	blob, err := s.clusterLoad()
	if err != nil {
		return nil, fmt.Errorf("kinesis: load metadata: %w", err)
	}
	var p persisted
	if blob != nil {
		if err := json.Unmarshal(blob, &p); err != nil {
			return nil, fmt.Errorf("kinesis: decode metadata: %w", err)
		}
		if p.Version != 1 {
			return nil, fmt.Errorf("kinesis: metadata version %d not supported", p.Version)
		}
	}
	if len(p.IteratorKey) != 32 {
		p.IteratorKey = make([]byte, 32)
		if _, err := rand.Read(p.IteratorKey); err != nil {
			return nil, fmt.Errorf("kinesis: iterator key: %w", err)
		}
	}
	s.iters, err = shardmap.NewIteratorCodec(p.IteratorKey)
	if err != nil {
		return nil, err
	}
	s.idSeq = p.IDSeq
	for _, st := range p.Streams {
		st.reroute()
		s.streams[nsKey{st.Account, st.Region, st.Name}] = st
	}
	if p.Accounts != nil {
		s.accounts = p.Accounts
	}
	s.iterKey = p.IteratorKey
	s.mu.Lock()
	err = s.saveLocked()
	if errors.Is(err, errMetaConflict) {
		err = nil // another node saved first; its state is loaded (cluster.go)
	}
	// finish transitions interrupted by a restart
	for _, st := range s.streams {
		s.resumeTransitionLocked(st)
		var closed []*shard
		for _, sh := range st.Shards {
			if !sh.open() {
				closed = append(closed, sh)
			}
		}
		s.sealLocked(st, closed...)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := s.clusterWatch(); err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

// Close stops background work. It does not close the backend.
func (s *Service) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}

// TargetPrefix implements awsproto.Service.
func (s *Service) TargetPrefix() string { return TargetPrefix }

type handler func(s *Service, r *awsproto.Request) (any, error)

var ops = map[string]handler{}

func register(name string, h handler) { ops[name] = h }

// Handle implements awsproto.Service.
func (s *Service) Handle(r *awsproto.Request) (any, error) {
	h, ok := ops[r.Operation]
	if !ok {
		return nil, awserr.UnknownOperation()
	}
	return s.handleRetrying(h, r)
}

// Operations lists the operation names the service serves, SubscribeToShard
// (a Stream) included: the gateway answers any other as unknown and labels
// its request counter with these only (gateway.OperationLister).
func (s *Service) Operations() []string { return Operations() }

// Operations lists the implemented operation names.
func Operations() []string {
	out := make([]string, 0, len(ops)+1)
	for k := range ops {
		out = append(out, k)
	}
	return append(out, "SubscribeToShard")
}

// decode reads the request body into v.
func decode(r *awsproto.Request, v any) error { return awsproto.Decode(r.Codec, r.Body, v) }

// saveLocked persists the control state. Caller holds s.mu (write).
func (s *Service) saveLocked() error {
	p := persisted{Version: 1, IteratorKey: s.iterKey, IDSeq: s.idSeq, Accounts: s.accounts}
	for _, st := range s.streams {
		p.Streams = append(p.Streams, st)
	}
	blob, err := json.Marshal(&p)
	if err != nil {
		return fmt.Errorf("kinesis: encode metadata: %w", err)
	}
	if err := s.clusterSaveLocked(blob); err != nil {
		return fmt.Errorf("kinesis: save metadata: %w", err)
	}
	return nil
}

// commitLocked saves and maps a failure to InternalFailure (logging it).
func (s *Service) commitLocked() error {
	if err := s.saveLocked(); err != nil {
		if e := clusterSaveErr(err); e != nil {
			return e
		}
		s.log.Error("metadata save failed", "err", err)
		return awserr.Internal()
	}
	return nil
}

func (s *Service) newID() string {
	s.idSeq++
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x%012x", s.idSeq, b)
}

// ---- names, ARNs, lookups ----

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func streamARN(region, account, name string) string {
	return "arn:" + partition(region) + ":kinesis:" + region + ":" + account + ":stream/" + name
}

func (st *stream) arn() string { return streamARN(st.Region, st.Account, st.Name) }

func (st *stream) consumerARN(c *consumer) string {
	return fmt.Sprintf("%s/consumer/%s:%d", st.arn(), c.Name, c.CreatedMs/1000)
}

// arnParts is a parsed Kinesis ARN.
type arnParts struct {
	region, account, stream string
	consumer                string // "" for a stream ARN
	consumerTime            string
}

var arnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):([0-9]{12}):stream/([a-zA-Z0-9_.-]{1,128})(?:/consumer/([a-zA-Z0-9_.-]{1,128}):([0-9]+))?$`)

func parseARN(s string) (arnParts, bool) {
	m := arnPattern.FindStringSubmatch(s)
	if m == nil {
		return arnParts{}, false
	}
	return arnParts{region: m[1], account: m[2], stream: m[3], consumer: m[4], consumerTime: m[5]}, true
}

func notFound(name, account string) error {
	return awserr.ResourceNotFound("Stream %s under account %s not found.", name, account)
}

// lookupLocked resolves a stream from StreamName and/or StreamARN. Caller
// holds s.mu (read or write).
func (s *Service) lookupLocked(r *awsproto.Request, name, arn *string) (*stream, error) {
	account, region, n := r.Account, r.Region, ""
	if arn != nil && *arn != "" {
		p, ok := parseARN(*arn)
		if !ok || p.consumer != "" {
			return nil, awserr.InvalidArgument("StreamARN %s is invalid.", *arn)
		}
		account, region, n = p.account, p.region, p.stream
		if name != nil && *name != "" && *name != n {
			return nil, awserr.InvalidArgument("StreamARN %s and StreamName %s do not refer to the same stream.", *arn, *name)
		}
	} else if name != nil {
		n = *name
	}
	st := s.streams[nsKey{account, region, n}]
	if st == nil {
		return nil, notFound(n, account)
	}
	return st, nil
}

// validateStreamRef checks the StreamName/StreamARN pair: one is needed.
func validateStreamRef(v *awserr.Validation, name, arn *string) {
	if name != nil {
		checkName(v, *name, "streamName")
	}
	if arn != nil {
		checkLen(v, *arn, "streamARN", 1, 2048)
	}
}

func requireStreamRef(v *awserr.Validation, name, arn *string) error {
	validateStreamRef(v, name, arn)
	if err := v.Err(); err != nil {
		return err
	}
	if (name == nil || *name == "") && (arn == nil || *arn == "") {
		return awserr.InvalidArgument("Either StreamName or StreamARN should be provided.")
	}
	return nil
}

// checkName applies the name pattern, then the length, in the order AWS
// reports them (an empty name breaks both).
func checkName(v *awserr.Validation, s, path string) {
	if !namePattern.MatchString(s) {
		v.Add(s, path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
	checkLen(v, s, path, 1, 128)
}

func checkLen(v *awserr.Validation, s, path string, lo, hi int) {
	n := len([]rune(s))
	if n < lo {
		v.Add(s, path, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	}
	if n > hi {
		v.Add(s, path, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
}

func checkRange(v *awserr.Validation, n *int64, path string, lo, hi int64) {
	if n == nil {
		return
	}
	if *n < lo {
		v.Add(*n, path, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	}
	if *n > hi {
		v.Add(*n, path, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
}

// activeLocked resolves a stream for a control call, which needs it ACTIVE.
// Caller holds s.mu.
func (s *Service) activeLocked(r *awsproto.Request, name, arn *string) (*stream, error) {
	st, err := s.lookupLocked(r, name, arn)
	if err != nil {
		return nil, err
	}
	if err := requireActive(st); err != nil {
		return nil, err
	}
	return st, nil
}

func requireActive(st *stream) error {
	if st.Status != stateActive {
		return awserr.ResourceInUse("Stream %s under account %s not ACTIVE, instead in state %s", st.Name, st.Account, st.Status)
	}
	return nil
}

// ---- transitions ----

// transitionLocked moves st to state now, then to ACTIVE after the delay.
func (s *Service) transitionLocked(st *stream, state string) {
	st.Status = state
	if s.opt.TransitionDelay <= 0 {
		st.Status = stateActive
		return
	}
	s.scheduleActivate(st)
}

func (s *Service) scheduleActivate(st *stream) {
	id := st.ID
	s.schedule(s.opt.TransitionDelay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		cur := s.streams[nsKey{st.Account, st.Region, st.Name}]
		if cur == nil || cur.ID != id || (cur.Status != stateCreating && cur.Status != stateUpdating) {
			return
		}
		cur.Status = stateActive
		_ = s.commitLocked()
	})
}

func (s *Service) resumeTransitionLocked(st *stream) {
	switch st.Status {
	case stateCreating, stateUpdating:
		if s.opt.TransitionDelay <= 0 {
			st.Status = stateActive
		} else {
			s.scheduleActivate(st)
		}
	case stateDeleting:
		s.finishDeleteLocked(st)
	}
	for _, c := range append([]*consumer(nil), st.Consumers...) {
		switch c.Status {
		case stateCreating:
			c.Status = stateActive
		case stateDeleting:
			s.removeConsumerLocked(st, c)
		}
	}
}

// ---- retention ----

func (s *Service) janitor() {
	defer s.wg.Done()
	t := time.NewTicker(s.opt.RetentionCheck)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.enforceRetention()
		}
	}
}

// enforceRetention trims expired records and drops closed shards whose
// records have all expired.
func (s *Service) enforceRetention() {
	now := s.now()
	type job struct {
		st *stream
		sh *shard
	}
	var jobs []job
	s.mu.RLock()
	for _, st := range s.streams {
		for _, sh := range st.Shards {
			jobs = append(jobs, job{st, sh})
		}
	}
	s.mu.RUnlock()
	ctx := context.Background()
	var gone []job
	for _, j := range jobs {
		// Retention and the close time change under Service.mu (a split or
		// merge closes shards with it held): read both under it, then call
		// the backend without it (docs/design.md, Locks).
		s.mu.RLock()
		hours := j.st.RetentionHours
		closedMs := j.sh.ClosedMs
		s.mu.RUnlock()
		cutoff := now.Add(-time.Duration(hours) * time.Hour).UnixMilli()
		id := storage.ShardID{Stream: j.st.ID, Index: j.sh.Index}
		if err := s.backend.Trim(ctx, id, cutoff); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.log.Warn("retention trim failed", "stream", j.st.Name, "shard", j.sh.id, "err", err)
			continue
		}
		if closedMs != 0 && closedMs < cutoff {
			if b, err := s.backend.Bounds(ctx, id); err == nil && b.Trim >= b.Next {
				gone = append(gone, j)
			}
		}
	}
	if len(gone) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range gone {
		kept := j.st.Shards[:0]
		for _, sh := range j.st.Shards {
			if sh != j.sh {
				kept = append(kept, sh)
			}
		}
		j.st.Shards = kept
		_ = s.backend.DeleteShard(ctx, storage.ShardID{Stream: j.st.ID, Index: j.sh.Index})
	}
	_ = s.commitLocked()
}

// EnforceRetention runs one retention pass now (tests, operators).
func (s *Service) EnforceRetention() { s.enforceRetention() }

func (s *Service) nowMs() int64 { return s.now().UnixMilli() }

// storageErr maps a backend error on the data path.
func (s *Service) storageErr(op string, err error) error {
	if ae, ok := awserr.As(err); ok {
		return ae
	}
	s.log.Error("storage error", "op", op, "err", err)
	return awserr.Internal()
}

// schedule runs f after d unless the service is closed first.
func (s *Service) schedule(d time.Duration, f func()) {
	time.AfterFunc(d, func() {
		select {
		case <-s.stop:
		default:
			f()
		}
	})
}

// EnsureStream creates a PROVISIONED stream with n shards unless it exists
// (used by --init-streams).
func (s *Service) EnsureStream(account, region, name string, n int) error {
	s.mu.RLock()
	exists := s.streams[nsKey{account, region, name}] != nil
	s.mu.RUnlock()
	if exists {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"StreamName": name, "ShardCount": n})
	_, err := s.createStream(&awsproto.Request{Ctx: context.Background(), Operation: "CreateStream", Codec: awsproto.JSON, Body: body, Account: account, Region: region})
	return err
}
