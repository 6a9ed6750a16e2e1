// Package firehose is Eddy's Amazon Data Firehose: the
// `Firehose_20150804.*` JSON 1.1 API, a durable per-stream record buffer, and
// delivery to S3-compatible storage.
//
// Design:
//
//   - Every delivery stream owns one shard log in the storage Backend
//     (storage.ShardID{Stream: "fh-" + internal id}). PutRecord(Batch) appends
//     to it and answers only after Append returned, so an acknowledged record
//     is as durable as the backend promises. A KinesisStreamAsSource stream
//     appends what it reads from the data stream to the same log.
//   - One delivery goroutine per stream reads the log from the delivered
//     position, gathers a buffer until BufferingHints.SizeInMBs is reached or
//     IntervalInSeconds has passed since the oldest buffered record arrived
//     (whichever first; interval 0 delivers at once), encodes and uploads it,
//     and only then checkpoints the new delivered position in metadata and
//     trims the log. A crash between upload and checkpoint re-delivers the
//     buffer (at least once); nothing is lost or reordered. Failed uploads
//     are retried with backoff while records are younger than 24 hours.
//   - Metadata for all streams of all accounts is one JSON blob saved with
//     Backend.SaveMeta("firehose") after every change, including checkpoints.
//   - The loops of a stream run under a lease (Options.Leases): on one node
//     always; in cluster mode only on the node holding it, with the blob
//     shared by compare-and-set and the checkpoints in fenced keys of their
//     own (cluster.go).
//
// Persisted metadata (namespace "firehose", JSON, written atomically by the
// backend):
//
//	{"version": 1,                      // bumped on any incompatible change
//	 "streams": [{
//	   "account", "region", "name",      // identity; "id" names the buffer log fh-<id>
//	   "type", "status", "version",      // DeliveryStreamType, status, VersionId
//	   "createdMs", "updatedMs",
//	   "dest": {…}, "extended": bool,    // the S3Config (API member names), ExtendedS3 or S3
//	   "other": {"kind", "config"},      // a destination beyond S3 (dest_other.go); dest is then its S3Configuration
//	   "directPut", "kinesisSource", "startMs",
//	   "encKeyType", "encKeyArn", "encStatus", "tags": [{Key, Value}],
//	   "delivered": N,                   // first buffer-log position not yet delivered
//	   "shards": {"shardId-…": {"seq": "…", "done": bool}}}]}  // Kinesis source progress
//
// The buffer log's records hold the raw record bytes (no partition key); their
// arrival time is the backend's.
//
// Memory of partitioned delivery (dynamic partitioning, format conversion;
// lake.go), with P ≤ 500 active partitions and C = max(Options.LakeMemory
// (default 256 MiB), SizeInMBs MiB):
//
//	B = Σ records (data bytes + 56 B slot)
//	  + Σ distinct partition-key maps (≈ 312 B + key and value bytes; one per partition
//	    when its records' keys agree, as they do when the keys name the partition)
//	B < C + one record (the loop stops reading at C and then delivers the largest
//	    partitions early; a record is ≤ 1,000 KiB)
//	resident ≤ B                       buffered records
//	         + ≤ 24 B × values per record  Parquet rows of the partitions being delivered
//	                                   (≤ 64 at once; rows point into the records' bytes)
//	         + ≤ B                     their encoded objects (Parquet column buffers of one
//	                                   row group each, ≤ BlockSizeBytes and ≤ the partition)
//	         + ≤ B                     the HTTP client's copy of each body in flight
//	         + ≈ 1 MiB                 ≤ 128 idle S3 connections
//	         ≈ 3 × C at worst, whatever P is.
//
// Lock order: Service.saveMu, then Service.mu. Metrics use atomics.
package firehose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/eddy-streams/eddy/internal/lambda"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/glue"
	"github.com/eddy-streams/eddy/internal/lease"
	"github.com/eddy-streams/eddy/internal/storage"
)

