// Package runner runs Kinesis Data Analytics SQL applications: it reads an
// application's streaming source in process (a Data Streams stream through
// the kinesis in-process API, or a delivery stream's buffer log), parses
// records into typed batches (internal/analytics/format), feeds the
// compiled program (internal/analytics/exec), closes windows as time
// passes, writes emitted rows to the outputs (Data Streams, Firehose) and
// checkpoints.
//
// Time: ROWTIME is the record's arrival time mapped through the
// application clock and clamped so it never decreases per in-application
// stream. The clock is wall time by default; Options.Speed accelerates it
// (tests run hours of 5-minute windows in seconds; see the server's
// EDDY_TEST_ANALYTICS_CLOCK_SPEED): it then counts from UTC midnight, so a
// window of length W starts at wall-clock multiples of W/Speed since
// midnight. Taking ROWTIME from arrival rather than
// from the moment of reading makes a replay after a crash put every row in
// the same window as before. Windows are closed by Program.Advance with the
// application time of (now − AdvanceLag), after every record that arrived
// before that moment has been read.
//
// Checkpoints (Backend.SaveMeta("analytics-ckpt-<app id>"), JSON, version
// 1) hold the program snapshot, the next source position of every shard,
// the finished shards, the ROWTIME floors, the clock base and any emitted
// rows not yet delivered. One is written before rows emitted by a cycle are
// delivered, every CheckpointEvery, and on stop. So a restart (stop/start
// with LAST_STOPPED_POINT, or after kill -9) resumes exactly where the
// checkpoint was: windows that closed and were delivered before it are not
// emitted again, windows still open are rebuilt by re-reading the source
// from the saved positions. Only rows whose delivery was under way when the
// process died can be delivered twice (at least once).
package runner

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/analytics"
	"github.com/eddy-streams/eddy/internal/analytics/exec"
	"github.com/eddy-streams/eddy/internal/analytics/format"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/storage"
)

// Program is what the runner needs of a compiled application
// (*exec.Program).
type Program interface {
	Streams() []exec.StreamInfo
	Start(exec.Sink)
	Push(input string, b *exec.Batch) error
	Advance(nowMs int64)
	ReportError(e exec.ErrorRow)
	SetReference(name string, rows *exec.Batch) error
	Snapshot() ([]byte, error)
	Restore(state []byte) error
}

// Objects reads S3 objects (reference data).
type Objects interface {
	GetObject(ctx context.Context, bucketARN, key string) ([]byte, error)
}

// Options configure a Runner.
type Options struct {
	Streams  Streams
	Firehose DeliveryStreams // nil: delivery streams unavailable
	Backend  storage.Backend // checkpoints; delivery-stream buffer logs
	Objects  Objects         // nil: reference data unavailable
	Logger   *slog.Logger
	Now      func() time.Time
	// Speed multiplies the application clock (1: wall time).
	Speed float64
	// Tick is how often windows are advanced (default 1 s, 1 s/Speed×10
	// when accelerated, at least 10 ms).
	Tick time.Duration
	// AdvanceLag is the real time allowed for in-flight appends before a
	// moment counts as past (default 200 ms).
	AdvanceLag time.Duration
	// CheckpointEvery bounds the work redone after a crash (default 1 s).
	CheckpointEvery time.Duration
	// Compile builds programs (default exec.Compile).
	Compile func(exec.Config) (Program, error)
	// BatchRecords caps records read per shard per cycle (default 4096).
	BatchRecords int
}

// Runner launches applications; it implements analytics.Launcher.
type Runner struct {
	opt Options
	log *slog.Logger
}

