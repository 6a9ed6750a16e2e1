package firehose_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// denyProxy forwards to S3 but answers AccessDenied for object PUTs under
// one key prefix, like a bucket policy that denies a prefix.
func denyProxy(t testing.TB, target, denyPath string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, denyPath) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`))
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestErrorOutputAfterRetryDuration: records that cannot be written to their
// prefix for RetryOptions.DurationInSeconds go to the ErrorOutputPrefix as
// error documents; a stream without RetryOptions keeps retrying instead.
func TestErrorOutputAfterRetryDuration(t *testing.T) {
	v := startVersity(t, "errout")
	srv := startServer(t, nil, denyProxy(t, v.URL, "/errout/denied/"))
	c := srv.Firehose()
	s3Stream(t, c, "eo", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::errout"), Prefix: aws.String("denied/!{timestamp:yyyy}/"),
		ErrorOutputPrefix: aws.String("errors/!{firehose:error-output-type}/!{timestamp:yyyy}/"),
		BufferingHints:    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
		DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{
			RetryOptions: &fhtypes.RetryOptions{DurationInSeconds: aws.Int32(1)}},
	})
	s3Stream(t, c, "forever", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::errout"), Prefix: aws.String("denied/forever/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})
	want := recs("eo", 5, 40)
	start := time.Now()
	putBatch(t, c, "eo", want)
	putBatch(t, c, "forever", want)

	var objs []object
	waitFor(t, 15*time.Second, "the error output object", func() bool {
		objs = v.listObjects(t, "errout", "errors/")
		return len(objs) > 0
	})
	if time.Since(start) < time.Second {
		t.Fatalf("error output after %v, before the 1 s retry duration", time.Since(start))
	}
	year := time.Now().UTC().Format("2006")
	if len(objs) != 1 || !strings.HasPrefix(objs[0].Key, "errors/s3-delivery-failed/"+year+"/eo-1-") {
		t.Fatalf("error objects %v", objs)
	}
	lines := bytes.Split(bytes.TrimSuffix(objs[0].Body, []byte("\n")), []byte("\n"))
	if len(lines) != len(want) {
		t.Fatalf("%d error records, want %d", len(lines), len(want))
	}
	for i, l := range lines {
		var rec struct {
			AttemptsMade           int
			ArrivalTimestamp       int64
			ErrorCode              string
			ErrorMessage           string
			AttemptEndingTimestamp int64
			RawData                []byte
		}
		if err := json.Unmarshal(l, &rec); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if !bytes.Equal(rec.RawData, want[i]) || rec.ErrorCode != "S3.AccessDenied" || rec.AttemptsMade < 1 ||
			rec.ArrivalTimestamp == 0 || rec.AttemptEndingTimestamp < rec.ArrivalTimestamp || rec.ErrorMessage == "" {
			t.Fatalf("line %d: %+v", i, rec)
		}
	}
	// The object is listable a moment before the uploader hears back and
	// counts it.
	waitFor(t, 5*time.Second, "5 error output records counted", func() bool {
		return metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_error_output_records_total", "eo") == "5"
	})
	// Without RetryOptions the other stream still holds its records.
	if got := metricValue(t, srv.fh, "eddy_firehose_delivery_to_s3_error_output_records_total", "forever"); got != "0" {
		t.Fatalf("forever stream error output %s", got)
	}
	if objs := v.listObjects(t, "errout", "denied/"); len(objs) != 0 {
		t.Fatalf("objects under the denied prefix: %v", objs)
	}
}
