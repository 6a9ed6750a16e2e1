package exec

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

// Program is a compiled application. It is not safe for concurrent use:
// the runner calls it from one goroutine.
type Program struct {
	sink    Sink
	streams map[string]*stream
	created []*stream // CREATE STREAM order
	refs    map[string]*refTable
	nodes   []node // every operator, upstream before downstream
	now     int64  // latest processing time seen (ROWTIME or Advance)
	start   int64  // query start time: CURRENT_TIMESTAMP and friends
	started bool
	errBd   *builder
	code    string
}

// stream is an in-application stream: its columns, the pumps reading it
// and the last ROWTIME written (ROWTIME never decreases).
type stream struct {
	name    string
	cols    []Column
	input   bool
	kinesis bool
	subs    []node
	lastRT  int64
	hasRT   bool
}

// refTable is an in-application reference table.
type refTable struct {
	name  string
	cols  []Column
	rows  *Batch
	joins []*tableJoinNode
}

var errorCols = []Column{
	{Name: "ERROR_TIME", Type: TypeTimestamp},
	{Name: "ERROR_LEVEL", Type: TypeVarchar, Size: 10},
	{Name: "ERROR_NAME", Type: TypeVarchar, Size: 32},
	{Name: "MESSAGE", Type: TypeVarchar, Size: 4096},
	{Name: "DATA_ROWTIME", Type: TypeTimestamp},
	{Name: "DATA_ROW", Type: TypeVarchar, Size: 49152},
	{Name: "PUMP_NAME", Type: TypeVarchar, Size: 128},
}

// Compile parses and plans cfg.Code against the declared inputs and
// references. Syntax and semantic errors are *sql.Error values carrying line
// and column.
func Compile(cfg Config) (prog *Program, err error) {
	script, perr := sql.Parse(cfg.Code)
	if perr != nil {
		return nil, perr
	}
	p := &Program{
		streams: map[string]*stream{},
		refs:    map[string]*refTable{},
		errBd:   newBuilder(errorCols),
		code:    cfg.Code,
	}
	for _, in := range cfg.Inputs {
		if _, dup := p.streams[in.Name]; dup {
			return nil, fmt.Errorf("duplicate input stream %q", in.Name)
		}
		p.streams[in.Name] = &stream{name: in.Name, cols: in.Columns, input: true, kinesis: in.Kinesis}
	}
	for _, r := range cfg.References {
		p.refs[r.Name] = &refTable{name: r.Name, cols: r.Columns, rows: r.Rows}
	}
	defer func() {
		if r := recover(); r != nil {
			if se, ok := r.(*sql.Error); ok {
				prog, err = nil, se
				return
			}
			panic(r)
		}
	}()
	pumps := map[string]bool{}
	var planned []*planner
	for _, st := range script.Stmts {
		switch st := st.(type) {
		case *sql.CreateStream:
			name := st.Name.Text
			if name == ErrorStream {
				semErr(st.Name.Pos, "Stream '%s' is reserved by the system", name)
			}
			if old, ok := p.streams[name]; ok && old.input {
				semErr(st.Name.Pos, "Stream '%s' is an input stream and cannot be replaced", name)
			}
			if _, ok := p.refs[name]; ok {
				semErr(st.Name.Pos, "'%s' already names a reference table", name)
			}
			s := &stream{name: name}
			seen := map[string]bool{}
			for _, cd := range st.Columns {
				c := columnOf(cd.Type)
				c.Name = cd.Name.Text
				if seen[c.Name] || c.Name == "ROWTIME" {
					semErr(cd.Name.Pos, "Duplicate column name '%s'", c.Name)
				}
				seen[c.Name] = true
				s.cols = append(s.cols, c)
			}
			if old, ok := p.streams[name]; ok {
				// OR REPLACE: drop the old definition.
				for i, c := range p.created {
					if c == old {
						p.created = append(p.created[:i], p.created[i+1:]...)
						break
					}
				}
			}
			p.streams[name] = s
			p.created = append(p.created, s)
		case *sql.CreatePump:
			if pumps[st.Name.Text] {
				semErr(st.Name.Pos, "Pump '%s' already exists", st.Name.Text)
			}
			pumps[st.Name.Text] = true
			pl := &planner{p: p, pump: st.Name.Text, pos: st.Name.Pos}
			pl.planPump(st)
			planned = append(planned, pl)
		}
	}
	for _, pl := range orderPumps(planned) {
		p.nodes = append(p.nodes, pl.nodes...)
	}
	return p, nil
}