// New makes a Runner.
func New(opt Options) *Runner {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Speed <= 0 {
		opt.Speed = 1
	}
	if opt.Tick <= 0 {
		opt.Tick = time.Second
		if opt.Speed > 1 {
			opt.Tick = max(10*time.Millisecond, time.Duration(float64(10*time.Second)/opt.Speed))
		}
	}
	if opt.AdvanceLag <= 0 {
		opt.AdvanceLag = 200 * time.Millisecond
	}
	if opt.CheckpointEvery <= 0 {
		opt.CheckpointEvery = time.Second
	}
	if opt.BatchRecords <= 0 {
		opt.BatchRecords = 4096
	}
	if opt.Compile == nil {
		opt.Compile = func(c exec.Config) (Program, error) {
			p, err := exec.Compile(c)
			if err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	return &Runner{opt: opt, log: opt.Logger}
}

func ckptNamespace(appID string) string { return "analytics-ckpt-" + appID }

// Forget implements analytics.Launcher: drop the checkpoint.
func (r *Runner) Forget(appID string) error {
	return r.opt.Backend.SaveMeta(ckptNamespace(appID), []byte("{}"))
}

// inputColumns parses an input description into the engine's inputs and a
// decoder per in-application stream.
func inputConfig(in *analytics.InputDescription) ([]exec.Input, func() (format.Decoder, error), error) {
	sc := in.InputSchema
	if sc == nil || sc.RecordFormat == nil {
		return nil, nil, fmt.Errorf("input %s has no schema", in.InputId)
	}
	specs := make([]format.ColumnSpec, len(sc.RecordColumns))
	for i, c := range sc.RecordColumns {
		specs[i] = format.ColumnSpec{Name: c.Name, SQLType: c.SqlType}
		if c.Mapping != nil {
			specs[i].Mapping = *c.Mapping
		}
	}
	cols, err := format.Columns(specs)
	if err != nil {
		return nil, nil, err
	}
	var inputs []exec.Input
	for _, name := range in.InAppStreamNames {
		inputs = append(inputs, exec.Input{Name: name, Columns: cols, Kinesis: in.KinesisStreamsInputDescription != nil})
	}
	mk, err := decoderFactory(sc, specs)
	return inputs, mk, err
}

func decoderFactory(sc *analytics.SourceSchema, specs []format.ColumnSpec) (func() (format.Decoder, error), error) {
	mp := sc.RecordFormat.MappingParameters
	switch sc.RecordFormat.RecordFormatType {
	case "JSON":
		path := "$"
		if mp != nil && mp.JSONMappingParameters != nil && mp.JSONMappingParameters.RecordRowPath != "" {
			path = mp.JSONMappingParameters.RecordRowPath
		}
		if _, err := format.NewJSON(path, specs); err != nil {
			return nil, err
		}
		return func() (format.Decoder, error) { return format.NewJSON(path, specs) }, nil
	case "CSV":
		row, col := "\n", ","
		if mp != nil && mp.CSVMappingParameters != nil {
			row, col = mp.CSVMappingParameters.RecordRowDelimiter, mp.CSVMappingParameters.RecordColumnDelimiter
		}
		if _, err := format.NewCSV(row, col, specs); err != nil {
			return nil, err
		}
		return func() (format.Decoder, error) { return format.NewCSV(row, col, specs) }, nil
	}
	return nil, fmt.Errorf("record format %q is not JSON or CSV", sc.RecordFormat.RecordFormatType)
}

// config builds the engine configuration (references without rows).
func (r *Runner) config(spec analytics.RunSpec) (exec.Config, func() (format.Decoder, error), error) {
	cfg := exec.Config{Code: spec.Code}
	var mk func() (format.Decoder, error)
	if spec.Input != nil {
		inputs, f, err := inputConfig(spec.Input)
		if err != nil {
			return cfg, nil, err
		}
		cfg.Inputs, mk = inputs, f
	}
	for _, ref := range spec.References {
		cols, err := refColumns(ref)
		if err != nil {
			return cfg, nil, err
		}
		cfg.References = append(cfg.References, exec.Reference{Name: ref.TableName, Columns: cols, Rows: format.NewBatch(cols)})
	}
	return cfg, mk, nil
}

func refColumns(ref analytics.ReferenceDataSourceDescription) ([]exec.Column, error) {
	if ref.ReferenceSchema == nil {
		return nil, fmt.Errorf("reference %s has no schema", ref.TableName)
	}
	specs := make([]format.ColumnSpec, len(ref.ReferenceSchema.RecordColumns))
	for i, c := range ref.ReferenceSchema.RecordColumns {
		specs[i] = format.ColumnSpec{Name: c.Name, SQLType: c.SqlType}
	}
	return format.Columns(specs)
}

// Check implements analytics.Launcher: compile without I/O.
func (r *Runner) Check(spec analytics.RunSpec) error {
	cfg, _, err := r.config(spec)
	if err != nil {
		return err
	}
	_, err = r.opt.Compile(cfg)
	return codeErr(err)
}

func codeErr(err error) error {
	if err == nil {
		return nil
	}
	return &analytics.CodeError{Msg: err.Error()}
}

var streamARN = regexp.MustCompile(`^arn:aws[a-z-]*:kinesis:([a-z0-9-]+):([0-9]{12}):stream/([a-zA-Z0-9_.-]{1,128})$`)

// Launch implements analytics.Launcher.
func (r *Runner) Launch(spec analytics.RunSpec) (analytics.Run, error) {
	if spec.Input == nil {
		return nil, errors.New("the application has no input")
	}
	cfg, mk, err := r.config(spec)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			cancel()
		}
	}()
	// reference tables from S3
	for i, ref := range spec.References {
		rows, err := r.loadReference(ctx, ref, cfg.References[i].Columns)
		if err != nil {
			return nil, err
		}
		cfg.References[i].Rows = rows
	}
	prog, err := r.opt.Compile(cfg)
	if err != nil {
		return nil, codeErr(err)
	}
	src, err := r.source(spec.Input)
	if err != nil {
		return nil, err
	}
	outs, err := r.outputs(spec, prog)
	if err != nil {
		return nil, err
	}
	a := &app{r: r, spec: spec, prog: prog, src: src, outs: outs, ctx: ctx, cancel: cancel,
		done: make(chan struct{}), stopped: make(chan struct{}), wake: make(chan struct{}, 1), stopCh: make(chan struct{}),
		log: r.log.With("application", spec.Name, "account", spec.Account)}
	for _, name := range spec.Input.InAppStreamNames {
		d, err := mk()
		if err != nil {
			return nil, err
		}
		a.streams = append(a.streams, &inStream{name: name, dec: d, batch: format.NewBatch(d.Columns())})
	}
	if err := a.init(); err != nil {
		return nil, err
	}
	ok = true
	go a.loop()
	return a, nil
}