// Options configures a Service.
type Options struct {
	Backend storage.Backend
	Now     func() time.Time // nil: time.Now
	Logger  *slog.Logger

	// Server-wide S3 endpoint for deliveries (empty: AWS's own). A stream's
	// tag "eddy:s3-endpoint" overrides the URL for that stream.
	S3Endpoint  string
	S3AccessKey string
	S3SecretKey string
	S3Region    string
	// S3MultipartThreshold and S3PartSize override the multipart upload
	// thresholds (defaults 16 MiB and 8 MiB).
	S3MultipartThreshold, S3PartSize int

	// Streams reads the source data streams of KinesisStreamAsSource
	// delivery streams in process (*kinesis.Service), in the stream ARN's
	// account: no credentials, whatever --auth says. Nil: such streams
	// wait for a source that never comes.
	Streams SourceStreams

	DefaultAccount string
	DefaultRegion  string

	// Lambda runs the functions of Lambda processors (transform.go).
	Lambda lambda.Invoker
	// Catalog serves the Glue table schemas of record format conversion.
	Catalog glue.Catalog
	// LakeMemory bounds the bytes buffered in memory across the partitions
	// of one stream with dynamic partitioning or format conversion
	// (default 256 MiB; never below the stream's SizeInMBs).
	LakeMemory int

	// RetryBase and RetryMax bound the backoff between failed uploads
	// (defaults 1 s and 5 s: AWS retries S3 delivery every 5 s for 24 h).
	RetryBase, RetryMax time.Duration
	// KinesisPollInterval is the wait before the source reader retries a
	// missing or failing source stream (default 1 s); an idle reader waits
	// on the shards' Watch channels instead.
	KinesisPollInterval time.Duration

	// DestRetryBase and DestRetryMax bound the backoff between attempts at
	// a destination beyond S3 (defaults 1 s and 2 min, AWS's HTTP endpoint
	// backoff; dest_other.go).
	DestRetryBase, DestRetryMax time.Duration

	// Leases runs each stream's delivery (and source) loops on one node at
	// a time (cluster.go). Nil: lease.Local, this node runs them all.
	Leases lease.Leaser
}

// Service implements awsproto.Service for Firehose.
type Service struct {
	opts    Options
	backend storage.Backend
	now     func() time.Time
	log     *slog.Logger

	saveMu sync.Mutex // serialises metadata saves; taken before mu

	mu      sync.Mutex
	streams map[string]*stream // key: account/region/name
	ctx     context.Context    // set by Start; nil before
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	uploadersMu sync.Mutex
	uploaders   map[string]*s3dest.Uploader

	metrics metricsSet
	dests   destCache // built destinations beyond S3 (dest_other.go)

	metaRev uint64 // cluster mode: revision of the shared blob this node has; under saveMu
}

// stream is one delivery stream: persisted state plus runtime.
type stream struct {
	meta streamMeta // guarded by Service.mu

	kick    chan struct{} // wakes the delivery loop (config change, flush)
	stop    chan struct{} // closed on delete
	flushes chan chan error
	m       *streamMetrics
	// failure is the last delivery error (nil after a success), reported
	// in DescribeDeliveryStream's FailureDescription.
	failure atomic.Pointer[string]
	// fence writes the checkpoint in cluster mode while this node holds
	// the stream's lease (cluster.go), and fenceStop stops its loops once
	// a newer holder fenced it off; under Service.saveMu
	fence     *lease.Fence
	fenceStop context.CancelFunc
}

