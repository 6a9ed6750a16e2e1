package s3dest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/golang/snappy"
)

// Compression formats (the API's CompressionFormat values).
const (
	Uncompressed = "UNCOMPRESSED"
	GZIP         = "GZIP"
	ZIP          = "ZIP"
	Snappy       = "Snappy"
	HadoopSnappy = "HADOOP_SNAPPY"
)

// ValidCompression reports whether f is a CompressionFormat we produce.
func ValidCompression(f string) bool {
	switch f {
	case "", Uncompressed, GZIP, ZIP, Snappy, HadoopSnappy:
		return true
	}
	return false
}

// Extension is the file extension Firehose gives objects of format f.
// Real AWS writes ".snappy" for HADOOP_SNAPPY too (the docs say ".hsnappy").
func Extension(f string) string {
	switch f {
	case GZIP:
		return ".gz"
	case ZIP:
		return ".zip"
	case Snappy, HadoopSnappy:
		return ".snappy"
	}
	return ""
}

// ContentEncoding is the Content-Encoding set on objects of format f.
func ContentEncoding(f string) string {
	switch f {
	case GZIP:
		return "gzip"
	case ZIP:
		return "zip"
	case Snappy:
		return "snappy-java"
	case HadoopSnappy:
		return "hadoop-snappy"
	}
	return ""
}

// xerial snappy-java stream header: magic, version 1, compatible version 1.
var xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}

const (
	xerialBlock = 32 << 10  // snappy-java's default block size
	hadoopBlock = 256 << 10 // Hadoop's io.compression.codec.snappy.buffersize
)

// Compress encodes body in format f. entryName names the single ZIP entry.
func Compress(f string, body []byte, entryName string) ([]byte, error) {
	switch f {
	case "", Uncompressed:
		return body, nil
	case GZIP:
		var buf bytes.Buffer
		buf.Grow(len(body)/3 + 64)
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(body); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return buf.Bytes(), nil
	case ZIP:
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: entryName, Method: zip.Deflate})
		if err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
		if _, err := w.Write(body); err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
		return buf.Bytes(), nil
	case Snappy:
		out := append([]byte(nil), xerialHeader...)
		for off := 0; off < len(body); off += xerialBlock {
			enc := snappy.Encode(nil, body[off:min(off+xerialBlock, len(body))])
			out = binary.BigEndian.AppendUint32(out, uint32(len(enc)))
			out = append(out, enc...)
		}
		return out, nil
	case HadoopSnappy:
		var out []byte
		for off := 0; off < len(body); off += hadoopBlock {
			chunk := body[off:min(off+hadoopBlock, len(body))]
			enc := snappy.Encode(nil, chunk)
			out = binary.BigEndian.AppendUint32(out, uint32(len(chunk)))
			out = binary.BigEndian.AppendUint32(out, uint32(len(enc)))
			out = append(out, enc...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported compression format %q", f)
}

// Decompress reverses Compress. It reads untrusted bytes (tests use it on
// objects fetched from S3) and never panics.
func Decompress(f string, data []byte) ([]byte, error) {
	switch f {
	case "", Uncompressed:
		return data, nil
	case GZIP:
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return io.ReadAll(zr)
	case ZIP:
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
		if len(zr.File) != 1 {
			return nil, fmt.Errorf("zip: %d entries, want 1", len(zr.File))
		}
		rc, err := zr.File[0].Open()
		if err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, 1<<31))
	case Snappy:
		if !bytes.HasPrefix(data, xerialHeader[:8]) || len(data) < len(xerialHeader) {
			return nil, fmt.Errorf("snappy-java: bad header")
		}
		var out []byte
		for p := data[len(xerialHeader):]; len(p) > 0; {
			if len(p) < 4 {
				return nil, fmt.Errorf("snappy-java: truncated block length")
			}
			n := binary.BigEndian.Uint32(p)
			p = p[4:]
			if uint64(n) > uint64(len(p)) {
				return nil, fmt.Errorf("snappy-java: truncated block")
			}
			dec, err := snappy.Decode(nil, p[:n])
			if err != nil {
				return nil, fmt.Errorf("snappy-java: %w", err)
			}
			out = append(out, dec...)
			p = p[n:]
		}
		return out, nil
	case HadoopSnappy:
		var out []byte
		for p := data; len(p) > 0; {
			if len(p) < 8 {
				return nil, fmt.Errorf("hadoop-snappy: truncated header")
			}
			raw := binary.BigEndian.Uint32(p)
			n := binary.BigEndian.Uint32(p[4:])
			p = p[8:]
			if uint64(n) > uint64(len(p)) {
				return nil, fmt.Errorf("hadoop-snappy: truncated block")
			}
			dec, err := snappy.Decode(nil, p[:n])
			if err != nil {
				return nil, fmt.Errorf("hadoop-snappy: %w", err)
			}
			if uint32(len(dec)) != raw {
				return nil, fmt.Errorf("hadoop-snappy: block is %d bytes, header says %d", len(dec), raw)
			}
			out = append(out, dec...)
			p = p[n:]
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported compression format %q", f)
}
