// Package video is Kinesis Video Streams: the control plane (streams,
// retention, tags, data endpoints), PutMedia ingest (a streaming Matroska
// body split into fragments, acknowledged as JSON events), and the read
// side (GetMedia, ListFragments, GetMediaForFragmentList). It speaks
// REST-JSON on Eddy's port: every operation is a POST to its own top-level
// path ("/createStream", "/putMedia", …), signed for "kinesisvideo".
//
// Stream metadata lives in <dir>/streams.json (written atomically); each
// stream's fragments live in a fragstore under <dir>/streams/<id>.
//
// Lock order: Service.mu, then a fragstore's own mutex (never the reverse).
// A playback session's rateMu is taken alone (held while a request over
// the session's rate waits; no other lock is taken under it).
package video

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/video/fragstore"
)

// Options configure a Service.
type Options struct {
	Dir            string
	Endpoint       string // Eddy's own URL, answered by GetDataEndpoint
	Now            func() time.Time
	Logger         *slog.Logger
	DefaultAccount string
	DefaultRegion  string
	// GetMediaIdle ends a GetMedia response after this long without a new
	// fragment (default 5 s).
	GetMediaIdle time.Duration
	// IdleAck is how often PutMedia sends IDLE while no data arrives
	// (default 3 s).
	IdleAck time.Duration
	// Sleep waits for the PutMedia rate limits (limits.go); default a
	// timer. Tests pass one that advances their clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Service is the Kinesis Video Streams API.
type Service struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	streams map[string]*stream // by key(account, region, name)
	stores  map[string]*fragstore.Store
	// sessions are HLS streaming sessions by token
	sessions map[string]*session
	// admissions count media-API calls and connections per stream
	admissions map[string]*admission
	stop       chan struct{}
	wg         sync.WaitGroup
}

// stream is one stream's metadata as persisted in streams.json.
type stream struct {
	Account      string            `json:"account"`
	Region       string            `json:"region"`
	Name         string            `json:"name"`
	ARN          string            `json:"arn"`
	ID           string            `json:"id"` // directory name
	DeviceName   string            `json:"deviceName,omitempty"`
	MediaType    string            `json:"mediaType,omitempty"`
	KmsKeyID     string            `json:"kmsKeyId"`
	Version      string            `json:"version"`
	Created      time.Time         `json:"created"`
	RetentionHrs int64             `json:"retentionHours"`
	Tags         map[string]string `json:"tags,omitempty"`
	ImageGenCfg  json.RawMessage   `json:"imageGenerationConfiguration,omitempty"`
	NotifyCfg    json.RawMessage   `json:"notificationConfiguration,omitempty"`
}

func key(account, region, name string) string { return account + "/" + region + "/" + name }

const metaFile = "streams.json"

// New opens the service's directory and its streams.
func New(o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.GetMediaIdle == 0 {
		o.GetMediaIdle = 5 * time.Second
	}
	if o.IdleAck == 0 {
		o.IdleAck = 3 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	s := &Service{o: o, log: o.Logger, streams: map[string]*stream{}, stores: map[string]*fragstore.Store{}, stop: make(chan struct{})}
	if err := os.MkdirAll(filepath.Join(o.Dir, "streams"), 0o755); err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(o.Dir, metaFile))
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, fmt.Errorf("video: read %s: %w", metaFile, err)
	default:
		var list []*stream
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("video: parse %s: %w", metaFile, err)
		}
		for _, st := range list {
			fs, err := fragstore.Open(filepath.Join(o.Dir, "streams", st.ID))
			if err != nil {
				return nil, fmt.Errorf("video: stream %s: %w", st.Name, err)
			}
			k := key(st.Account, st.Region, st.Name)
			s.streams[k] = st
			s.stores[k] = fs
		}
	}
	return s, nil
}

// Start runs the retention sweeper: once now, then every minute.
func (s *Service) Start() {
	s.Sweep()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.Sweep()
			}
		}
	}()
}

