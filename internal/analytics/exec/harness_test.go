package exec

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/analytics/sql"
)

var update = flag.Bool("update", false, "rewrite the -- output -- sections of testdata/*.golden")

// A golden file has sections introduced by "-- name --" lines:
//
//	-- sql --                     application code
//	-- input NAME [kinesis] --    one line of column definitions
//	-- reference NAME --          column definitions, then one JSON row per line
//	-- events --                  push STREAM TIME {json} | advance TIME
//	-- output --                  STREAM TIME v1 | v2 | … (error_stream: NAME | PUMP)
//
// TIME is "HH:MM:SS[.mmm]" on 2026-01-01 (UTC) or a full "YYYY-MM-DD HH:MM:SS".
type golden struct {
	sql     string
	inputs  []Input
	refs    []Reference
	refRows map[string][]string
	events  []string
	output  string
	raw     []string // sections in order, for rewriting
}

func parseGolden(t *testing.T, text string) *golden {
	g := &golden{refRows: map[string][]string{}}
	var name string
	var body []string
	flush := func() {
		if name == "" {
			return
		}
		content := strings.Join(body, "\n")
		f := strings.Fields(name)
		switch f[0] {
		case "sql":
			g.sql = content
		case "input":
			in := Input{Name: f[1], Columns: parseCols(t, body[0]), Kinesis: len(f) > 2 && f[2] == "kinesis"}
			g.inputs = append(g.inputs, in)
		case "reference":
			g.refs = append(g.refs, Reference{Name: f[1], Columns: parseCols(t, body[0])})
			g.refRows[f[1]] = body[1:]
		case "events":
			for _, l := range body {
				if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#") {
					g.events = append(g.events, l)
				}
			}
		case "output":
			g.output = strings.TrimSpace(content)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --") {
			flush()
			name, body = strings.TrimSuffix(strings.TrimPrefix(line, "-- "), " --"), nil
			g.raw = append(g.raw, line)
			continue
		}
		body = append(body, line)
	}
	flush()
	return g
}

func parseCols(t *testing.T, defs string) []Column {
	script, err := sql.Parse("CREATE STREAM x (" + defs + ")")
	if err != nil {
		t.Fatalf("column definitions %q: %v", defs, err)
	}
	var cols []Column
	for _, cd := range script.Stmts[0].(*sql.CreateStream).Columns {
		c := columnOf(cd.Type)
		c.Name = cd.Name.Text
		cols = append(cols, c)
	}
	return cols
}

func parseTime(t *testing.T, s string) int64 {
	if len(s) <= 12 {
		s = "2026-01-01 " + s
	}
	ms, ok := parseTimestamp(s)
	if !ok {
		t.Fatalf("bad time %q", s)
	}
	return ms
}

// jsonBatch builds a one-row batch from a JSON object, coercing as the
// runner does.
func jsonBatch(t *testing.T, cols []Column, rt int64, obj string) *Batch {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(obj))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad JSON %s: %v", obj, err)
	}
	bd := newBuilder(cols)
	vals := make([]value, len(cols))
	for k, c := range cols {
		raw, ok := m[c.Name]
		if !ok || raw == nil {
			vals[k] = nullValue
			continue
		}
		var v value
		var from Type
		switch x := raw.(type) {
		case json.Number:
			if i, err := x.Int64(); err == nil {
				v, from = value{i: i}, TypeBigint
			} else {
				f, _ := x.Float64()
				v, from = value{f: f}, TypeDouble
			}
		case string:
			v, from = value{s: x}, TypeVarchar
		case bool:
			v, from = boolVal(x), TypeBoolean
		default:
			b, _ := json.Marshal(x)
			v, from = value{s: string(b)}, TypeVarchar
		}
		cv, err := convert(v, from, c)
		if err != nil {
			t.Fatalf("coerce %v into %s: %v", raw, c.Name, err)
		}
		vals[k] = cv
	}
	bd.appendRow(rt, vals)
	return &bd.b
}

