package format

import (
	"bytes"
	"fmt"

	"github.com/eddy-streams/eddy/internal/analytics/exec"
)

// CSV decodes delimited records: each record holds one or more rows
// separated by the row delimiter; columns are positional and separated by
// the column delimiter. Fields may be double-quoted ("a,b" and "" for a
// quote). A row with fewer fields than columns gives NULL for the rest;
// extra fields are ignored. An empty field is NULL except in a character
// column, where it is the empty string.
type CSV struct {
	cols   []exec.Column
	row    []byte
	col    []byte
	co     coercer
	fields [][]byte
	quoted []bool
	buf    []byte
}

// NewCSV compiles a CSV schema.
func NewCSV(rowDelim, colDelim string, specs []ColumnSpec) (*CSV, error) {
	if rowDelim == "" || colDelim == "" {
		return nil, fmt.Errorf("CSV delimiters must not be empty")
	}
	cols, err := Columns(specs)
	if err != nil {
		return nil, err
	}
	return &CSV{cols: cols, row: []byte(unescapeDelim(rowDelim)), col: []byte(unescapeDelim(colDelim)), co: newCoercer(cols)}, nil
}

// unescapeDelim accepts "\n", "\t" and "\r" written as two characters, as
// consoles and CLIs often send them.
func unescapeDelim(s string) string {
	switch s {
	case `\n`:
		return "\n"
	case `\t`:
		return "\t"
	case `\r\n`:
		return "\r\n"
	case `\r`:
		return "\r"
	}
	return s
}

// Columns implements Decoder.
func (d *CSV) Columns() []exec.Column { return d.cols }

// Decode implements Decoder.
func (d *CSV) Decode(rec []byte, b *exec.Batch) (int, error) {
	start := b.Len
	rows := 0
	for len(rec) > 0 {
		var line []byte
		if i := bytes.Index(rec, d.row); i >= 0 {
			line, rec = rec[:i], rec[i+len(d.row):]
		} else {
			line, rec = rec, nil
		}
		if len(line) == 0 {
			continue
		}
		if err := d.decodeRow(line, b); err != nil {
			Truncate(b, start)
			return 0, err
		}
		rows++
	}
	if rows == 0 {
		return 0, fmt.Errorf("%w: empty record", errSyntax)
	}
	return rows, nil
}

func (d *CSV) decodeRow(line []byte, b *exec.Batch) error {
	d.fields = d.fields[:0]
	d.quoted = d.quoted[:0]
	d.buf = d.buf[:0]
	for len(d.fields) < len(d.cols) {
		if len(line) > 0 && line[0] == '"' {
			// quoted field: "" is a quote
			s := len(d.buf)
			j := 1
			closed := false
			for j < len(line) {
				if line[j] == '"' {
					if j+1 < len(line) && line[j+1] == '"' {
						d.buf = append(d.buf, '"')
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				d.buf = append(d.buf, line[j])
				j++
			}
			if !closed {
				return fmt.Errorf("%w: unterminated quoted field", errSyntax)
			}
			d.fields = append(d.fields, d.buf[s:len(d.buf):len(d.buf)])
			d.quoted = append(d.quoted, true)
			line = line[j:]
			if len(line) == 0 {
				break
			}
			if !bytes.HasPrefix(line, d.col) {
				return fmt.Errorf("%w: text after a quoted field", errSyntax)
			}
			line = line[len(d.col):]
			if len(line) == 0 {
				d.fields = append(d.fields, nil)
				d.quoted = append(d.quoted, false)
				break
			}
			continue
		}
		i := bytes.Index(line, d.col)
		if i < 0 {
			d.fields = append(d.fields, line)
			d.quoted = append(d.quoted, false)
			break
		}
		d.fields = append(d.fields, line[:i])
		d.quoted = append(d.quoted, false)
		line = line[i+len(d.col):]
		if len(line) == 0 {
			d.fields = append(d.fields, nil)
			d.quoted = append(d.quoted, false)
			break
		}
	}
	for c := range d.cols {
		k := kMissing
		var f []byte
		if c < len(d.fields) {
			f = d.fields[c]
			k = kString
			if len(f) == 0 && !d.quoted[c] && d.cols[c].Type != exec.TypeVarchar && d.cols[c].Type != exec.TypeChar {
				k = kNull
			}
		}
		if err := d.co.put(b, c, k, f, false); err != nil {
			return err
		}
	}
	b.Len++
	return nil
}
