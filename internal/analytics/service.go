// Package analytics implements Kinesis Data Analytics applications: the
// `kinesisanalytics` API (JSON 1.1, X-Amz-Target prefix
// "KinesisAnalytics_20150814", all 20 operations) and the SQL-runtime
// (SQL-1_0) applications of `kinesisanalyticsv2` ("KinesisAnalytics_20180523"),
// over one application store. FLINK and ZEPPELIN applications created
// through v2 are stored and described but refused at start.
//
// Design:
//   - Applications of all accounts live in memory under Service.mu and are
//     saved as one versioned JSON blob with Backend.SaveMeta("analytics")
//     after every change, before the call returns (the backend writes it
//     atomically: temp file, fsync, rename, fsync dir).
//   - Running an application is the Launcher's job (internal/analytics/runner
//     in the server). StartApplication compiles the code, launches the
//     runner and answers once it reads its input; StopApplication returns
//     once the runner has stopped and saved its checkpoint. So STARTING and
//     STOPPING are not observable: the calls move READY→RUNNING→READY.
//   - Applications that were RUNNING when the server stopped are launched
//     again by Start, from their checkpoints (LAST_STOPPED_POINT).
//   - An application created or updated through v2 answers v1 calls with
//     UnsupportedOperationException, as AWS does.
//
// Persisted metadata (namespace "analytics", JSON):
//
//	{"version": 1, "apps": [application…]}   // fields: see model.go
//
// In cluster mode (Options.Shared) each application is its own replicated
// key instead, followed by every node: see cluster.go.
//
// Lock order: Service.runMu, then Service.mu, then Service.saveMu.
package analytics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
)

// Target prefixes of the two APIs.
const (
	TargetPrefixV1 = "KinesisAnalytics_20150814"
	TargetPrefixV2 = "KinesisAnalytics_20180523"
)

const metaNamespace = "analytics"

// RunSpec is what a Launcher needs to run one application.
type RunSpec struct {
	AppID   string // stable internal id (names checkpoints)
	Account string
	Region  string
	Name    string
	ARN     string
	Code    string
	// Input is the streaming source (nil: the application has none).
	Input *InputDescription
	// Position is NOW, TRIM_HORIZON or LAST_STOPPED_POINT.
	Position string
	// Mark, in cluster mode, is the checkpoint epoch when the application
	// was started (another node's start): a checkpoint written since
	// wins over Position. Nil: the epoch at Launch.
	Mark       *uint64
	Outputs    []OutputDescription
	References []ReferenceDataSourceDescription
}

// Run is a running application.
type Run interface {
	// Stop halts the application and saves its checkpoint.
	Stop() error
	// Done is closed when the run ends by itself (a fatal error).
	Done() <-chan struct{}
	// Err tells why, once Done is closed.
	Err() error
}

// Launcher starts applications. Launch returns once the application reads
// its input; errors are reported to the caller of StartApplication.
type Launcher interface {
	Launch(spec RunSpec) (Run, error)
	// Check compiles spec's code (no I/O); a *CodeError reports bad SQL.
	Check(spec RunSpec) error
	// Forget removes an application's checkpoints.
	Forget(appID string) error
}

// CodeError is SQL the engine rejected, with its position.
type CodeError struct{ Msg string }

func (e *CodeError) Error() string { return e.Msg }

// Sampler reads sample records for DiscoverInputSchema.
type Sampler interface {
	// SampleStream reads up to max records of a data stream or delivery
	// stream (by ARN) from the given starting position.
	SampleStream(ctx context.Context, arn, position string, max int) ([][]byte, error)
	// GetObject reads an S3 object.
	GetObject(ctx context.Context, bucketARN, key string) ([]byte, error)
}

// Options configure the Service.
type Options struct {
	Backend  storage.Backend
	Now      func() time.Time
	Logger   *slog.Logger
	Launcher Launcher // nil: applications cannot start
	Sampler  Sampler  // nil: DiscoverInputSchema from sources is refused
	// MaxApplications is the per-account, per-region application quota
	// (AWS: 50).
	MaxApplications int
	// Shared, in cluster mode, holds the applications for every node
	// (cluster.go); nil: Backend's "analytics" blob, this node's alone.
	Shared SharedItems
}

