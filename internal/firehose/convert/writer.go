package convert

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
)

// ParquetOptions are the ParquetSerDe settings (with AWS's defaults
// already applied by the caller).
type ParquetOptions struct {
	Compression   string // UNCOMPRESSED | GZIP | SNAPPY
	BlockSize     int    // row-group target in bytes (≥ 64 MiB on AWS)
	PageSize      int    // page target in bytes (≥ 64 KiB)
	Dictionary    bool   // EnableDictionaryCompression
	WriterVersion string // V1 | V2 (data page version)
}

// Converter converts batches of JSON records to Parquet files.
type Converter struct {
	schema *Schema
	des    Deserializer
	opts   ParquetOptions
	codec  compress.Codec
	match  *matcher
}

// NewConverter checks the options and builds a converter for cols.
func NewConverter(cols []Column, des Deserializer, opts ParquetOptions) (*Converter, error) {
	if err := des.prepare(); err != nil {
		return nil, err
	}
	s, err := NewSchema(cols, opts.Dictionary)
	if err != nil {
		return nil, err
	}
	c := &Converter{schema: s, des: des, opts: opts}
	c.match = newMatcher(s, &c.des)
	switch opts.Compression {
	case "", "SNAPPY":
		c.codec = &snappy.Codec{}
	case "GZIP":
		c.codec = &gzip.Codec{}
	case "UNCOMPRESSED":
		c.codec = &uncompressed.Codec{}
	default:
		return nil, fmt.Errorf("unknown Parquet compression %q", opts.Compression)
	}
	if c.opts.BlockSize <= 0 {
		c.opts.BlockSize = 256 << 20
	}
	if c.opts.PageSize <= 0 {
		c.opts.PageSize = 1 << 20
	}
	return c, nil
}

// Schema is the converter's schema.
func (c *Converter) Schema() *Schema { return c.schema }

// Failure is one record that could not be converted.
type Failure struct {
	Index int // in the batch given to Convert
	Err   *RecordError
}

// Row converts one record; the error is a *RecordError. The row may refer
// to rec's bytes: rec must not change while the row is in use. Row is safe
// for concurrent use.
func (c *Converter) Row(rec []byte) (parquet.Row, error) { return c.match.row(rec) }

// Convert writes the records that fit the schema as one Parquet file and
// reports the others. data is nil when no record converted. Row groups
// end once the JSON bytes of their rows reach BlockSize, so memory stays
// within about one block of column buffers plus the output file.
func (c *Converter) Convert(recs [][]byte) (data []byte, rows int, fails []Failure, err error) {
	prepared := make([]parquet.Row, 0, len(recs))
	sizes := make([]int, 0, len(recs))
	for i, r := range recs {
		row, rerr := c.Row(r)
		if rerr != nil {
			var re *RecordError
			if !errors.As(rerr, &re) {
				re = &RecordError{Code: CodeMalformedData, Message: rerr.Error()}
			}
			fails = append(fails, Failure{Index: i, Err: re})
			continue
		}
		prepared = append(prepared, row)
		sizes = append(sizes, len(r))
	}
	if len(prepared) == 0 {
		return nil, 0, fails, nil
	}
	data, err = c.Write(prepared, sizes)
	if err != nil {
		return nil, 0, nil, err
	}
	return data, len(prepared), fails, nil
}

// Write writes rows made by Row as one Parquet file; sizes are the JSON
// sizes of the rows' records (they decide where row groups end).
func (c *Converter) Write(rows []parquet.Row, sizes []int) ([]byte, error) {
	var out bytes.Buffer
	version := 1
	if c.opts.WriterVersion == "V2" {
		version = 2
	}
	w := parquet.NewWriter(&out, c.schema.pq,
		parquet.Compression(c.codec),
		parquet.PageBufferSize(c.opts.PageSize),
		parquet.DataPageVersion(version),
		parquet.CreatedBy("eddy", "firehose", ""),
	)
	groupBytes, start := 0, 0
	for i := range rows {
		groupBytes += sizes[i]
		if groupBytes >= c.opts.BlockSize || i == len(rows)-1 {
			if _, err := w.WriteRows(rows[start : i+1]); err != nil {
				return nil, fmt.Errorf("write parquet rows: %w", err)
			}
			start = i + 1
			if groupBytes >= c.opts.BlockSize && i < len(rows)-1 {
				if err := w.Flush(); err != nil {
					return nil, fmt.Errorf("flush row group: %w", err)
				}
				groupBytes = 0
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("close parquet writer: %w", err)
	}
	return out.Bytes(), nil
}
