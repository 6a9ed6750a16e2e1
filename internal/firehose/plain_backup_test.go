package firehose_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/storage"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

// TestPlainBackupHints: in the plain (non-partitioned) loop the source
// record backup is written with the S3BackupConfiguration's own
// BufferingHints, CompressionFormat and Prefix, not the destination's: a
// 1 MiB backup size hint cuts backup objects while the primary (128 MiB,
// 60 s) still waits; the primary's interval then delivers without the
// backup's tail, which waits for the backup's own 900 s; every record is
// backed up exactly once, byte for byte.
func TestPlainBackupHints(t *testing.T) {
	v := startVersity(t, "primary", "backup")
	clock := &fakeClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	srv := startServer(t, memstore.New(clock.Now), v.URL, func(o *firehoseOptions) { o.Now = clock.Now })
	c := srv.Firehose()
	s3Stream(t, c, "pb", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::primary"), Prefix: aws.String("main/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(60)},
		S3BackupMode:   fhtypes.S3BackupModeEnabled,
		S3BackupConfiguration: &fhtypes.S3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), BucketARN: aws.String("arn:aws:s3:::backup"),
			Prefix: aws.String("raw/"), CompressionFormat: fhtypes.CompressionFormatGzip,
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(900)},
		},
	})
	const recSize = 100_000
	src := recs("r", 30, recSize)
	for i := 0; i < len(src); i += 10 {
		putBatch(t, c, "pb", src[i:i+10])
	}
	bodies := func() [][]byte {
		var out [][]byte
		for _, o := range v.listObjects(t, "backup", "raw/") {
			if !strings.HasSuffix(o.Key, ".gz") {
				t.Fatalf("backup key %s: want the backup's GZIP extension", o.Key)
			}
			b, err := s3dest.Decompress(s3dest.GZIP, o.Body)
			if err != nil {
				t.Fatalf("backup %s: %v", o.Key, err)
			}
			out = append(out, b)
		}
		return out
	}
	// Phase 1: the backup's size hint cuts two objects; its tail (under
	// 1 MiB) and the whole primary wait.
	waitFor(t, 30*time.Second, "two backup objects cut by the backup's 1 MiB hint", func() bool { return len(v.listObjects(t, "backup", "raw/")) >= 2 })
	got := bodies()
	if len(got) != 2 {
		t.Fatalf("%d backup objects before any interval passed, want 2", len(got))
	}
	for i, b := range got {
		// Cut once the 1 MiB is reached, or when the next record does
		// not fit (a buffer may pass the hint by its last record).
		if len(b) > 1<<20+recSize || len(b) <= 1<<20-recSize {
			t.Fatalf("backup object %d holds %d bytes: want the backup's 1 MiB hint, give or take a record", i, len(b))
		}
	}
	if n := len(v.listObjects(t, "primary", "")); n != 0 {
		t.Fatalf("%d primary objects before the primary's 60 s", n)
	}
	// Phase 2: past the primary's 60 s (a record wakes the loop: the clock
	// is injected) the primary delivers everything in one object; the
	// backup's tail waits for its own 900 s.
	clock.Add(61 * time.Second)
	tick1 := []byte("tick-1|")
	putBatch(t, c, "pb", [][]byte{tick1})
	waitFor(t, 30*time.Second, "the primary object after 60 s", func() bool { return len(v.listObjects(t, "primary", "main/")) == 1 })
	prim := v.listObjects(t, "primary", "main/")[0]
	if want := bytes.Join(append(append([][]byte{}, src...), tick1), nil); !bytes.Equal(prim.Body, want) {
		t.Fatalf("primary object %s: %d bytes, want the %d put (uncompressed: the destination's format)", prim.Key, len(prim.Body), len(want))
	}
	if n := len(bodies()); n != 2 {
		t.Fatalf("%d backup objects after the primary's interval, want still 2 (the backup has its own 900 s)", n)
	}
	// Phase 3: past the backup's 900 s its tail goes out.
	clock.Add(900 * time.Second)
	tick2 := []byte("tick-2|")
	putBatch(t, c, "pb", [][]byte{tick2})
	waitFor(t, 30*time.Second, "the backup's tail after 900 s", func() bool { return len(v.listObjects(t, "backup", "raw/")) == 3 })
	srv.flush("pb")
	all := append(append([][]byte{}, src...), tick1, tick2)
	for i, n := range backupRuns(t, bodies(), all) {
		if n != 1 {
			t.Fatalf("record %d backed up %d times", i, n)
		}
	}
	if n := len(v.listObjects(t, "primary", "main/")); n != 2 {
		t.Fatalf("%d primary objects after the flush, want 2", n)
	}
}

