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

// Convert writes the records that fit the schema as one Parquet file and
// reports the others. data is nil when no record converted. Row groups
// end once the JSON bytes of their rows reach BlockSize, so memory stays
// within about one block of column buffers plus the output file.
func (c *Converter) Convert(recs [][]byte) (data []byte, rows int, fails []Failure, err error) {
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
	groupBytes := 0
	batch := make([]parquet.Row, 0, 256)
	flushBatch := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := w.WriteRows(batch); err != nil {
			return fmt.Errorf("write parquet rows: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	for i, r := range recs {
		row, rerr := c.schema.Row(&c.des, r)
		if rerr != nil {
			var re *RecordError
			if !errors.As(rerr, &re) {
				re = &RecordError{Code: CodeMalformedData, Message: rerr.Error()}
			}
			fails = append(fails, Failure{Index: i, Err: re})
			continue
		}
		batch = append(batch, row)
		rows++
		groupBytes += len(r)
		if len(batch) == cap(batch) {
			if err := flushBatch(); err != nil {
				return nil, 0, nil, err
			}
		}
		if groupBytes >= c.opts.BlockSize {
			if err := flushBatch(); err != nil {
				return nil, 0, nil, err
			}
			if err := w.Flush(); err != nil {
				return nil, 0, nil, fmt.Errorf("flush row group: %w", err)
			}
			groupBytes = 0
		}
	}
	if err := flushBatch(); err != nil {
		return nil, 0, nil, err
	}
	if err := w.Close(); err != nil {
		return nil, 0, nil, fmt.Errorf("close parquet writer: %w", err)
	}
	if rows == 0 {
		return nil, 0, fails, nil
	}
	return out.Bytes(), rows, fails, nil
}
