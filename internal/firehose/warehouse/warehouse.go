// Package warehouse is Firehose's Redshift destination for any
// PostgreSQL-protocol warehouse: each batch (its intermediate S3 object, read
// back through Batch.Fetch) is loaded with one `COPY <DataTableName> (<DataTableColumns>)
// FROM STDIN`, translated from the stream's Redshift CopyOptions
// (ParseCopyOptions), through github.com/jackc/pgx/v5.
//
// A COPY is one statement, so a batch loads completely or not at all; a
// failed batch is retried whole by the delivery loop until RetryOptions runs
// out, then its manifest goes under errors/.
package warehouse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
)

// Error code of the failed-batch log line (Redshift's load errors).
const CodeLoadFailed = "Redshift.LoadFailed"

// Config is one warehouse destination.
type Config struct {
	DSN     string // postgres://user:password@host:port/db
	Table   string
	Columns []string // empty: the table's columns, in order
	Options CopyOptions
}

var jdbcRE = regexp.MustCompile(`^jdbc:(redshift|postgresql)://([^/?]+)/([^?]+)(\?.*)?$`)

// DSN turns a ClusterJDBCURL (jdbc:redshift://host:port/db or
// jdbc:postgresql://…) with Username and Password into a pgx DSN.
func DSN(jdbcURL, user, password string) (string, error) {
	m := jdbcRE.FindStringSubmatch(jdbcURL)
	if m == nil {
		return "", fmt.Errorf("ClusterJDBCURL %s is not jdbc:redshift://host:port/database or jdbc:postgresql://host:port/database", jdbcURL)
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: m[2], Path: "/" + m[3]}
	q := url.Values{}
	q.Set("sslmode", "prefer")
	if m[4] != "" {
		if v, err := url.ParseQuery(m[4][1:]); err == nil && v.Get("sslmode") != "" {
			q.Set("sslmode", v.Get("sslmode"))
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Dest loads batches into one table.
type Dest struct {
	cfg  Config
	mu   sync.Mutex
	conn *pgx.Conn
	cols []string // resolved column list
}

// New builds a destination; it connects on first use.
func New(cfg Config) *Dest { return &Dest{cfg: cfg} }

// Close implements fhdest.Destination.
func (d *Dest) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		err := d.conn.Close(context.Background())
		d.conn = nil
		return err
	}
	return nil
}

func quoteIdent(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = pgx.Identifier{strings.Trim(p, `"`)}.Sanitize()
	}
	return strings.Join(parts, ".")
}