// Streams lists the in-application streams the code creates.
func (p *Program) Streams() []StreamInfo {
	out := make([]StreamInfo, len(p.created))
	for i, s := range p.created {
		out[i] = StreamInfo{Name: s.name, Columns: append([]Column(nil), s.cols...)}
	}
	return out
}

// Start sets the sink that receives emitted rows.
func (p *Program) Start(sink Sink) { p.sink = sink }

func (p *Program) queryStart() int64 {
	if !p.started {
		p.start, p.started = p.now, true
	}
	return p.start
}

func (p *Program) tick(ms int64) {
	if ms > p.now {
		p.now = ms
	}
	if !p.started {
		p.start, p.started = p.now, true
	}
}

// Push runs a batch of the named input stream through every pump. Rows that
// fail evaluation go to ErrorStream; the error return is for misuse only
// (unknown input, wrong columns).
func (p *Program) Push(input string, b *Batch) error {
	s, ok := p.streams[input]
	if !ok || !s.input {
		return fmt.Errorf("analytics: unknown input stream %q", input)
	}
	if err := checkBatch(b, s.cols); err != nil {
		return fmt.Errorf("analytics: input %q: %w", input, err)
	}
	if b.Len == 0 {
		return nil
	}
	// ROWTIME never decreases: rows behind the stream's last ROWTIME go
	// to the error stream.
	ordered := true
	last, has := s.lastRT, s.hasRT
	for i := 0; i < b.Len; i++ {
		if has && b.RowTime[i] < last {
			ordered = false
			break
		}
		last, has = b.RowTime[i], true
	}
	if !ordered {
		b = p.dropOutOfOrder(s, b)
		if b.Len == 0 {
			return nil
		}
	}
	s.lastRT, s.hasRT = b.RowTime[b.Len-1], true
	p.tick(b.RowTime[0])
	for _, n := range s.subs {
		n.push(b)
	}
	p.tick(b.RowTime[b.Len-1])
	p.advanceAll()
	return nil
}

func (p *Program) dropOutOfOrder(s *stream, b *Batch) *Batch {
	bd := newBuilder(s.cols)
	last, has := s.lastRT, s.hasRT
	for i := 0; i < b.Len; i++ {
		if has && b.RowTime[i] < last {
			p.reportRow("OUT_OF_ORDER_ROWTIME", fmt.Sprintf("ROWTIME %s is earlier than the stream's last ROWTIME %s", formatTimestamp(b.RowTime[i]), formatTimestamp(last)), "", b, s.cols, i)
			continue
		}
		last, has = b.RowTime[i], true
		bd.b.RowTime = append(bd.b.RowTime, b.RowTime[i])
		bd.copyFrom(0, b, s.cols, i)
		if b.ApproximateArrivalTime != nil {
			bd.b.ApproximateArrivalTime = append(bd.b.ApproximateArrivalTime, b.ApproximateArrivalTime[i])
		}
		if b.PartitionKey != nil {
			bd.b.PartitionKey = append(bd.b.PartitionKey, b.PartitionKey[i])
		}
		if b.ShardID != nil {
			bd.b.ShardID = append(bd.b.ShardID, b.ShardID[i])
		}
		if b.SequenceNumber != nil {
			bd.b.SequenceNumber = append(bd.b.SequenceNumber, b.SequenceNumber[i])
		}
		bd.b.Len++
	}
	return &bd.b
}