func (r *Runner) source(in *analytics.InputDescription) (source, error) {
	if k := in.KinesisStreamsInputDescription; k != nil {
		ref, err := r.opt.Streams.ResolveARN(k.ResourceARN)
		if err != nil {
			return nil, fmt.Errorf("input stream %s: %w", k.ResourceARN, err)
		}
		return &kinesisSource{s: r.opt.Streams, ref: ref, arn: k.ResourceARN}, nil
	}
	if f := in.KinesisFirehoseInputDescription; f != nil {
		if r.opt.Firehose == nil {
			return nil, errors.New("delivery streams are not available on this server")
		}
		acct, region, name, ok := firehose.ParseARN(f.ResourceARN)
		if !ok {
			return nil, fmt.Errorf("input %s is not a delivery stream ARN", f.ResourceARN)
		}
		id, err := r.opt.Firehose.BufferLog(acct, region, name)
		if err != nil {
			return nil, fmt.Errorf("input delivery stream %s: %w", f.ResourceARN, err)
		}
		return &logSource{be: r.opt.Backend, id: id, arn: f.ResourceARN}, nil
	}
	return nil, errors.New("the input has no source")
}

// output is one configured destination.
type output struct {
	stream string // in-application stream (case-sensitive)
	cols   []exec.Column
	csv    bool
	// put writes recs and returns those still to write (after an error).
	put  func(ctx context.Context, recs [][]byte) ([][]byte, error)
	desc string
	seq  uint64
}