// Sweep applies retention now: fragments older than the stream's retention
// leave (retention 0 keeps 5 minutes, AWS's buffer); Start runs it every
// minute.
func (s *Service) Sweep() {
	now := s.o.Now()
	s.mu.Lock()
	type job struct {
		fs  *fragstore.Store
		cut time.Time
	}
	var jobs []job
	for k, st := range s.streams {
		keep := time.Duration(st.RetentionHrs) * time.Hour
		if keep == 0 {
			keep = 5 * time.Minute
		}
		jobs = append(jobs, job{s.stores[k], now.Add(-keep)})
	}
	s.mu.Unlock()
	for _, j := range jobs {
		if err := j.fs.Trim(j.cut); err != nil {
			s.log.Error("video retention", "err", err)
		}
	}
}

// Close stops the sweeper and closes the stores.
func (s *Service) Close() error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	close(s.stop)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fs := range s.stores {
		fs.Close()
	}
	return nil
}

// saveLocked writes streams.json atomically (temp, fsync, rename, fsync dir).
func (s *Service) saveLocked() error {
	list := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		list = append(list, st)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ARN < list[j].ARN })
	b, err := json.MarshalIndent(list, "", " ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.o.Dir, metaFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("video: save: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("video: save: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("video: save: %w", err)
	}
	f.Close()
	if err := os.Rename(tmp, filepath.Join(s.o.Dir, metaFile)); err != nil {
		return fmt.Errorf("video: save: %w", err)
	}
	d, err := os.Open(s.o.Dir)
	if err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// newVersion is a stream version: 20 alphanumerics, as AWS shows them.
func newVersion() string {
	const al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [20]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = al[int(b[i])%len(al)]
	}
	return string(b[:])
}

// lookup finds a stream by name or ARN in the caller's account and region.
func (s *Service) lookupLocked(req *awsproto.Request, name, arn string) (*stream, string, error) {
	if name == "" && arn == "" {
		return nil, "", errInvalidArg("Either streamName or streamARN must be specified.")
	}
	if arn != "" {
		for k, st := range s.streams {
			if st.ARN == arn && (name == "" || name == st.Name) {
				return st, k, nil
			}
		}
		return nil, "", errNotFound("The requested stream is not found or not active.")
	}
	k := key(req.Account, req.Region, name)
	st := s.streams[k]
	if st == nil {
		return nil, "", errNotFound("The requested stream is not found or not active.")
	}
	return st, k, nil
}

// lookup is lookupLocked with the lock taken; it also returns the store.
func (s *Service) lookup(req *awsproto.Request, name, arn string) (*stream, *fragstore.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, k, err := s.lookupLocked(req, name, arn)
	if err != nil {
		return nil, nil, err
	}
	return st, s.stores[k], nil
}

// Error types (botocore kinesisvideo / kinesis-video-media /
// kinesis-video-archived-media models).
const (
	tInvalidArgument   = "InvalidArgumentException"
	tResourceNotFound  = "ResourceNotFoundException"
	tResourceInUse     = "ResourceInUseException"
	tVersionMismatch   = "VersionMismatchException"
	tTagsLimit         = "TagsPerResourceExceededLimitException"
	tNoDataRetention   = "NoDataRetentionException"
	tClientLimit       = "ClientLimitExceededException"
	tUnsupported       = "UnsupportedOperationException"
	tInvalidCodecPriv  = "InvalidCodecPrivateDataException"
	tMissingCodecPriv  = "MissingCodecPrivateDataException"
	tUnsupportedStream = "UnsupportedStreamMediaTypeException"
)

func errInvalidArg(format string, a ...any) error {
	return awserr.New(tInvalidArgument, http.StatusBadRequest, format, a...)
}
func errNotFound(format string, a ...any) error {
	return awserr.New(tResourceNotFound, http.StatusNotFound, format, a...)
}

// writeErr answers an AWS error in REST-JSON.
func writeErr(w http.ResponseWriter, e *awserr.Error) {
	b, _ := json.Marshal(map[string]string{"message": e.Message})
	h := w.Header()
	h.Set("x-amzn-ErrorType", e.Type)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	w.Write(b)
}

// epoch renders a time as REST-JSON's epoch seconds.
func epoch(ms int64) float64 { return float64(ms) / 1000 }
