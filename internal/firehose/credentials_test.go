package firehose_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

// isolateAWSEnv points the SDK's default credential chain at nothing the
// machine has: no keys in the environment, shared files that do not exist,
// no instance metadata. A test then adds exactly the source it checks.
func isolateAWSEnv(t *testing.T) string {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_DEFAULT_PROFILE": "", "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	return dir
}

// syncBuffer is a log sink the delivery goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// deliverOnce creates a stream, puts records and flushes; it returns the
// flush's error (the delivery's).
func deliverOnce(t *testing.T, srv *server, name string) error {
	t.Helper()
	c := srv.Firehose()
	s3Stream(t, c, name, fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::creds"), Prefix: aws.String(name + "/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)},
	})
	putBatch(t, c, name, recs(name, 3, 10))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.fh.Flush(ctx, "000000000000", "us-east-1", name)
}

func describe(t *testing.T, srv *server, name string) *fhtypes.DeliveryStreamDescription {
	t.Helper()
	out, err := srv.Firehose().DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return out.DeliveryStreamDescription
}

// Without --s3-access-key, deliveries sign with the SDK's default chain:
// keys from the environment, or a profile in the shared credentials file.
func TestS3CredentialsFromChain(t *testing.T) {
	v := startVersity(t, "creds")
	for _, tc := range []struct {
		name string
		set  func(t *testing.T, dir string)
	}{
		{"env", func(t *testing.T, _ string) {
			t.Setenv("AWS_ACCESS_KEY_ID", s3Key)
			t.Setenv("AWS_SECRET_ACCESS_KEY", s3Secret)
		}},
		{"shared-default", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "credentials"), []byte("[default]\naws_access_key_id = "+s3Key+"\naws_secret_access_key = "+s3Secret+"\n"), 0o600)
		}},
		{"shared-profile", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "credentials"), []byte("[default]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n\n[eddy]\naws_access_key_id = "+s3Key+"\naws_secret_access_key = "+s3Secret+"\n"), 0o600)
			t.Setenv("AWS_PROFILE", "eddy")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.set(t, isolateAWSEnv(t))
			srv := startServer(t, nil, v.URL, func(o *firehoseOptions) { o.S3AccessKey, o.S3SecretKey = "", "" })
			if err := deliverOnce(t, srv, tc.name); err != nil {
				t.Fatalf("delivery with credentials from the chain: %v", err)
			}
			if got := v.listObjects(t, "creds", tc.name+"/"); len(got) != 1 {
				t.Fatalf("objects: %d, want 1", len(got))
			}
			if d := describe(t, srv, tc.name); d.FailureDescription != nil {
				t.Fatalf("FailureDescription after a good delivery: %+v", d.FailureDescription)
			}
		})
	}
}

// A delivery S3 refuses with 403 says what to set, in the error, in the
// log line and in DescribeDeliveryStream's FailureDescription; the next
// successful delivery clears it.
func TestS3ForbiddenSaysWhatToSet(t *testing.T) {
	v := startVersity(t, "creds")
	for _, tc := range []struct {
		name      string
		key, sec  string // --s3-access-key, --s3-secret-key
		env       [2]string
		profile   string // AWS_PROFILE
		wantParts []string
	}{
		{name: "wrong-flags", key: s3Key, sec: "not-the-secret",
			wantParts: []string{"--s3-access-key and --s3-secret-key", "EDDY_S3_ACCESS_KEY", "403"}},
		{name: "wrong-env", env: [2]string{s3Key, "not-the-secret"},
			wantParts: []string{"access key " + s3Key + " from the AWS default credential chain (EnvConfigCredentials)", "AWS_ACCESS_KEY_ID", "--s3-access-key"}},
		{name: "missing-profile", profile: "nosuchprofile", wantParts: []string{"no S3 credentials were found", "nosuchprofile", "AWS_PROFILE"}},
		{name: "none", wantParts: []string{"no S3 credentials were found", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", "--s3-access-key", "~/.aws/credentials"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWSEnv(t)
			if tc.env[0] != "" {
				t.Setenv("AWS_ACCESS_KEY_ID", tc.env[0])
				t.Setenv("AWS_SECRET_ACCESS_KEY", tc.env[1])
			}
			if tc.profile != "" {
				t.Setenv("AWS_PROFILE", tc.profile)
			}
			logs := &syncBuffer{}
			srv := startServer(t, nil, v.URL, func(o *firehoseOptions) {
				o.S3AccessKey, o.S3SecretKey = tc.key, tc.sec
				o.Logger = slog.New(slog.NewTextHandler(logs, nil))
			})
			err := deliverOnce(t, srv, tc.name)
			if !errors.Is(err, s3dest.ErrForbidden) {
				t.Fatalf("delivery error %v, want one wrapping ErrForbidden", err)
			}
			for _, p := range tc.wantParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error lacks %q: %v", p, err)
				}
			}
			waitFor(t, 10*time.Second, "the failure log line", func() bool { return strings.Contains(logs.String(), "delivery failed") })
			line := ""
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "delivery failed") {
					line = l
					break
				}
			}
			for _, p := range tc.wantParts {
				if !strings.Contains(line, p) {
					t.Errorf("log line lacks %q: %s", p, line)
				}
			}
			d := describe(t, srv, tc.name)
			if d.DeliveryStreamStatus != fhtypes.DeliveryStreamStatusActive {
				t.Errorf("status %s, want ACTIVE (a failing destination does not change it)", d.DeliveryStreamStatus)
			}
			fd := d.FailureDescription
			if fd == nil || fd.Type != fhtypes.DeliveryStreamFailureTypeUnknownError {
				t.Fatalf("FailureDescription: %+v", fd)
			}
			if n := len(aws.ToString(fd.Details)); n == 0 || n > 1024 {
				t.Errorf("Details length %d, want 1..1024", n)
			}
			for _, p := range tc.wantParts[:1] {
				if !strings.Contains(aws.ToString(fd.Details), p) {
					t.Errorf("FailureDescription.Details lacks %q: %s", p, aws.ToString(fd.Details))
				}
			}
			if len(v.listObjects(t, "creds", tc.name+"/")) != 0 {
				t.Fatal("an object was written with refused credentials")
			}
		})
	}
	// the failure clears once a delivery succeeds again
	t.Run("clears", func(t *testing.T) {
		v := startVersity(t, "creds")
		srv := startServer(t, nil, v.URL)
		v.Stop()
		if err := deliverOnce(t, srv, "later"); err == nil {
			t.Fatal("delivery to a stopped S3 succeeded")
		}
		fd := describe(t, srv, "later").FailureDescription
		if fd == nil || !strings.Contains(aws.ToString(fd.Details), "connect") {
			t.Fatalf("FailureDescription while S3 is down: %+v", fd)
		}
		v.Start()
		srv.flush("later")
		if fd := describe(t, srv, "later").FailureDescription; fd != nil {
			t.Fatalf("FailureDescription after a good delivery: %s", aws.ToString(fd.Details))
		}
		if got := v.listObjects(t, "creds", "later/"); len(got) != 1 {
			t.Fatalf("objects after recovery: %d", len(got))
		}
	})
}