func render(b *Batch, cols []Column, i int) string {
	parts := make([]string, len(cols))
	for k, c := range cols {
		v := getVal(&b.Cols[k], &c, i)
		switch {
		case v.null:
			parts[k] = "NULL"
		case c.Type == TypeReal:
			parts[k] = strconv.FormatFloat(v.f, 'g', -1, 32)
		case c.Type == TypeDouble:
			parts[k] = strconv.FormatFloat(v.f, 'g', -1, 64)
		default:
			parts[k] = toString(v, c.Type)
		}
	}
	return strings.Join(parts, " | ")
}

func fmtTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000")
}

// run executes a golden's events. With restoreEvery, the program is
// snapshotted, recompiled and restored before every event.
func (g *golden) run(t *testing.T, restoreEvery bool) string {
	t.Helper()
	cfg := Config{Code: g.sql, Inputs: g.inputs}
	for _, r := range g.refs {
		bd := newBuilder(r.Columns)
		for _, line := range g.refRows[r.Name] {
			if strings.TrimSpace(line) == "" {
				continue
			}
			row := jsonBatch(t, r.Columns, 0, line)
			bd.b.RowTime = append(bd.b.RowTime, 0)
			bd.copyFrom(0, row, r.Columns, 0)
			bd.b.Len++
		}
		r.Rows = &bd.b
		cfg.References = append(cfg.References, r)
	}
	compile := func() *Program {
		p, err := Compile(cfg)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		return p
	}
	p := compile()
	streams := map[string][]Column{ErrorStream: errorCols}
	for _, s := range p.Streams() {
		streams[s.Name] = s.Columns
	}
	var out strings.Builder
	sink := func(name string, b *Batch) {
		for i := 0; i < b.Len; i++ {
			if name == ErrorStream {
				fmt.Fprintf(&out, "%s %s %s | %s | %s\n", name, fmtTime(b.RowTime[i]),
					b.Cols[2].Str[i], b.Cols[3].Str[i], b.Cols[6].Str[i])
				continue
			}
			fmt.Fprintf(&out, "%s %s %s\n", name, fmtTime(b.RowTime[i]), render(b, streams[name], i))
		}
	}
	p.Start(sink)
	inputs := map[string][]Column{}
	for _, in := range g.inputs {
		inputs[in.Name] = in.Columns
	}
	for _, ev := range g.events {
		if restoreEvery {
			snap, err := p.Snapshot()
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			p = compile()
			if err := p.Restore(snap); err != nil {
				t.Fatalf("restore: %v", err)
			}
			p.Start(sink)
		}
		f := strings.SplitN(ev, " ", 2)
		switch f[0] {
		case "advance":
			p.Advance(parseTime(t, strings.TrimSpace(f[1])))
		case "push":
			rest := strings.SplitN(f[1], " ", 2)
			stream := rest[0]
			j := strings.Index(rest[1], "{")
			rt := parseTime(t, strings.TrimSpace(rest[1][:j]))
			if err := p.Push(stream, jsonBatch(t, inputs[stream], rt, rest[1][j:])); err != nil {
				t.Fatalf("push: %v", err)
			}
		default:
			t.Fatalf("unknown event %q", ev)
		}
	}
	return strings.TrimSpace(out.String())
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.golden")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".golden"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g := parseGolden(t, string(data))
			got := g.run(t, false)
			if *update {
				text := string(data)
				if i := strings.Index(text, "-- output --"); i >= 0 {
					text = text[:i]
				}
				text = strings.TrimRight(text, "\n") + "\n-- output --\n" + got + "\n"
				if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != g.output {
				t.Errorf("output differs\n--- got\n%s\n--- want\n%s", got, g.output)
			}
			// The same events with a snapshot and restore before each one
			// give the same output: no window lost or emitted twice.
			if resumed := g.run(t, true); resumed != got {
				t.Errorf("output with snapshot/restore before every event differs\n--- got\n%s\n--- want\n%s", resumed, got)
			}
		})
	}
}

func TestGoldenHasOutput(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.golden")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if !bytes.Contains(data, []byte("-- output --\n")) {
			t.Errorf("%s has no output section", f)
		}
	}
}