// Service is the application store behind both APIs.
type Service struct {
	opt Options
	now func() time.Time
	log *slog.Logger

	runMu sync.Mutex // serialises start/stop/update/delete of runs; before mu

	mu   sync.Mutex
	apps map[appKey]*application
	runs map[string]Run // by application ID

	saveMu    sync.Mutex
	items     map[string]item // cluster mode: replicated applications as last written or seen (mu)
	closed    bool            // runMu
	stopWatch context.CancelFunc
}

type appKey struct{ account, region, name string }

type persisted struct {
	Version int            `json:"version"`
	Apps    []*application `json:"apps"`
}

// New loads the store from the backend.
func New(opt Options) (*Service, error) {
	if opt.Backend == nil {
		return nil, errors.New("analytics: no storage backend")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxApplications == 0 {
		opt.MaxApplications = 50
	}
	s := &Service{opt: opt, now: opt.Now, log: opt.Logger, apps: map[appKey]*application{}, runs: map[string]Run{}, items: map[string]item{}}
	if opt.Shared != nil {
		if err := s.loadShared(); err != nil {
			return nil, fmt.Errorf("analytics: load shared applications: %w", err)
		}
		return s, nil
	}
	blob, err := opt.Backend.LoadMeta(metaNamespace)
	if err != nil {
		return nil, fmt.Errorf("analytics: load metadata: %w", err)
	}
	if blob != nil {
		var p persisted
		if err := json.Unmarshal(blob, &p); err != nil {
			return nil, fmt.Errorf("analytics: decode metadata: %w", err)
		}
		if p.Version != 1 {
			return nil, fmt.Errorf("analytics: metadata version %d not supported", p.Version)
		}
		for _, a := range p.Apps {
			s.apps[appKey{a.Account, a.Region, a.Name}] = a
		}
	}
	return s, nil
}

// Start relaunches the applications that were running when the server
// last stopped, from their checkpoints, and finishes interrupted
// transitions (a DELETING application is removed).
func (s *Service) Start() error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.opt.Shared != nil {
		return s.startShared()
	}
	s.mu.Lock()
	var relaunch []*application
	for k, a := range s.apps {
		switch a.Status {
		case statusDeleting:
			delete(s.apps, k)
		case statusRunning, statusStarting, statusUpdating, statusAutoscale:
			relaunch = append(relaunch, a)
		case statusStopping:
			a.Status = statusReady
		}
	}
	err := s.saveLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for _, a := range relaunch {
		if err := s.launch(a, "LAST_STOPPED_POINT"); err != nil {
			s.log.Error("analytics: relaunch failed", "application", a.Name, "account", a.Account, "err", err)
			s.mu.Lock()
			a.Status = statusReady
			_ = s.saveLocked()
			s.mu.Unlock()
		}
	}
	return nil
}