// shardRecorder remembers the shard logs created through it.
type shardRecorder struct {
	storage.Backend
	mu  sync.Mutex
	ids []storage.ShardID
}

func (r *shardRecorder) CreateShard(ctx context.Context, id storage.ShardID, createdMs int64) error {
	r.mu.Lock()
	r.ids = append(r.ids, id)
	r.mu.Unlock()
	return r.Backend.CreateShard(ctx, id, createdMs)
}

// TestLakeTrimAfterDelivery: once a pass of the partitioned loop has
// delivered every partition, the buffer log is trimmed below the last
// record read (without waiting for more records), with and without the
// source-record backup.
func TestLakeTrimAfterDelivery(t *testing.T) {
	for _, backup := range []bool{false, true} {
		t.Run(fmt.Sprintf("backup=%v", backup), func(t *testing.T) {
			v := startVersity(t, "lake", "bkp")
			clock := &fakeClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
			be := &shardRecorder{Backend: memstore.New(clock.Now)}
			srv := startServer(t, be, v.URL, func(o *firehoseOptions) { o.Now = clock.Now })
			c := srv.Firehose()
			dest := fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN: aws.String("arn:aws:s3:::lake"), Prefix: aws.String("k=!{partitionKeyFromQuery:k}/"),
				ErrorOutputPrefix:                aws.String("errors/!{firehose:error-output-type}/"),
				BufferingHints:                   &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(60)},
				DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
				ProcessingConfiguration:          lakeProcessors(`{k: .k}`),
			}
			if backup {
				dest.S3BackupMode = fhtypes.S3BackupModeEnabled
				dest.S3BackupConfiguration = &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
					BucketARN: aws.String("arn:aws:s3:::bkp"), BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(60)}}
			}
			s3Stream(t, c, "lt", dest)
			be.mu.Lock()
			if len(be.ids) != 1 {
				t.Fatalf("%d shard logs created, want 1", len(be.ids))
			}
			id := be.ids[0]
			be.mu.Unlock()
			putBatch(t, c, "lt", [][]byte{[]byte(`{"k":"a"}`), []byte(`{"k":"b"}`), []byte(`{"k":"a"}`)})
			clock.Add(time.Second)
			putBatch(t, c, "lt", [][]byte{[]byte(`{"k":"c"}`), []byte(`{"k":"a"}`)})
			srv.flush("lt")
			b, err := be.Bounds(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			// The second batch arrived in the last millisecond read: it
			// stays (a record appended in that millisecond may not be read
			// yet); everything before it is gone.
			if b.Trim != 3 || b.Next != 5 {
				t.Fatalf("log bounds [%d, %d) after a delivered pass, want [3, 5)", b.Trim, b.Next)
			}
			if n := len(v.listObjects(t, "lake", "k=")); n != 3 {
				t.Fatalf("%d partition objects, want 3", n)
			}
		})
	}
}

// TestPlainBackupPrimaryDown: in the plain loop a primary that keeps
// failing (its bucket does not exist) does not hold the backup back: every
// record is still backed up, once, while the primary retries.
func TestPlainBackupPrimaryDown(t *testing.T) {
	v := startVersity(t, "bkup")
	srv := startServer(t, nil, v.URL)
	c := srv.Firehose()
	s3Stream(t, c, "pd", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::missing-bucket"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
		S3BackupMode:   fhtypes.S3BackupModeEnabled,
		S3BackupConfiguration: &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
			BucketARN: aws.String("arn:aws:s3:::bkup"), BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)}},
	})
	src := recs("d", 50, 100)
	putBatch(t, c, "pd", src[:25])
	putBatch(t, c, "pd", src[25:])
	var bodies [][]byte
	waitFor(t, 30*time.Second, "every record in the backup", func() bool {
		bodies = bodies[:0]
		n := 0
		for _, o := range v.listObjects(t, "bkup", "") {
			bodies = append(bodies, o.Body)
			n += len(o.Body)
		}
		return n >= 50*100
	})
	for i, n := range backupRuns(t, bodies, src) {
		if n != 1 {
			t.Fatalf("record %d backed up %d times", i, n)
		}
	}
	if f := metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_failures_total", "pd"); f == "0" || f == "" {
		t.Fatalf("primary failures %q: want the missing bucket to fail", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.fh.Flush(ctx, "000000000000", "us-east-1", "pd"); err == nil {
		t.Fatal("flush succeeded with the primary bucket missing")
	}
}
