package iceberg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"testing"

	iceberggo "github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/glue"
)

// memObjects is an in-memory bucket store (the firehose package's tests use
// versitygw; these unit tests only need Put and Get).
type memObjects struct {
	mu   sync.Mutex
	objs map[string][]byte
	down bool
}

func (m *memObjects) Put(_ context.Context, bucket, key string, body []byte, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errors.New("S3 is down")
	}
	m.objs[bucket+"/"+key] = append([]byte(nil), body...)
	return nil
}

func (m *memObjects) Get(_ context.Context, bucket, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, errors.New("S3 is down")
	}
	b, ok := m.objs[bucket+"/"+key]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return append([]byte(nil), b...), nil
}

func newTestCatalog(t *testing.T) (*Catalog, *memObjects, *glue.Service) {
	t.Helper()
	g, err := glue.New(glue.Options{DefaultAccount: "000000000000", DefaultRegion: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	mo := &memObjects{objs: map[string][]byte{}}
	cat := &Catalog{Glue: g, Account: "000000000000", Region: "us-east-1", FS: func(ctx context.Context) *FS { return NewFS(ctx, mo) }}
	sc := iceberggo.NewSchema(0,
		iceberggo.NestedField{ID: 1, Name: "id", Type: iceberggo.PrimitiveTypes.Int64, Required: true},
		iceberggo.NestedField{ID: 2, Name: "s", Type: iceberggo.PrimitiveTypes.String})
	meta, err := table.NewMetadata(sc, iceberggo.UnpartitionedSpec, table.UnsortedSortOrder, "s3://wh/db/t", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(meta)
	mloc := "s3://wh/db/t/metadata/00000-5a0e0e0e-0000-4000-8000-000000000000.metadata.json"
	if err := cat.FS(context.Background()).WriteFile(mloc, body); err != nil {
		t.Fatal(err)
	}
	call := func(op string, in any) {
		b, _ := json.Marshal(in)
		if _, err := g.Handle(&awsproto.Request{Ctx: context.Background(), Operation: op, Codec: awsproto.JSON, Body: b}); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	call("CreateDatabase", map[string]any{"DatabaseInput": map[string]any{"Name": "db"}})
	call("CreateTable", map[string]any{"DatabaseName": "db", "TableInput": map[string]any{"Name": "t",
		"Parameters": map[string]string{ParamTableType: TableTypeIceberg, ParamMetadataLocation: mloc}}})
	return cat, mo, g
}

func countRows(t *testing.T, cat *Catalog) int64 {
	t.Helper()
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{"db", "t"})
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	return at.NumRows()
}

// TestDeliverOnceAcrossRetries: a buffer delivered twice (the commit
// succeeded but the checkpoint did not happen) is appended once.
func TestDeliverOnceAcrossRetries(t *testing.T) {
	cat, mo, _ := newTestCatalog(t)
	d := &Destination{Catalog: cat, Tables: []TableConfig{{Database: "db", Table: "t"}}}
	b := &fhdest.Batch{RequestID: "req-1"}
	for i := 0; i < 10; i++ {
		b.Records = append(b.Records, fhdest.Record{Data: []byte(fmt.Sprintf(`{"id":%d,"s":"x"}`, i))})
	}
	b.Records = append(b.Records, fhdest.Record{Data: []byte(`{"s":"no id"}`)})
	for attempt := 0; attempt < 2; attempt++ {
		f := d.Deliver(context.Background(), b)
		if len(f) != 1 || f[0].Index != 10 || !f[0].Permanent || f[0].Code != CodeInvalidRecord {
			t.Fatalf("attempt %d: failures %+v", attempt, f)
		}
	}
	if n := countRows(t, cat); n != 10 {
		t.Fatalf("%d rows after a repeated delivery, want 10", n)
	}
	b.RequestID = "req-2"
	mo.down = true
	f := d.Deliver(context.Background(), b)
	if len(f) != len(b.Records) || f[0].Permanent || f[0].Code != CodeCommitFailed {
		t.Fatalf("S3 down: %+v", f)
	}
	mo.down = false
	if f := d.Deliver(context.Background(), b); len(f) != 1 {
		t.Fatalf("after S3 returned: %+v", f)
	}
	if n := countRows(t, cat); n != 20 {
		t.Fatalf("%d rows, want 20", n)
	}
}

// TestCommitConflict: a commit against a stale Glue version fails with
// glue.ErrVersionConflict, and a later write on fresh metadata succeeds.
func TestCommitConflict(t *testing.T) {
	cat, _, g := newTestCatalog(t)
	ctx := context.Background()
	gt, err := g.IcebergTable(ctx, "000000000000", "us-east-1", "", "db", "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.CommitIcebergTable(ctx, "000000000000", "us-east-1", "", "db", "t", gt.VersionID, gt.Parameters); err != nil {
		t.Fatal(err)
	}
	err = g.CommitIcebergTable(ctx, "000000000000", "us-east-1", "", "db", "t", gt.VersionID, gt.Parameters)
	if !errors.Is(err, glue.ErrVersionConflict) {
		t.Fatalf("stale version: %v", err)
	}
	if _, err := cat.Append(ctx, "db", "t", [][]byte{[]byte(`{"id":1}`)}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, cat); n != 1 {
		t.Fatalf("%d rows", n)
	}
}

// FuzzConvert: any record either converts or is reported; never a panic,
// and the batch holds exactly the rows that converted.
func FuzzConvert(f *testing.F) {
	for _, s := range []string{`{"id":1,"s":"a"}`, `{"id":"x"}`, `[1]`, `{"id":1,"id":2}`, `{"id":1e400}`, `{"s":null,"id":3}`, `{`} {
		f.Add([]byte(s))
	}
	sc := iceberggo.NewSchema(0,
		iceberggo.NestedField{ID: 1, Name: "id", Type: iceberggo.PrimitiveTypes.Int64, Required: true},
		iceberggo.NestedField{ID: 2, Name: "s", Type: iceberggo.PrimitiveTypes.String},
		iceberggo.NestedField{ID: 3, Name: "ts", Type: iceberggo.PrimitiveTypes.TimestampTz},
		iceberggo.NestedField{ID: 4, Name: "d", Type: iceberggo.DecimalTypeOf(10, 2)})
	asc, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, row []byte) {
		rows := [][]byte{[]byte(`{"id":0}`), row, []byte(`{"id":2}`)}
		rec, bad := convert(asc, sc, rows)
		if rec == nil {
			t.Fatal("good rows lost")
		}
		defer rec.Release()
		if int(rec.NumRows())+len(bad) != len(rows) {
			t.Fatalf("%d rows + %d failures for %d records", rec.NumRows(), len(bad), len(rows))
		}
		for _, b := range bad {
			if b.Index != 1 {
				t.Fatalf("a good row failed: %v", b.Err)
			}
		}
	})
}

// TestConcurrentWriters: two writers appending to one table at the same
// time lose no commit: Glue's version check turns a lost race into
// iceberg-go's ErrCommitFailed, and iceberg-go retries on fresh metadata.
func TestConcurrentWriters(t *testing.T) {
	cat, _, _ := newTestCatalog(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				if _, err := cat.Append(ctx, "db", "t", [][]byte{[]byte(fmt.Sprintf(`{"id":%d}`, w*100+i))}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := countRows(t, cat); n != 16 {
		t.Fatalf("%d rows after concurrent appends, want 16", n)
	}
}