// streamMeta is the persisted state of a delivery stream.
type streamMeta struct {
	Account   string `json:"account"`
	Region    string `json:"region"`
	Name      string `json:"name"`
	ID        string `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	Version   int    `json:"version"`
	CreatedMs int64  `json:"createdMs"`
	UpdatedMs int64  `json:"updatedMs"`

	Dest     *S3Config `json:"dest"`
	Extended bool      `json:"extended"`
	// Other is a destination beyond S3 (Dest is then its S3Configuration).
	Other *otherDest `json:"other,omitempty"`

	DirectPut     *DirectPutSourceConfiguration     `json:"directPut,omitempty"`
	KinesisSource *KinesisStreamSourceConfiguration `json:"kinesisSource,omitempty"`
	StartMs       int64                             `json:"startMs,omitempty"`

	EncKeyType string `json:"encKeyType,omitempty"`
	EncKeyARN  string `json:"encKeyArn,omitempty"`
	EncStatus  string `json:"encStatus,omitempty"`

	Tags []Tag `json:"tags,omitempty"`

	// Delivered is the first buffer-log position not yet delivered.
	Delivered uint64 `json:"delivered"`
	// LakeDone (lake.go) maps a partition's evaluated prefix (or
	// lakeErrorsKey) to the last buffer-log position already written there,
	// for positions at or after Delivered: re-read records are not written
	// twice after a restart.
	LakeDone map[string]uint64 `json:"lakeDone,omitempty"`
	// LakeBackup (lake_backup.go) is the first buffer-log position the
	// partitioned loop has not yet written to the S3 backup.
	LakeBackup uint64 `json:"lakeBackup,omitempty"`
	// Shards holds the KinesisStreamAsSource progress per source shard.
	Shards map[string]*shardProgress `json:"shards,omitempty"`
}

// shardProgress is the checkpoint of one source shard.
type shardProgress struct {
	Seq  string `json:"seq,omitempty"` // last sequence number appended to the buffer
	Done bool   `json:"done,omitempty"`
	// Stream is the source stream's creation time (ms) the entry belongs
	// to; 0 in checkpoints written before it existed (kinesis.go).
	Stream int64 `json:"stream,omitempty"`
}

const metaVersion = 1

type persisted struct {
	Version int           `json:"version"`
	Streams []*streamMeta `json:"streams"`
}

func (m *streamMeta) arn() string {
	return fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", m.Region, m.Account, m.Name)
}

func (m *streamMeta) shardID() storage.ShardID { return storage.ShardID{Stream: "fh-" + m.ID} }

func streamKey(account, region, name string) string { return account + "/" + region + "/" + name }

// New builds the service and loads persisted delivery streams.
func New(opts Options) (*Service, error) {
	if opts.Backend == nil {
		return nil, errors.New("firehose: Options.Backend is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DefaultAccount == "" {
		opts.DefaultAccount = "000000000000"
	}
	if opts.DefaultRegion == "" {
		opts.DefaultRegion = "us-east-1"
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 5 * time.Second
	}
	if opts.KinesisPollInterval <= 0 {
		opts.KinesisPollInterval = time.Second
	}
	s := &Service{
		opts: opts, backend: opts.Backend, now: opts.Now, log: opts.Logger.With("service", "firehose"),
		streams: map[string]*stream{}, uploaders: map[string]*s3dest.Uploader{},
	}
	blob, err := s.loadMeta() // cluster.go
	if err != nil {
		return nil, fmt.Errorf("firehose: load metadata: %w", err)
	}
	if blob != nil {
		var p persisted
		if err := json.Unmarshal(blob, &p); err != nil {
			return nil, fmt.Errorf("firehose: decode metadata: %w: %w", storage.ErrCorrupt, err)
		}
		if p.Version != metaVersion {
			return nil, fmt.Errorf("firehose: metadata version %d, want %d", p.Version, metaVersion)
		}
		for _, m := range p.Streams {
			if m == nil || m.Dest == nil {
				return nil, fmt.Errorf("firehose: decode metadata: %w: stream without destination", storage.ErrCorrupt)
			}
			if m.ID == "" || m.Name == "" || (m.Type == typeKinesis && m.KinesisSource == nil) {
				return nil, fmt.Errorf("firehose: decode metadata: %w: stream %q incomplete", storage.ErrCorrupt, m.Name)
			}
			withDefaults(m.Dest)
			s.streams[streamKey(m.Account, m.Region, m.Name)] = s.newStream(*m)
		}
	}
	return s, nil
}

func (s *Service) newStream(m streamMeta) *stream {
	return &stream{meta: m, kick: make(chan struct{}, 1), stop: make(chan struct{}), flushes: make(chan chan error, 4),
		m: s.metrics.get(m.Account, m.Region, m.Name)}
}

// TargetPrefix implements awsproto.Service.
func (s *Service) TargetPrefix() string { return "Firehose_20150804" }

// Start launches the delivery (and source) goroutines of every stream.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil {
		return errors.New("firehose: already started")
	}
	// A buffer log lost with its data directory (metadata restored alone)
	// is recreated empty so delivery can go on.
	for _, st := range s.streams {
		if err := s.backend.CreateShard(ctx, st.meta.shardID(), st.meta.CreatedMs); err != nil && !errors.Is(err, storage.ErrExists) {
			return fmt.Errorf("firehose: buffer log of %s: %w", st.meta.Name, err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	for _, st := range s.streams {
		s.launchLocked(st)
	}
	return s.watchShared() // cluster.go
}

// Close stops every goroutine and waits for them. Buffered records stay in
// the backend and are delivered after the next Start.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel() // under mu: a shared-metadata apply launches nothing after it
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.closeDests() // dest_other.go
	return nil
}

func (s *Service) launchLocked(st *stream) {
	if s.ctx == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// only while this node holds the stream's lease (cluster.go)
		s.leaser().Run(s.ctx, "firehose."+st.meta.ID, func(ctx context.Context, epoch uint64) {
			s.runLeased(ctx, st, epoch)
		})
	}()
}

// save persists all metadata.
func (s *Service) save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if sm := s.shared(); sm != nil {
		return s.saveSharedLocked(sm) // cluster.go
	}
	s.mu.Lock()
	p := persisted{Version: metaVersion}
	for _, st := range s.streams {
		m := st.meta
		p.Streams = append(p.Streams, &m)
	}
	sort.Slice(p.Streams, func(i, j int) bool { return p.Streams[i].ID < p.Streams[j].ID })
	blob, err := json.Marshal(p)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("firehose: encode metadata: %w", err)
	}
	if err := s.backend.SaveMeta("firehose", blob); err != nil {
		return fmt.Errorf("firehose: save metadata: %w", err)
	}
	return nil
}

// Handle implements awsproto.Service.
func (s *Service) Handle(req *awsproto.Request) (any, error) {
	if req.Account == "" {
		req.Account = s.opts.DefaultAccount
	}
	if req.Region == "" {
		req.Region = s.opts.DefaultRegion
	}
	if req.Ctx == nil {
		req.Ctx = context.Background()
	}
	switch req.Operation {
	case "CreateDeliveryStream":
		return s.createDeliveryStream(req)
	case "DeleteDeliveryStream":
		return s.deleteDeliveryStream(req)
	case "DescribeDeliveryStream":
		return s.describeDeliveryStream(req)
	case "ListDeliveryStreams":
		return s.listDeliveryStreams(req)
	case "PutRecord":
		return s.putRecord(req)
	case "PutRecordBatch":
		return s.putRecordBatch(req)
	case "UpdateDestination":
		return s.updateDestination(req)
	case "StartDeliveryStreamEncryption":
		return s.startEncryption(req)
	case "StopDeliveryStreamEncryption":
		return s.stopEncryption(req)
	case "TagDeliveryStream":
		return s.tagDeliveryStream(req)
	case "UntagDeliveryStream":
		return s.untagDeliveryStream(req)
	case "ListTagsForDeliveryStream":
		return s.listTags(req)
	}
	return nil, awserr.UnknownOperation()
}

func notFound(name, account string) error {
	return awserr.ResourceNotFound("Firehose %s under account %s not found.", name, account)
}

// lookupLocked finds a stream; s.mu must be held.
func (s *Service) lookupLocked(req *awsproto.Request, name string) (*stream, error) {
	st := s.streams[streamKey(req.Account, req.Region, name)]
	if st == nil {
		return nil, notFound(name, req.Account)
	}
	return st, nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (st *stream) wake() {
	select {
	case st.kick <- struct{}{}:
	default:
	}
}