func (r *Runner) outputs(spec analytics.RunSpec, prog Program) ([]*output, error) {
	cols := map[string][]exec.Column{exec.ErrorStream: format.ErrorColumns}
	for _, s := range prog.Streams() {
		cols[s.Name] = s.Columns
	}
	var outs []*output
	for _, o := range spec.Outputs {
		c, ok := cols[o.Name]
		if !ok {
			return nil, fmt.Errorf("output %s names in-application stream %q, which the application code does not create", o.OutputId, o.Name)
		}
		out := &output{stream: o.Name, cols: c, csv: o.DestinationSchema != nil && o.DestinationSchema.RecordFormatType == "CSV"}
		switch {
		case o.KinesisStreamsOutputDescription != nil:
			arn := o.KinesisStreamsOutputDescription.ResourceARN
			m := streamARN.FindStringSubmatch(arn)
			if m == nil {
				return nil, fmt.Errorf("output %s: %s is not a stream ARN", o.OutputId, arn)
			}
			if _, err := r.opt.Streams.ResolveARN(arn); err != nil {
				return nil, fmt.Errorf("output %s: %w", o.OutputId, err)
			}
			acct, region, name := m[2], m[1], m[3]
			out.desc = arn
			out.put = func(ctx context.Context, recs [][]byte) ([][]byte, error) {
				return putKinesis(ctx, r.opt.Streams, acct, region, name, recs, &out.seq)
			}
		case o.KinesisFirehoseOutputDescription != nil:
			arn := o.KinesisFirehoseOutputDescription.ResourceARN
			acct, region, name, ok := firehose.ParseARN(arn)
			if !ok || r.opt.Firehose == nil {
				return nil, fmt.Errorf("output %s: delivery stream %s is not available", o.OutputId, arn)
			}
			if _, err := r.opt.Firehose.BufferLog(acct, region, name); err != nil {
				return nil, fmt.Errorf("output %s: %w", o.OutputId, err)
			}
			out.desc = arn
			out.put = func(ctx context.Context, recs [][]byte) ([][]byte, error) {
				for len(recs) > 0 {
					n := min(len(recs), 500)
					if err := r.opt.Firehose.PutBatch(ctx, acct, region, name, recs[:n]); err != nil {
						return recs, err // a failed batch stored nothing
					}
					recs = recs[n:]
				}
				return nil, nil
			}
		case o.LambdaOutputDescription != nil:
			return nil, fmt.Errorf("output %s: Lambda outputs are not supported yet (Eddy has no Lambda service)", o.OutputId)
		default:
			return nil, fmt.Errorf("output %s has no destination", o.OutputId)
		}
		outs = append(outs, out)
	}
	return outs, nil
}

func (r *Runner) loadReference(ctx context.Context, ref analytics.ReferenceDataSourceDescription, cols []exec.Column) (*exec.Batch, error) {
	s3 := ref.S3ReferenceDataSourceDescription
	if s3 == nil {
		return nil, fmt.Errorf("reference %s has no S3 source", ref.TableName)
	}
	if r.opt.Objects == nil {
		return nil, fmt.Errorf("reference %s: S3 is not configured on this server (--s3-endpoint)", ref.TableName)
	}
	body, err := r.opt.Objects.GetObject(ctx, s3.BucketARN, s3.FileKey)
	if err != nil {
		return nil, fmt.Errorf("reference %s: read s3 object %s/%s: %w", ref.TableName, s3.BucketARN, s3.FileKey, err)
	}
	specs := make([]format.ColumnSpec, len(ref.ReferenceSchema.RecordColumns))
	for i, c := range ref.ReferenceSchema.RecordColumns {
		specs[i] = format.ColumnSpec{Name: c.Name, SQLType: c.SqlType}
		if c.Mapping != nil {
			specs[i].Mapping = *c.Mapping
		}
	}
	mk, err := decoderFactory(ref.ReferenceSchema, specs)
	if err != nil {
		return nil, err
	}
	d, err := mk()
	if err != nil {
		return nil, err
	}
	b := format.NewBatch(cols)
	var recs [][]byte
	if ref.ReferenceSchema.RecordFormat.RecordFormatType == "CSV" {
		recs = [][]byte{body} // the CSV decoder splits rows itself
	} else {
		for _, line := range strings.Split(string(body), "\n") {
			if strings.TrimSpace(line) != "" {
				recs = append(recs, []byte(line))
			}
		}
	}
	for i, rec := range recs {
		if _, err := d.Decode(rec, b); err != nil {
			return nil, fmt.Errorf("reference %s: record %d: %w", ref.TableName, i+1, err)
		}
	}
	format.Finish(b)
	return b, nil
}

// ---- the running application ----

type inStream struct {
	name  string
	dec   format.Decoder
	batch *exec.Batch
	floor int64 // last ROWTIME given (never decreases)
}

type shardState struct {
	desc  shardDesc
	pos   uint64
	done  bool
	ready bool
}

type pendingOut struct {
	Output  int      `json:"output"`
	Records [][]byte `json:"records"`
}

type checkpoint struct {
	Version   int               `json:"version"`
	Source    string            `json:"source"`
	Positions map[string]uint64 `json:"positions"` // shard index → next position
	Done      []uint32          `json:"done,omitempty"`
	Floors    map[string]int64  `json:"floors,omitempty"`
	Advanced  int64             `json:"advanced"`
	BaseReal  int64             `json:"baseReal"`
	BaseApp   int64             `json:"baseApp"`
	State     []byte            `json:"state,omitempty"`
	Pending   []pendingOut      `json:"pending,omitempty"`
}

