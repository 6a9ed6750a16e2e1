package iceberg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	icebergio "github.com/apache/iceberg-go/io"
)

// Objects is the S3 access the table files need (s3dest.Uploader provides
// Put and Get; Delete is optional).
type Objects interface {
	Put(ctx context.Context, bucket, key string, body []byte, contentEncoding string) error
	Get(ctx context.Context, bucket, key string) ([]byte, error)
}

// Deleter is implemented by Objects that can remove an object.
type Deleter interface {
	Delete(ctx context.Context, bucket, key string) error
}

// FS is iceberg-go's file IO over Objects, for s3:// and s3a:// locations.
// Reads fetch the whole object (data and metadata files of a Firehose
// buffer are small); writes are buffered and uploaded on Close. The context
// bounds every call: iceberg-go's IO interface takes none.
type FS struct {
	ctx context.Context
	o   Objects
}

// NewFS returns an FS whose calls run under ctx.
func NewFS(ctx context.Context, o Objects) *FS { return &FS{ctx: ctx, o: o} }

var (
	_ icebergio.WriteFileIO = (*FS)(nil)
	_ icebergio.ReadFileIO  = (*FS)(nil)
)

// split turns s3://bucket/key into its parts.
func split(name string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(name, "s3://")
	if !ok {
		rest, ok = strings.CutPrefix(name, "s3a://")
	}
	if !ok {
		return "", "", &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: only s3:// and s3a:// locations are served", fs.ErrInvalid)}
	}
	bucket, key, ok = strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return bucket, key, nil
}

// ReadFile implements icebergio.ReadFileIO.
func (f *FS) ReadFile(name string) ([]byte, error) {
	bucket, key, err := split(name)
	if err != nil {
		return nil, err
	}
	b, err := f.o.Get(f.ctx, bucket, key)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return b, nil
}

// Open implements icebergio.IO.
func (f *FS) Open(name string) (icebergio.File, error) {
	b, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &file{Reader: bytes.NewReader(b), name: name, size: int64(len(b))}, nil
}

// Remove implements icebergio.IO (a no-op when Objects cannot delete: the
// orphan is harmless, as after any failed Iceberg commit).
func (f *FS) Remove(name string) error {
	bucket, key, err := split(name)
	if err != nil {
		return err
	}
	if d, ok := f.o.(Deleter); ok {
		if err := d.Delete(f.ctx, bucket, key); err != nil {
			return &fs.PathError{Op: "remove", Path: name, Err: err}
		}
	}
	return nil
}

// Create implements icebergio.WriteFileIO.
func (f *FS) Create(name string) (icebergio.FileWriter, error) {
	bucket, key, err := split(name)
	if err != nil {
		return nil, err
	}
	return &writer{fs: f, bucket: bucket, key: key}, nil
}

// WriteFile implements icebergio.WriteFileIO.
func (f *FS) WriteFile(name string, p []byte) error {
	bucket, key, err := split(name)
	if err != nil {
		return err
	}
	if err := f.o.Put(f.ctx, bucket, key, p, ""); err != nil {
		return &fs.PathError{Op: "write", Path: name, Err: err}
	}
	return nil
}

type file struct {
	*bytes.Reader
	name string
	size int64
}

func (f *file) Close() error               { return nil }
func (f *file) Stat() (fs.FileInfo, error) { return fileInfo{f.name, f.size}, nil }

type fileInfo struct {
	name string
	size int64
}

func (i fileInfo) Name() string {
	if j := strings.LastIndexByte(i.name, '/'); j >= 0 {
		return i.name[j+1:]
	}
	return i.name
}
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return 0o444 }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return false }
func (i fileInfo) Sys() any           { return nil }

type writer struct {
	fs          *FS
	bucket, key string
	buf         bytes.Buffer
	closed      bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("write after close")
	}
	return w.buf.Write(p)
}

func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.closed {
		return 0, errors.New("write after close")
	}
	return w.buf.ReadFrom(r)
}

// Close uploads the file.
func (w *writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.fs.o.Put(w.fs.ctx, w.bucket, w.key, w.buf.Bytes(), ""); err != nil {
		return &fs.PathError{Op: "write", Path: "s3://" + w.bucket + "/" + w.key, Err: err}
	}
	return nil
}
