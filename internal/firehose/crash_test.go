package firehose_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestCrashChild is the server process of TestKillMidLoad; it does nothing
// unless started by that test.
func TestCrashChild(t *testing.T) {
	dir, s3url := os.Getenv("EDDY_FH_CRASH_DIR"), os.Getenv("EDDY_FH_CRASH_S3")
	if dir == "" {
		t.Skip("helper process for TestKillMidLoad")
	}
	be := openLogstore(t, dir)
	srv := startServer(t, be, s3url)
	fmt.Printf("URL %s\n", srv.http.URL)
	select {} // until SIGKILL
}

// TestKillMidLoad SIGKILLs a real Eddy process while producers are putting
// records and buffers are being delivered, restarts it on the same data
// directory, and checks that every record whose put was acknowledged
// arrives in S3, in order within each object.
func TestKillMidLoad(t *testing.T) {
	v := startVersity(t, "crash")
	dir := filepath.Join(t.TempDir(), "data")

	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.timeout=10m")
		cmd.Env = append(os.Environ(), "EDDY_FH_CRASH_DIR="+dir, "EDDY_FH_CRASH_S3="+v.URL)
		cmd.SysProcAttr = childAttr()
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
				go func() { // keep draining
					for sc.Scan() {
					}
				}()
				return cmd, u
			}
		}
		t.Fatalf("child exited before serving: %v", sc.Err())
		return nil, ""
	}
	client := func(url string) *fh.Client {
		return fh.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), RetryMaxAttempts: 1})
	}

	cmd, url := start()
	c := client(url)
	s3Stream(t, c, "crash", fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::crash"), Prefix: aws.String("c/"),
		BufferingHints: &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(1)},
		ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
			Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
	})

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	var ackedCount int
	for p := 0; p < 2; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; ; b++ {
				in := &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("crash")}
				for i := 0; i < 100; i++ {
					in.Records = append(in.Records, fhtypes.Record{Data: []byte(fmt.Sprintf("p%d-%06d-%s", p, b*100+i, strings.Repeat("x", 200)))})
				}
				out, err := c.PutRecordBatch(context.Background(), in)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				for i, r := range out.RequestResponses {
					if r.ErrorCode == nil {
						acked[string(in.Records[i].Data)] = true
						ackedCount++
					}
				}
				mu.Unlock()
			}
		}()
	}
	waitFor(t, 30*time.Second, "load and some deliveries", func() bool {
		mu.Lock()
		n := ackedCount
		mu.Unlock()
		return n >= 20000 && len(v.listObjects(t, "crash", "c/")) > 0
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	wg.Wait()

	cmd, _ = start()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	got := map[string]int{}
	waitFor(t, 60*time.Second, "every acknowledged record in S3", func() bool {
		got = map[string]int{}
		for _, o := range v.listObjects(t, "crash", "c/") {
			last := map[byte]string{}
			for _, l := range bytes.Split(bytes.TrimSuffix(o.Body, []byte("\n")), []byte("\n")) {
				s := string(l)
				got[s]++
				if prev, ok := last[s[1]]; ok && prev >= s {
					t.Fatalf("object %s: %.9s after %.9s", o.Key, s, prev)
				}
				last[s[1]] = s
			}
		}
		for r := range acked {
			if got[r] == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("%d records acknowledged before SIGKILL, %d distinct delivered", len(acked), len(got))
}