type app struct {
	r      *Runner
	spec   analytics.RunSpec
	prog   Program
	src    source
	outs   []*output
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	streams []*inStream
	shards  map[uint32]*shardState

	baseReal, baseApp int64
	advanced          int64
	pending           []pendingOut
	lastCkpt          time.Time
	ckptCost          time.Duration // how long the last checkpoint took
	dirty             bool

	wake         chan struct{}
	stopCh       chan struct{} // closed by Stop
	stopOne      sync.Once
	pendingBytes int
	done         chan struct{} // closed when the loop ends on its own
	stopped      chan struct{} // closed when the loop has ended
	stopMu       sync.Mutex
	stopReq      bool
	noFinal      bool // tests: end like kill -9, without a final checkpoint
	err          error
	errRow       []byte
	held         []held // readMerged's buffer
	arena        []byte
}

func (a *app) Done() <-chan struct{} { return a.done }
func (a *app) Err() error            { return a.err }

// Stop implements analytics.Run: end the loop, which writes a final
// checkpoint.
func (a *app) Stop() error {
	a.stopMu.Lock()
	a.stopReq = true
	a.stopMu.Unlock()
	a.stopOne.Do(func() { close(a.stopCh) })
	<-a.stopped
	if a.err != nil && !errors.Is(a.err, context.Canceled) {
		return a.err
	}
	return nil
}

func (a *app) appTime(realMs int64) int64 {
	return a.baseApp + int64(float64(realMs-a.baseReal)*a.r.opt.Speed)
}

// init positions the source and restores a checkpoint.
func (a *app) init() error {
	nowReal := a.r.opt.Now().UnixMilli()
	a.baseReal, a.baseApp = nowReal, nowReal
	if a.r.opt.Speed != 1 {
		// the accelerated clock starts at UTC midnight, so that windows fall
		// on predictable wall-clock instants: a window of W lasts W/Speed
		// and starts at a multiple of W/Speed since midnight
		a.baseReal = nowReal / 86400000 * 86400000
		a.baseApp = a.baseReal
	}
	a.shards = map[uint32]*shardState{}
	var ck *checkpoint
	if a.spec.Position == "LAST_STOPPED_POINT" {
		c, err := a.loadCheckpoint()
		if err != nil {
			return err
		}
		if c != nil && c.Source == a.src.identity() {
			ck = c
		} else if c != nil {
			a.log.Warn("analytics: checkpoint is for another source; starting at NOW")
		}
	}
	if ck != nil {
		a.baseReal, a.baseApp, a.advanced = ck.BaseReal, ck.BaseApp, ck.Advanced
		for _, s := range a.streams {
			s.floor = ck.Floors[s.name]
		}
		a.pending = ck.Pending
		if len(ck.State) > 0 {
			if err := a.prog.Restore(ck.State); err != nil {
				a.log.Warn("analytics: operator state does not fit the code; starting with empty state at the saved positions", "err", err)
			}
		}
	}
	a.prog.Start(a.sink)
	list, err := a.src.list()
	if err != nil {
		return err
	}
	for _, d := range list {
		st := &shardState{desc: d}
		trim, next, sealed, err := a.src.bounds(a.ctx, d.index)
		if err != nil {
			return err
		}
		switch {
		case ck != nil:
			if p, ok := ck.Positions[itoa64(int64(d.index))]; ok {
				st.pos = max(p, trim)
			} else {
				st.pos = trim // a shard born after the checkpoint
			}
			for _, x := range ck.Done {
				if x == d.index {
					st.done = true
				}
			}
		case a.spec.Position == "TRIM_HORIZON":
			st.pos = trim
		default: // NOW
			st.pos = next
			if !d.open || sealed {
				st.done = true
			}
		}
		a.shards[d.index] = st
	}
	return nil
}

func (a *app) loadCheckpoint() (*checkpoint, error) {
	blob, err := a.r.opt.Backend.LoadMeta(ckptNamespace(a.spec.AppID))
	if err != nil {
		return nil, fmt.Errorf("load checkpoint: %w", err)
	}
	if len(blob) == 0 {
		return nil, nil
	}
	var c checkpoint
	if err := json.Unmarshal(blob, &c); err != nil {
		return nil, fmt.Errorf("decode checkpoint: %w", err)
	}
	if c.Version == 0 {
		return nil, nil // forgotten
	}
	if c.Version != 1 {
		return nil, fmt.Errorf("checkpoint version %d not supported", c.Version)
	}
	return &c, nil
}

