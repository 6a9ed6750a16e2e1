package exec

// Program is a compiled application. It is not safe for concurrent use:
// the runner calls it from one goroutine.
type Program struct {
	sink Sink
}

// Compile parses and plans cfg.Code against the declared inputs and
// references. Syntax and semantic errors are *sql.Error values carrying line
// and column.
func Compile(cfg Config) (*Program, error) { return nil, ErrNotBuilt }

// Streams lists the in-application streams the code creates.
func (p *Program) Streams() []StreamInfo { return nil }

// Start sets the sink that receives emitted rows.
func (p *Program) Start(sink Sink) { p.sink = sink }

// Push runs a batch of the named input stream through every pump. Rows that
// fail evaluation go to ErrorStream; the error return is for misuse only
// (unknown input, wrong columns).
func (p *Program) Push(input string, b *Batch) error { return ErrNotBuilt }

// Advance tells the program that processing time is now nowMs: windows
// whose end is at or before it close and emit even if no input arrived.
func (p *Program) Advance(nowMs int64) {}

// ReportError emits a row on ErrorStream (records the runner could not
// parse).
func (p *Program) ReportError(e ErrorRow) {}

// SetReference replaces a reference table's rows.
func (p *Program) SetReference(name string, rows *Batch) error { return ErrNotBuilt }

// Snapshot returns the operator state (versioned bytes). The runner stores
// it together with the source positions of the last pushed batch, so a
// restore resumes without losing or repeating a window.
func (p *Program) Snapshot() ([]byte, error) { return nil, ErrNotBuilt }

// Restore loads a Snapshot into a freshly compiled Program of the same code.
func (p *Program) Restore(state []byte) error { return ErrNotBuilt }
