package firehose_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// gateProxy sits between Eddy and versitygw. While held, object PUTs are
// parked, either never to reach S3 ("before") or after S3 stored the object
// with the reply held back ("after", a reply lost to the restart).
type gateProxy struct {
	srv     *httptest.Server
	mode    string
	held    atomic.Bool
	parked  atomic.Int64
	release chan struct{}
	once    sync.Once
}

func newGateProxy(t testing.TB, target, mode string) *gateProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gateProxy{mode: mode, release: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || !g.held.Load() {
			rp.ServeHTTP(w, r)
			return
		}
		park := func() {
			g.parked.Add(1)
			select {
			case <-g.release:
			case <-r.Context().Done():
			}
		}
		if g.mode == "before" {
			park() // never forwarded: S3 does not see this upload
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r) // stored in S3
		park()               // the reply is lost if the client gives up now
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(func() { g.open(); g.srv.Close() })
	return g
}

func (g *gateProxy) open() { g.once.Do(func() { close(g.release) }) }

// TestRestartMidDelivery restarts Eddy while an upload is in flight: the
// buffer is delivered after the restart, whole and in order. When S3 had
// already stored the object (lost reply), the buffer arrives twice (at least
// once); otherwise exactly once.
func TestRestartMidDelivery(t *testing.T) {
	for _, mode := range []string{"before", "after"} {
		t.Run(mode, func(t *testing.T) {
			v := startVersity(t, "mid")
			proxy := newGateProxy(t, v.URL, mode)
			dir := filepath.Join(t.TempDir(), "data")
			be := openLogstore(t, dir)
			srv := startServer(t, be, proxy.srv.URL)
			c := srv.Firehose()
			s3Stream(t, c, "mid", fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN: aws.String("arn:aws:s3:::mid"), Prefix: aws.String("m/"),
				BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(0)},
				ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
					Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
			})
			proxy.held.Store(true)
			var want [][]byte
			for i := 0; i < 300; i++ {
				want = append(want, []byte(fmt.Sprintf("rec-%05d", i)))
			}
			putBatch(t, c, "mid", want[:150])
			waitFor(t, 10*time.Second, "an upload parked in the proxy", func() bool { return proxy.parked.Load() > 0 })
			putBatch(t, c, "mid", want[150:])

			srv.Close() // cancels the in-flight upload
			if err := be.Close(); err != nil {
				t.Fatal(err)
			}
			proxy.held.Store(false)
			proxy.open()
			be = openLogstore(t, dir)
			t.Cleanup(func() { be.Close() })
			srv = startServer(t, be, proxy.srv.URL)
			srv.flush("mid")

			got := map[string]int{}
			var objs []object
			waitFor(t, 10*time.Second, "all records in S3", func() bool {
				objs = v.listObjects(t, "mid", "m/")
				got = map[string]int{}
				for _, o := range objs {
					lines := bytes.Split(bytes.TrimSuffix(o.Body, []byte("\n")), []byte("\n"))
					for i, l := range lines {
						got[string(l)]++
						if i > 0 && bytes.Compare(lines[i-1], l) >= 0 {
							t.Fatalf("object %s out of order: %s after %s", o.Key, l, lines[i-1])
						}
					}
				}
				return len(got) == len(want)
			})
			dups := 0
			for _, r := range want {
				switch n := got[string(r)]; {
				case n == 0:
					t.Fatalf("record %s lost", r)
				case n > 1:
					dups++
				}
			}
			if mode == "before" && dups != 0 {
				t.Fatalf("%d records delivered twice although S3 never saw the first upload", dups)
			}
			if mode == "after" && dups == 0 {
				t.Fatalf("no duplicates: the upload S3 stored before the restart should be redelivered (at least once)")
			}
		})
	}
}