func (a *app) saveCheckpoint() error {
	state, err := a.prog.Snapshot()
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	c := checkpoint{Version: 1, Source: a.src.identity(), Positions: map[string]uint64{}, Floors: map[string]int64{},
		Advanced: a.advanced, BaseReal: a.baseReal, BaseApp: a.baseApp, State: state, Pending: a.pending}
	for ix, s := range a.shards {
		c.Positions[itoa64(int64(ix))] = s.pos
		if s.done {
			c.Done = append(c.Done, ix)
		}
	}
	for _, s := range a.streams {
		c.Floors[s.name] = s.floor
	}
	began := time.Now()
	defer func() { a.ckptCost = time.Since(began) }()
	blob, err := json.Marshal(&c)
	if err != nil {
		return err
	}
	if err := a.r.opt.Backend.SaveMeta(ckptNamespace(a.spec.AppID), blob); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	a.lastCkpt = time.Now() // cadence is wall time, whatever the application clock
	a.dirty = false
	return nil
}

// sink receives emitted rows and encodes them for their outputs.
func (a *app) sink(stream string, b *exec.Batch) {
	for i, o := range a.outs {
		if o.stream != stream {
			continue
		}
		var recs [][]byte
		for row := 0; row < b.Len; row++ {
			var rec []byte
			if o.csv {
				rec = format.AppendCSVRow(nil, o.cols, b, row, ',')
				rec = append(rec, '\n')
			} else {
				rec = format.AppendJSONRow(nil, o.cols, b, row)
			}
			recs = append(recs, rec)
			a.pendingBytes += len(rec)
		}
		if len(recs) == 0 {
			continue
		}
		if n := len(a.pending); n > 0 && a.pending[n-1].Output == i {
			a.pending[n-1].Records = append(a.pending[n-1].Records, recs...)
		} else {
			a.pending = append(a.pending, pendingOut{Output: i, Records: recs})
		}
	}
}

func (a *app) stopping() bool {
	a.stopMu.Lock()
	defer a.stopMu.Unlock()
	return a.stopReq
}