func (d *Dest) connect(ctx context.Context) (*pgx.Conn, error) {
	if d.conn != nil && !d.conn.IsClosed() {
		return d.conn, nil
	}
	c, err := pgx.Connect(ctx, d.cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	d.conn = c
	return c, nil
}

// columns resolves the column list (DataTableColumns, else the table's).
func (d *Dest) columns(ctx context.Context, c *pgx.Conn) ([]string, error) {
	if len(d.cfg.Columns) > 0 {
		return d.cfg.Columns, nil
	}
	if d.cols != nil {
		return d.cols, nil
	}
	rows, err := c.Query(ctx, `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, quoteIdent(d.cfg.Table))
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", d.cfg.Table, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", d.cfg.Table, err)
	}
	d.cols = cols
	return cols, nil
}

// Statement is the PostgreSQL COPY Eddy runs for cols.
func (d *Dest) Statement(cols []string) string {
	o := d.cfg.Options
	var b strings.Builder
	b.WriteString("COPY ")
	b.WriteString(quoteIdent(d.cfg.Table))
	if len(cols) > 0 {
		q := make([]string, len(cols))
		for i, c := range cols {
			q[i] = quoteIdent(c)
		}
		b.WriteString(" (" + strings.Join(q, ", ") + ")")
	}
	b.WriteString(" FROM STDIN WITH (FORMAT ")
	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch o.Format {
	case "csv", "json":
		b.WriteString("csv")
		if o.Delimiter != "" {
			b.WriteString(", DELIMITER " + lit(o.Delimiter))
		}
		if o.Quote != "" {
			b.WriteString(", QUOTE " + lit(o.Quote))
		}
	default:
		delim := o.Delimiter
		if delim == "" {
			delim = "|" // Redshift's default delimiter
		}
		b.WriteString("text, DELIMITER " + lit(delim))
	}
	if o.HasNull && o.Format != "json" {
		b.WriteString(", NULL " + lit(o.Null))
	}
	b.WriteString(")")
	return b.String()
}

// Input is the COPY input for data (the concatenated records of a batch).
func (d *Dest) Input(data []byte, cols []string) ([]byte, error) {
	o := d.cfg.Options
	if o.Format == "json" {
		return jsonToCSV(data, cols, o.JSONIgnore)
	}
	if o.IgnoreHeader > 0 {
		for i := 0; i < o.IgnoreHeader && len(data) > 0; i++ {
			if j := bytes.IndexByte(data, '\n'); j >= 0 {
				data = data[j+1:]
			} else {
				data = nil
			}
		}
	}
	return data, nil
}

// jsonToCSV maps a sequence of JSON objects to CSV rows of cols, as
// Redshift's JSON 'auto' matches object keys to column names (exactly, or
// case-insensitively with 'auto ignorecase'). Missing keys load NULL;
// nested objects and arrays load as their JSON text.
func jsonToCSV(data []byte, cols []string, ignoreCase bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	row := make([]string, len(cols))
	for n := 1; ; n++ {
		var obj map[string]json.RawMessage
		if err := dec.Decode(&obj); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("JSON record %d: %w", n, err)
		}
		if ignoreCase {
			low := make(map[string]json.RawMessage, len(obj))
			for k, v := range obj {
				low[strings.ToLower(k)] = v
			}
			obj = low
		}
		nulls := make([]bool, len(cols))
		for i, c := range cols {
			key := c
			if ignoreCase {
				key = strings.ToLower(c)
			}
			v, ok := obj[key]
			row[i] = ""
			if !ok || string(v) == "null" {
				nulls[i] = true
				continue
			}
			if len(v) > 0 && v[0] == '"' {
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return nil, fmt.Errorf("JSON record %d: %w", n, err)
				}
				row[i] = s
			} else {
				row[i] = string(v)
			}
		}
		if err := writeRow(&out, w, row, nulls); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return out.Bytes(), w.Error()
}

// writeRow writes one CSV row where a NULL is an unquoted empty field and
// every other value is quoted (so "" stays an empty string).
func writeRow(out *bytes.Buffer, _ *csv.Writer, row []string, nulls []bool) error {
	bw := bufio.NewWriter(out)
	for i, v := range row {
		if i > 0 {
			bw.WriteByte(',')
		}
		if nulls[i] {
			continue
		}
		bw.WriteByte('"')
		bw.WriteString(strings.ReplaceAll(v, `"`, `""`))
		bw.WriteByte('"')
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// Deliver implements fhdest.Destination: one COPY of the whole batch.
func (d *Dest) Deliver(ctx context.Context, b *fhdest.Batch) []fhdest.Failure {
	d.mu.Lock()
	defer d.mu.Unlock()
	fail := func(err error) []fhdest.Failure {
		if d.conn != nil && (d.conn.IsClosed() || errors.Is(err, context.DeadlineExceeded)) {
			_ = d.conn.Close(context.Background())
			d.conn = nil
		}
		return fhdest.AllFailed(b, CodeLoadFailed, err.Error(), false)
	}
	data, err := d.load(ctx, b)
	if err != nil {
		return fail(err)
	}
	c, err := d.connect(ctx)
	if err != nil {
		return fail(err)
	}
	cols, err := d.columns(ctx, c)
	if err != nil {
		return fail(err)
	}
	in, err := d.Input(data, cols)
	if err != nil {
		return fail(err)
	}
	if _, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(in), d.Statement(cols)); err != nil {
		return fail(fmt.Errorf("COPY into %s: %w", d.cfg.Table, err))
	}
	return nil
}

// load is the COPY source of b: its intermediate objects read back from S3
// (gunzipped with the GZIP option), as Redshift reads the manifest's
// objects; without objects, the records themselves.
func (d *Dest) load(ctx context.Context, b *fhdest.Batch) ([]byte, error) {
	if len(b.Objects) == 0 || b.Fetch == nil {
		var data []byte
		for _, r := range b.Records {
			data = append(data, r.Data...)
		}
		return data, nil
	}
	var data []byte
	for _, u := range b.Objects {
		obj, err := b.Fetch(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", u, err)
		}
		if d.cfg.Options.GZIP {
			zr, err := gzip.NewReader(bytes.NewReader(obj))
			if err != nil {
				return nil, fmt.Errorf("gunzip %s: %w", u, err)
			}
			if obj, err = io.ReadAll(zr); err != nil {
				return nil, fmt.Errorf("gunzip %s: %w", u, err)
			}
		}
		data = append(data, obj...)
	}
	return data, nil
}
