package firehose_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

const keyTail = `-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

// TestDeliveryToVersity delivers through every compression format and prefix
// style to a real S3 server and reads back each object.
func TestDeliveryToVersity(t *testing.T) {
	v := startVersity(t, "bucket")
	srv := startServer(t, nil, v.URL)
	c := srv.Firehose()
	cases := []struct {
		name, compression, prefix, errPrefix, ext, encoding string
		delimiter                                           bool
		keyRE                                               string
	}{
		{name: "plain", prefix: "plain/", keyRE: `^plain/\d{4}/\d{2}/\d{2}/\d{2}/plain` + keyTail + `$`},
		{name: "nodefaultslash", prefix: "legacy", keyRE: `^legacy\d{4}/\d{2}/\d{2}/\d{2}/nodefaultslash` + keyTail + `$`},
		{name: "gzip", compression: "GZIP", prefix: "gz/", ext: ".gz", encoding: "gzip", keyRE: `^gz/\d{4}/\d{2}/\d{2}/\d{2}/gzip` + keyTail + `\.gz$`},
		{name: "zip", compression: "ZIP", prefix: "zip/", ext: ".zip", encoding: "zip", keyRE: `^zip/.*\.zip$`},
		{name: "snappy", compression: "Snappy", prefix: "sn/", encoding: "snappy-java", keyRE: `^sn/.*\.snappy$`},
		{name: "hadoop", compression: "HADOOP_SNAPPY", prefix: "hs/", encoding: "hadoop-snappy", keyRE: `^hs/.*\.snappy$`},
		{name: "expr", prefix: "ex/year=!{timestamp:yyyy}/month=!{timestamp:MM}/!{firehose:random-string}/",
			errPrefix: "err/!{firehose:error-output-type}/", delimiter: true,
			keyRE: `^ex/year=\d{4}/month=\d{2}/[a-z0-9]{11}/expr` + keyTail + `$`},
		{name: "quoted", prefix: "!{timestamp:'dt='yyyy-MM-dd}/", errPrefix: "e/!{firehose:error-output-type}", keyRE: `^dt=\d{4}-\d{2}-\d{2}/quoted` + keyTail + `$`},
		{name: "fileext", compression: "GZIP", prefix: "fe/", keyRE: `^fe/.*\.json\.gz$`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dest := fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN:      aws.String("arn:aws:s3:::bucket"),
				Prefix:         aws.String(tc.prefix),
				BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(900)},
			}
			if tc.compression != "" {
				dest.CompressionFormat = fhtypes.CompressionFormat(tc.compression)
			}
			if tc.errPrefix != "" {
				dest.ErrorOutputPrefix = aws.String(tc.errPrefix)
			}
			if tc.name == "fileext" {
				dest.FileExtension = aws.String(".json.gz")
			}
			if tc.delimiter {
				dest.ProcessingConfiguration = &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
					Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}}
			}
			s3Stream(t, c, tc.name, dest)
			want := recs(tc.name, 1200, 300) // three batches
			start := time.Now().UTC()
			for i := 0; i < len(want); i += 500 {
				putBatch(t, c, tc.name, want[i:min(i+500, len(want))])
			}
			srv.flush(tc.name)
			objs := v.listObjects(t, "bucket", strings.SplitN(tc.prefix, "!", 2)[0])
			if tc.name == "quoted" {
				objs = v.listObjects(t, "bucket", "dt=")
			}
			if len(objs) != 1 {
				t.Fatalf("%d objects, want 1: %v", len(objs), objs)
			}
			o := objs[0]
			if !regexp.MustCompile(tc.keyRE).MatchString(o.Key) {
				t.Fatalf("key %q does not match %s", o.Key, tc.keyRE)
			}
			if m := regexp.MustCompile(keyTail).FindStringSubmatch(o.Key); m != nil {
				ts, err := time.Parse("2006-01-02-15-04-05", strings.Join(m[1:7], "-"))
				if err != nil || ts.Before(start.Truncate(time.Second)) || ts.After(time.Now().Add(time.Second)) {
					t.Errorf("key time %v not within the test (%v..now): %v", ts, start, err)
				}
			}
			if o.ContentEncoding != tc.encoding && !(tc.name == "fileext" && o.ContentEncoding == "gzip") {
				t.Errorf("Content-Encoding %q, want %q", o.ContentEncoding, tc.encoding)
			}
			comp := tc.compression
			if tc.name == "fileext" {
				comp = "GZIP"
			}
			body, err := s3dest.Decompress(comp, o.Body)
			if err != nil {
				t.Fatalf("decompress: %v", err)
			}
			sep := []byte{}
			if tc.delimiter {
				sep = []byte("\n")
			}
			wantBody := bytes.Join(want, sep)
			if tc.delimiter {
				wantBody = append(wantBody, '\n')
			}
			if !bytes.Equal(body, wantBody) {
				t.Fatalf("body differs: %d bytes, want %d", len(body), len(wantBody))
			}
		})
	}
}

// TestBufferingHints checks that delivery fires on whichever of size and
// interval comes first, without a flush.
func TestBufferingHints(t *testing.T) {
	v := startVersity(t, "hints")
	srv := startServer(t, nil, v.URL)
	c := srv.Firehose()

	t.Run("size", func(t *testing.T) {
		s3Stream(t, c, "size", fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::hints"), Prefix: aws.String("size/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(900)},
		})
		// 2.5 MiB in 1 KiB records: two full 1 MiB objects go out on size; the
		// rest waits for the 900 s interval.
		all := recs("size", 2560, 1024)
		for i := 0; i < len(all); i += 500 {
			putBatch(t, c, "size", all[i:min(i+500, len(all))])
		}
		var objs []object
		waitFor(t, 20*time.Second, "two size-triggered objects", func() bool {
			objs = v.listObjects(t, "hints", "size/")
			return len(objs) >= 2
		})
		if len(objs) != 2 {
			t.Fatalf("%d objects, want 2", len(objs))
		}
		total := 0
		for _, o := range objs {
			if len(o.Body) != 1<<20 {
				t.Errorf("object %s is %d bytes, want %d", o.Key, len(o.Body), 1<<20)
			}
			total += len(o.Body)
		}
		if !bytes.Equal(append(append([]byte{}, objs[0].Body...), objs[1].Body...), bytes.Join(all[:2048], nil)) &&
			!bytes.Equal(append(append([]byte{}, objs[1].Body...), objs[0].Body...), bytes.Join(all[:2048], nil)) {
			t.Error("size-triggered objects do not hold the first 2048 records in order")
		}
		// A flush delivers the rest, ignoring the 900 s interval.
		srv.flush("size")
		objs = v.listObjects(t, "hints", "size/")
		if len(objs) != 3 {
			t.Fatalf("%d objects after flush, want 3", len(objs))
		}
		n := 0
		for _, o := range objs {
			n += len(o.Body)
		}
		if n != len(all)*1024 {
			t.Fatalf("%d bytes delivered, want %d", n, len(all)*1024)
		}
	})
	t.Run("flush-beyond-size", func(t *testing.T) {
		// Flush right after the puts, with more than one size-full of data:
		// every acknowledged record is delivered when Flush returns.
		s3Stream(t, c, "fbs", fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::hints"), Prefix: aws.String("fbs/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(900)},
		})
		all := recs("fbs", 3000, 1024)
		for i := 0; i < len(all); i += 500 {
			putBatch(t, c, "fbs", all[i:min(i+500, len(all))])
		}
		srv.flush("fbs")
		n := 0
		for _, o := range v.listObjects(t, "hints", "fbs/") {
			n += len(o.Body)
		}
		if n != len(all)*1024 {
			t.Fatalf("%d bytes delivered when Flush returned, want %d", n, len(all)*1024)
		}
	})

	t.Run("interval", func(t *testing.T) {
		s3Stream(t, c, "interval", fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::hints"), Prefix: aws.String("interval/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(1)},
		})
		start := time.Now()
		putBatch(t, c, "interval", recs("iv", 10, 100))
		var objs []object
		waitFor(t, 10*time.Second, "interval-triggered object", func() bool {
			objs = v.listObjects(t, "hints", "interval/")
			return len(objs) == 1
		})
		if el := time.Since(start); el < time.Second {
			t.Fatalf("delivered after %v, before the 1 s interval", el)
		}
		if !bytes.Equal(objs[0].Body, bytes.Join(recs("iv", 10, 100), nil)) {
			t.Fatal("interval object body differs")
		}
	})

	t.Run("zero", func(t *testing.T) {
		s3Stream(t, c, "zero", fhtypes.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::hints"), Prefix: aws.String("zero/"),
			BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(0)},
		})
		putBatch(t, c, "zero", recs("z", 3, 10))
		waitFor(t, 5*time.Second, "interval-0 object", func() bool { return len(v.listObjects(t, "hints", "zero/")) == 1 })
	})
}

// TestMultipart delivers an object above the multipart threshold.
func TestMultipart(t *testing.T) {
	v := startVersity(t, "mpbucket")
	srv := startServer(t, nil, v.URL, func(o *firehoseOptions) { o.S3MultipartThreshold, o.S3PartSize = 6<<20, 5<<20 })
	c := srv.Firehose()
	s3Stream(t, c, "mp", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::mpbucket"), Prefix: aws.String("mp/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(16), IntervalInSeconds: aws.Int32(900)},
	})
	all := recs("mp", 12*1024, 1024) // 12 MiB: three parts
	for i := 0; i < len(all); i += 500 {
		putBatch(t, c, "mp", all[i:min(i+500, len(all))])
	}
	srv.flush("mp")
	objs := v.listObjects(t, "mpbucket", "mp/")
	if len(objs) != 1 || !bytes.Equal(objs[0].Body, bytes.Join(all, nil)) {
		t.Fatalf("%d objects; want one holding all 12 MiB", len(objs))
	}
	head, err := v.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("mpbucket"), Key: aws.String(objs[0].Key)})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(head.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-3") {
		t.Fatalf("ETag %s: want a 3-part multipart upload", etag)
	}
	describe := func() string {
		out, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("mp")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.DeliveryStreamDescription.VersionId)
	}
	if describe() != "1" {
		t.Fatal("version changed without update")
	}
}