// loop is the application's single goroutine.
func (a *app) loop() {
	defer close(a.stopped)
	defer a.cancel()
	tick := time.NewTicker(a.r.opt.Tick)
	defer tick.Stop()
	var err error
	// rows pending from the checkpoint are delivered first
	if err = a.deliver(a.ctx); err == nil {
		for !a.stopping() {
			var progress bool
			progress, err = a.readCycle()
			if err != nil {
				break
			}
			if err = a.flush(!progress); err != nil {
				break
			}
			if progress {
				if a.dirty && a.checkpointDue() {
					if err = a.saveCheckpoint(); err != nil {
						break
					}
				}
				select {
				case <-tick.C:
					err = a.advance()
				default:
				}
				if err != nil {
					break
				}
				continue
			}
			if a.dirty && a.checkpointDue() {
				if err = a.saveCheckpoint(); err != nil {
					break
				}
			}
			a.armWatches()
			select {
			case <-a.ctx.Done():
			case <-a.stopCh:
			case <-a.wake:
			case <-tick.C:
				err = a.advance()
			}
			if err != nil {
				break
			}
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		a.err = err
		a.log.Error("analytics: application failed", "err", err)
	}
	a.stopMu.Lock()
	final := !a.noFinal
	a.stopMu.Unlock()
	if !final {
		return
	}
	// deliver what is pending (bounded), then the final checkpoint; rows
	// not delivered stay in it
	if len(a.pending) > 0 && a.ctx.Err() == nil {
		if cerr := a.saveCheckpoint(); cerr == nil {
			dctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
			_ = a.deliver(dctx)
			cancel()
		}
	}
	if cerr := a.saveCheckpoint(); cerr != nil && a.err == nil {
		a.err = cerr
	}
	if !a.stopping() {
		close(a.done)
	}
}

// watchers signal a.wake when a shard at its tip gets a record.
func (a *app) armWatches() {
	for _, s := range a.shards {
		if s.done || !s.ready {
			continue
		}
		ch := a.src.watch(s.desc.index, s.pos)
		go func() {
			select {
			case <-ch:
				select {
				case a.wake <- struct{}{}:
				default:
				}
			case <-a.ctx.Done():
			}
		}()
	}
}

// readCycle reads up to BatchRecords from every ready shard and pushes the
// batches. It reports whether any record was read. The shards feeding one
// in-application stream are merged by arrival time (ROWTIME never
// decreases, so a record read after a later one from another shard would be
// clamped into a later window); a shard's position advances only past the
// records processed.
func (a *app) readCycle() (bool, error) {
	if err := a.refreshShards(); err != nil {
		return false, err
	}
	progress := false
	nowApp := a.appTime(a.r.opt.Now().UnixMilli())
	groups := make([][]*shardState, len(a.streams))
	for _, s := range a.shards {
		if s.done || !s.ready {
			continue
		}
		i := int(s.desc.index) % len(a.streams)
		groups[i] = append(groups[i], s)
	}
	for i, shards := range groups {
		if len(shards) == 0 {
			continue
		}
		st := a.streams[i]
		var p bool
		var err error
		if len(shards) == 1 {
			p, err = a.readOne(st, shards[0], nowApp)
		} else {
			p, err = a.readMerged(st, shards, nowApp)
		}
		if err != nil {
			return false, err
		}
		progress = progress || p
		if err := a.pushStream(st); err != nil {
			return false, err
		}
	}
	return progress, nil
}

func (a *app) readErr(s *shardState, err error) error {
	if a.ctx.Err() != nil {
		return a.ctx.Err()
	}
	return fmt.Errorf("read %s shard %d: %w", a.src.identity(), s.desc.index, err)
}

func (a *app) readOne(st *inStream, s *shardState, nowApp int64) (bool, error) {
	progress := false
	next, err := a.src.read(a.ctx, s.desc.index, s.pos, a.r.opt.BatchRecords, func(pos uint64, arrivalMs int64, pk, data []byte) {
		progress = true
		a.decode(st, s, arrivalMs, nowApp, pk, data)
	})
	if err != nil {
		return false, a.readErr(s, err)
	}
	if next != s.pos {
		s.pos = next
		a.dirty = true
	}
	return progress, nil
}

// held is a record read from one of several shards, awaiting the merge.
type held struct {
	arrival  int64
	pos      uint64
	shard    *shardState
	pk, data [2]int // offsets into app.arena
}

func (a *app) readMerged(st *inStream, shards []*shardState, nowApp int64) (bool, error) {
	a.held, a.arena = a.held[:0], a.arena[:0]
	horizon := int64(math.MaxInt64)
	for _, s := range shards {
		n := 0
		var last int64
		_, err := a.src.read(a.ctx, s.desc.index, s.pos, a.r.opt.BatchRecords, func(pos uint64, arrivalMs int64, pk, data []byte) {
			h := held{arrival: arrivalMs, pos: pos, shard: s}
			h.pk[0] = len(a.arena)
			a.arena = append(a.arena, pk...)
			h.pk[1], h.data[0] = len(a.arena), len(a.arena)
			a.arena = append(a.arena, data...)
			h.data[1] = len(a.arena)
			a.held = append(a.held, h)
			n++
			last = arrivalMs
		})
		if err != nil {
			return false, a.readErr(s, err)
		}
		if n >= a.r.opt.BatchRecords && last < horizon {
			horizon = last // this shard has more: later records wait for it
		}
	}
	sort.SliceStable(a.held, func(i, j int) bool { return a.held[i].arrival < a.held[j].arrival })
	progress := false
	for _, h := range a.held {
		if h.arrival > horizon {
			break
		}
		progress = true
		a.decode(st, h.shard, h.arrival, nowApp, a.arena[h.pk[0]:h.pk[1]], a.arena[h.data[0]:h.data[1]])
		if h.pos+1 > h.shard.pos {
			h.shard.pos = h.pos + 1
			a.dirty = true
		}
	}
	return progress, nil
}

// decode parses one record into its in-application stream's batch.
func (a *app) decode(st *inStream, s *shardState, arrivalMs, nowApp int64, pk, data []byte) {
	rt := a.appTime(arrivalMs)
	if rt > nowApp {
		rt = nowApp
	}
	if rt < st.floor {
		rt = st.floor
	}
	if rt < a.advanced {
		rt = a.advanced
	}
	b := st.batch
	before := b.Len
	n, err := st.dec.Decode(data, b)
	if err != nil {
		a.errRow = hex.AppendEncode(a.errRow[:0], data)
		a.prog.ReportError(exec.ErrorRow{Time: nowApp, Level: "ERROR", Name: errName(err), Message: truncate(err.Error(), 4096),
			DataRowTime: rt, DataRow: truncate(string(a.errRow), 49152)})
		return
	}
	st.floor = rt
	for i := 0; i < n; i++ {
		b.RowTime = append(b.RowTime, rt)
		b.ApproximateArrivalTime = append(b.ApproximateArrivalTime, arrivalMs)
		if a.src.isKinesis() {
			b.ShardID = append(b.ShardID, s.desc.id)
			b.PartitionKey = append(b.PartitionKey, string(pk))
		}
	}
	_ = before
}

func errName(err error) string {
	if errors.Is(err, format.ErrCoerce) {
		return "TYPE_CONVERSION_ERROR"
	}
	return "RECORD_PARSE_ERROR"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (a *app) pushStream(st *inStream) error {
	b := st.batch
	if b.Len == 0 {
		return nil
	}
	format.Finish(b)
	err := a.prog.Push(st.name, b)
	format.Reset(b)
	if err != nil {
		return fmt.Errorf("push %s: %w", st.name, err)
	}
	a.dirty = true
	return nil
}

// refreshShards learns new shards and marks which are ready (parents done).
func (a *app) refreshShards() error {
	list, err := a.src.list()
	if err != nil {
		return err
	}
	for _, d := range list {
		s := a.shards[d.index]
		if s == nil {
			trim, _, _, err := a.src.bounds(a.ctx, d.index)
			if err != nil {
				return err
			}
			s = &shardState{desc: d, pos: trim}
			a.shards[d.index] = s
		}
		s.desc = d
	}
	for _, s := range a.shards {
		if s.done {
			continue
		}
		ready := true
		for _, p := range s.desc.parents {
			if ps := a.shards[p]; ps != nil && !ps.done {
				ready = false
			}
		}
		s.ready = ready
		if ready && !s.desc.open {
			_, next, sealed, err := a.src.bounds(a.ctx, s.desc.index)
			if err != nil {
				return err
			}
			if sealed && s.pos >= next {
				s.done = true
				a.dirty = true
			}
		}
	}
	return nil
}

// advance reads everything that arrived before now−lag, then closes the
// windows that end by then.
func (a *app) advance() error {
	cut := a.r.opt.Now().Add(-a.r.opt.AdvanceLag)
	// every record that arrived before cut must be read first; when that
	// takes long (a backlog), time is advanced on a later tick instead
	busy := time.Now().Add(time.Second)
	for {
		progress, err := a.readCycle()
		if err != nil {
			return err
		}
		if err := a.flush(false); err != nil {
			return err
		}
		if !progress {
			break
		}
		if time.Now().After(busy) {
			return nil
		}
	}
	t := a.appTime(cut.UnixMilli())
	if t <= a.advanced {
		return nil
	}
	a.advanced = t
	for _, s := range a.streams {
		s.floor = max(s.floor, t)
	}
	a.prog.Advance(t)
	a.dirty = true
	return a.flush(false)
}

// checkpointDue: CheckpointEvery has passed, and at least ten times what
// the last checkpoint took (large state is saved less often, so
// checkpoints cost at most about a tenth of the time).
func (a *app) checkpointDue() bool {
	return time.Since(a.lastCkpt) >= max(a.r.opt.CheckpointEvery, 10*a.ckptCost)
}

// maxPendingBytes forces a flush when emitted rows pile up.
const maxPendingBytes = 16 << 20

// flush checkpoints, then delivers the rows emitted since the last flush.
// Unless forced, it waits for CheckpointEvery to pass (or maxPendingBytes of
// rows), so that a stream of emissions costs one checkpoint per interval.
func (a *app) flush(force bool) error {
	if len(a.pending) == 0 {
		return nil
	}
	if !force && !a.checkpointDue() && a.pendingBytes < maxPendingBytes {
		return nil
	}
	if err := a.saveCheckpoint(); err != nil {
		return err
	}
	return a.deliver(a.ctx)
}

// deliver writes pending rows to their outputs, retrying until they are
// written or the application stops (they stay in the checkpoint then).
func (a *app) deliver(ctx context.Context) error {
	backoff := 50 * time.Millisecond
	for len(a.pending) > 0 {
		p := a.pending[0]
		o := a.outs[p.Output]
		rest, err := o.put(ctx, p.Records)
		if err != nil {
			a.pending[0].Records = rest
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.log.Warn("analytics: output delivery failed; retrying", "output", o.desc, "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-a.stopCh:
				return context.Canceled // the rows stay in the checkpoint
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		a.pending = a.pending[1:]
		a.dirty = true
	}
	a.pending = nil
	a.pendingBytes = 0
	return nil
}