func checkBatch(b *Batch, cols []Column) error {
	if b == nil {
		return errors.New("nil batch")
	}
	if len(b.Cols) != len(cols) {
		return fmt.Errorf("batch has %d columns, stream has %d", len(b.Cols), len(cols))
	}
	if len(b.RowTime) < b.Len {
		return fmt.Errorf("batch has %d rows but %d ROWTIMEs", b.Len, len(b.RowTime))
	}
	for i, c := range cols {
		v := &b.Cols[i]
		if n := vecLen(v, c.Type); n < b.Len {
			return fmt.Errorf("column %s (%s) has %d values for %d rows", c.Name, c.Type, n, b.Len)
		}
		if v.Null != nil && len(v.Null) < b.Len {
			return fmt.Errorf("column %s has %d null flags for %d rows", c.Name, len(v.Null), b.Len)
		}
	}
	for _, s := range [][]string{b.PartitionKey, b.ShardID, b.SequenceNumber} {
		if s != nil && len(s) < b.Len {
			return errors.New("metadata slice shorter than the batch")
		}
	}
	if b.ApproximateArrivalTime != nil && len(b.ApproximateArrivalTime) < b.Len {
		return errors.New("APPROXIMATE_ARRIVAL_TIME shorter than the batch")
	}
	return nil
}

// Advance tells the program that processing time is now nowMs: windows
// whose end is at or before it close and emit even if no input arrived.
func (p *Program) Advance(nowMs int64) {
	p.tick(nowMs)
	p.advanceAll()
}

func (p *Program) advanceAll() {
	for _, n := range p.nodes {
		n.advance(p.now)
	}
}

// ReportError emits a row on ErrorStream (records the runner could not
// parse).
func (p *Program) ReportError(e ErrorRow) {
	bd := p.errBd
	bd.reset()
	bd.appendRow(e.Time, []value{
		{i: e.Time}, {s: e.Level}, {s: e.Name}, {s: e.Message}, {i: e.DataRowTime}, {s: e.DataRow}, {s: e.Pump},
	})
	if p.sink != nil {
		p.sink(ErrorStream, &bd.b)
	}
	bd.reset()
}

// reportRow sends an evaluation error for row i of b to the error stream.
func (p *Program) reportRow(name, msg, pump string, b *Batch, cols []Column, i int) {
	var sb strings.Builder
	for k, c := range cols {
		if k > 0 {
			sb.WriteByte(',')
		}
		v := getVal(&b.Cols[k], &c, i)
		if !v.null {
			sb.WriteString(toString(v, c.Type))
		}
	}
	rt := int64(0)
	if i < len(b.RowTime) {
		rt = b.RowTime[i]
	}
	p.ReportError(ErrorRow{
		Time: p.now, Level: "ERROR", Name: name, Message: msg,
		DataRowTime: rt, DataRow: hex.EncodeToString([]byte(sb.String())), Pump: pump,
	})
}

func (p *Program) reportEval(err error, pump string, b *Batch, cols []Column, i int) {
	name := "EVALUATION_ERROR"
	var ee *evalError
	if errors.As(err, &ee) {
		name = ee.name
	}
	p.reportRow(name, err.Error(), pump, b, cols, i)
}

// emit delivers a batch written to an in-application stream.
func (p *Program) emit(s *stream, b *Batch) {
	if b.Len == 0 {
		return
	}
	if p.sink != nil {
		p.sink(s.name, b)
	}
	for _, n := range s.subs {
		n.push(b)
	}
}

// SetReference replaces a reference table's rows.
func (p *Program) SetReference(name string, rows *Batch) error {
	r, ok := p.refs[name]
	if !ok {
		return fmt.Errorf("analytics: unknown reference table %q", name)
	}
	if err := checkRef(rows, r.cols); err != nil {
		return fmt.Errorf("analytics: reference %q: %w", name, err)
	}
	r.rows = rows
	for _, j := range r.joins {
		j.rebuild()
	}
	return nil
}

func checkRef(b *Batch, cols []Column) error {
	if b == nil {
		return nil
	}
	if len(b.Cols) != len(cols) {
		return fmt.Errorf("batch has %d columns, table has %d", len(b.Cols), len(cols))
	}
	for i, c := range cols {
		if vecLen(&b.Cols[i], c.Type) < b.Len {
			return fmt.Errorf("column %s is shorter than the batch", c.Name)
		}
		if b.Cols[i].Null != nil && len(b.Cols[i].Null) < b.Len {
			return fmt.Errorf("column %s has too few null flags", c.Name)
		}
	}
	return nil
}