// Close stops every running application (saving checkpoints) but keeps
// their RUNNING status, so the next Start resumes them.
func (s *Service) Close() error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.closed = true
	if s.stopWatch != nil {
		s.stopWatch()
	}
	s.mu.Lock()
	runs := s.runs
	s.runs = map[string]Run{}
	s.mu.Unlock()
	var errs []error
	for id, r := range runs {
		if err := r.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("analytics: stop %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// saveLocked persists the store. Caller holds s.mu.
func (s *Service) saveLocked() error {
	if s.opt.Shared != nil {
		return s.saveItemsLocked()
	}
	p := persisted{Version: 1, Apps: make([]*application, 0, len(s.apps))}
	for _, a := range s.apps {
		p.Apps = append(p.Apps, a)
	}
	sort.Slice(p.Apps, func(i, j int) bool { return p.Apps[i].ID < p.Apps[j].ID })
	blob, err := json.Marshal(&p)
	if err != nil {
		return fmt.Errorf("analytics: encode metadata: %w", err)
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if err := s.opt.Backend.SaveMeta(metaNamespace, blob); err != nil {
		return fmt.Errorf("analytics: save metadata: %w", err)
	}
	return nil
}

// commitLocked saves and maps a failure to InternalFailure.
func (s *Service) commitLocked() error {
	if err := s.saveLocked(); err != nil {
		if ae, ok := awserr.As(err); ok {
			return ae // a lost compare-and-set (cluster mode)
		}
		s.log.Error("analytics: metadata save failed", "err", err)
		return awserr.Internal()
	}
	return nil
}

func newAppID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ---- the two API front ends ----

type handler func(s *Service, r *awsproto.Request) (any, error)

var (
	v1Ops = map[string]handler{}
	v2Ops = map[string]handler{}
)

func registerV1(name string, h handler) { v1Ops[name] = h }
func registerV2(name string, h handler) { v2Ops[name] = h }

type api struct {
	s      *Service
	prefix string
	ops    map[string]handler
}

func (a api) TargetPrefix() string { return a.prefix }

// Operations lists the API's operations: the gateway answers any other as
// unknown and labels its request counter with these only.
func (a api) Operations() []string { return keys(a.ops) }

func (a api) Handle(r *awsproto.Request) (any, error) {
	h, ok := a.ops[r.Operation]
	if !ok {
		return nil, awserr.UnknownOperation()
	}
	return h(a.s, r)
}

// V1 is the kinesisanalytics API.
func (s *Service) V1() awsproto.Service { return api{s, TargetPrefixV1, v1Ops} }

// V2 is the kinesisanalyticsv2 API.
func (s *Service) V2() awsproto.Service { return api{s, TargetPrefixV2, v2Ops} }

// OperationsV1 and OperationsV2 list the implemented operations.
func OperationsV1() []string { return keys(v1Ops) }
func OperationsV2() []string { return keys(v2Ops) }

func keys(m map[string]handler) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func decode(r *awsproto.Request, v any) error { return awsproto.Decode(r.Codec, r.Body, v) }

// ---- lookups ----

// lookupLocked finds an application for an API version; v1 calls on an
// application managed through v2 are refused.
func (s *Service) lookupLocked(r *awsproto.Request, apiVersion int, name string) (*application, error) {
	a := s.apps[appKey{r.Account, r.Region, name}]
	if a == nil {
		return nil, errNotFound(name)
	}
	if apiVersion == 1 && a.API == 2 {
		return nil, errV2Managed(name)
	}
	return a, nil
}

// checkVersion verifies CurrentApplicationVersionId (or v2's
// ConditionalToken).
func checkVersion(a *application, version *int64, token *string, apiVersion int) error {
	if version == nil && (token == nil || *token == "") {
		if apiVersion == 1 {
			return nil // required members are validated before
		}
		return awserr.New(TInvalidArgument, 400, "Either CurrentApplicationVersionId or ConditionalToken must be provided.")
	}
	if version != nil && token != nil && *token != "" {
		return awserr.New(TInvalidArgument, 400, "Provide either CurrentApplicationVersionId or ConditionalToken, not both.")
	}
	if version != nil && *version != a.Version {
		return errConcurrent(a, *version)
	}
	if token != nil && *token != "" && *token != a.conditionalToken() {
		return awserr.New(TConcurrentModification, 400, "Provided ConditionalToken does not match the current token of application %s.", a.Name)
	}
	return nil
}

// requireConfigurable refuses changes while the application moves between
// states. READY and RUNNING applications accept changes (a running one
// restarts with them).
func requireConfigurable(a *application) error {
	switch a.Status {
	case statusReady, statusRunning:
		return nil
	}
	return awserr.New(TResourceInUse, 400, "Application %s is in %s state; the operation is allowed in READY or RUNNING state.", a.Name, a.Status)
}

// bumpLocked records a configuration change: a new version. Caller holds
// s.mu and then saves.
func (s *Service) bumpLocked(a *application, apiVersion int) {
	prev := a.Version
	a.Version++
	a.UpdatedFrom = prev
	now := s.now().UnixMilli()
	a.UpdatedMs = now
	a.VersionMs = now
	if apiVersion == 2 {
		a.API = 2
	}
	s.recordHistoryLocked(a)
}

func (s *Service) recordHistoryLocked(a *application) {
	d, err := json.Marshal(a.detailV2())
	if err != nil {
		return
	}
	a.History = append(a.History, versionEntry{Version: a.Version, Status: a.Status, Detail: d})
	if len(a.History) > 50 {
		a.History = append([]versionEntry(nil), a.History[len(a.History)-50:]...)
	}
}

// ---- running ----

func (s *Service) spec(a *application, position string) RunSpec {
	sp := RunSpec{AppID: a.ID, Account: a.Account, Region: a.Region, Name: a.Name, ARN: a.arn(), Code: a.Code, Position: position,
		Outputs: a.outputDescriptions(), References: a.referenceDescriptions()}
	if len(a.Inputs) > 0 {
		d := a.Inputs[0].describe()
		sp.Input = &d
	}
	return sp
}

// launch starts a's runner. Caller holds runMu (not mu).
func (s *Service) launch(a *application, position string) error {
	return s.launchMarked(a, position, nil)
}

// launchMarked is launch with the checkpoint epoch of the start the run
// continues (RunSpec.Mark; nil: now). A fresh start records the
// launcher's mark in a.StartMark (cluster mode). Caller holds runMu.
func (s *Service) launchMarked(a *application, position string, mark *uint64) error {
	if s.opt.Launcher == nil {
		return awserr.New(TUnsupportedOperation, 400, "This server runs no analytics engine.")
	}
	s.mu.Lock()
	spec := s.spec(a, position)
	spec.Mark = mark
	s.mu.Unlock()
	run, err := s.opt.Launcher.Launch(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.runs[a.ID] = run
	if m, ok := run.(Marked); ok && mark == nil && position != "LAST_STOPPED_POINT" {
		v := m.StartMark()
		a.StartMark = &v
	}
	s.mu.Unlock()
	go s.watch(a, run)
	return nil
}

// watch marks an application READY when its run fails on its own.
func (s *Service) watch(a *application, run Run) {
	<-run.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs[a.ID] != run {
		return // stopped on purpose
	}
	delete(s.runs, a.ID)
	s.log.Error("analytics: application stopped on error", "application", a.Name, "account", a.Account, "err", run.Err())
	if cur := s.apps[appKey{a.Account, a.Region, a.Name}]; cur == a && a.Status == statusRunning {
		a.Status = statusReady
		_ = s.saveLocked()
	}
}

// stopRun stops a's runner if any. Caller holds runMu (not mu).
func (s *Service) stopRun(a *application) error {
	s.mu.Lock()
	run := s.runs[a.ID]
	delete(s.runs, a.ID)
	s.mu.Unlock()
	if run == nil {
		return nil
	}
	return run.Stop()
}

// restartIfRunning applies a configuration change to a running
// application: stop (checkpoint) and launch again from the stopped point.
// Caller holds runMu (not mu).
func (s *Service) restartIfRunning(a *application) {
	s.mu.Lock()
	running := a.Status == statusRunning
	s.mu.Unlock()
	if !running {
		return
	}
	if err := s.stopRun(a); err != nil {
		s.log.Error("analytics: stop for update", "application", a.Name, "err", err)
	}
	if err := s.launch(a, "LAST_STOPPED_POINT"); err != nil {
		s.log.Error("analytics: restart after update failed", "application", a.Name, "err", err)
		s.mu.Lock()
		a.Status = statusReady
		_ = s.saveLocked()
		s.mu.Unlock()
	}
}

// Running reports whether application (account, region, name) has a live
// runner (tests, operators).
func (s *Service) Running(account, region, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appKey{account, region, name}]
	return a != nil && s.runs[a.ID] != nil
}
