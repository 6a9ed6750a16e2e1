package agent_test

import (
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
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// agentProc is the agent running as a child process.
type agentProc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

func startAgentProcess(t *testing.T, configPath string) *agentProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgsEnv+"=--config "+configPath+" --log-level warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProc{cmd: cmd, stderr: &stderr}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

func (p *agentProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func (p *agentProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("agent exited with %v; stderr:\n%s", err, p.stderr.String())
	}
}

// TestSIGKILLMidFileLosesNothing kills the agent process with SIGKILL
// several times while a writer appends to the log, restarting it each time:
// every line must arrive, and each kill may duplicate at most one batch
// (maxInFlightBatches 1, maxBufferSizeRecords 100).
func TestSIGKILLMidFileLosesNothing(t *testing.T) {
	srv := eddytest.Start(t)
	kc := eddytest.Kinesis(srv)
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("kill"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "kill")

	dir := t.TempDir()
	logPath := filepath.Join(dir, "app.log")
	const batch = 100
	cfg := fmt.Sprintf(`{"checkpointFile": %q, "kinesis.endpoint": %q, "kinesis.region": "us-east-1",
		"awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "secret", "shutdownTimeoutMillis": 5000,
		"flows": [{"filePattern": %q, "kinesisStream": "kill", "initialPosition": "START_OF_FILE",
		"maxBufferSizeRecords": %d, "maxInFlightBatches": 1, "maxBufferAgeMillis": 1000,
		"minTimeBetweenFilePollsMillis": 5}]}`, filepath.Join(dir, "checkpoints"), srv.URL(), logPath, batch)
	cfgPath := filepath.Join(dir, "agent.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// The writer appends 60,000 lines (20,000 with -short) in bursts of 200
	// while the agent runs.
	total := 60000
	if testing.Short() {
		total = 20000
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mu sync.Mutex
	written := 0
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		var b bytes.Buffer
		for i := 0; i < total; {
			b.Reset()
			for j := 0; j < 200 && i < total; j, i = j+1, i+1 {
				fmt.Fprintf(&b, "line %06d %s\n", i, "payload-payload-payload-payload")
			}
			if _, err := f.Write(b.Bytes()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			written = i
			mu.Unlock()
			time.Sleep(2 * time.Millisecond) // pace the writer so kills land mid-file
		}
	}()

	r := &eddytest.StreamReader{Client: kc, Stream: "kill"}
	p := startAgentProcess(t, cfgPath)
	allStderr := ""
	const kills = 3
	for k := 1; k <= kills; k++ {
		// Kill once the stream holds a new share of the lines.
		eventually(t, 60*time.Second, fmt.Sprintf("progress before kill %d", k), func() bool {
			return len(r.Poll(t)) >= k*total/(kills+2)
		})
		p.kill(t)
		allStderr += p.stderr.String()
		mu.Lock()
		at := written
		mu.Unlock()
		t.Logf("kill %d: %d lines written, %d records in the stream", k, at, len(r.Poll(t)))
		p = startAgentProcess(t, cfgPath)
	}
	<-writerDone
	eventually(t, 60*time.Second, "every line in the stream", func() bool {
		seen := map[string]bool{}
		for _, g := range r.Poll(t) {
			seen[g] = true
		}
		return len(seen) == total
	})
	p.stop(t)
	allStderr += p.stderr.String()

	counts := map[string]int{}
	for _, g := range r.Poll(t) {
		counts[g]++
	}
	for i := 0; i < total; i++ {
		l := fmt.Sprintf("line %06d %s\n", i, "payload-payload-payload-payload")
		if counts[l] == 0 {
			t.Fatalf("line %d lost", i)
		}
	}
	var dupLines []int
	for i := 0; i < total; i++ {
		if counts[fmt.Sprintf("line %06d %s\n", i, "payload-payload-payload-payload")] > 1 {
			dupLines = append(dupLines, i)
		}
	}
	if len(dupLines) > 0 {
		ranges := ""
		start := dupLines[0]
		for j := 1; j <= len(dupLines); j++ {
			if j == len(dupLines) || dupLines[j] != dupLines[j-1]+1 {
				ranges += fmt.Sprintf(" %d-%d", start, dupLines[j-1])
				if j < len(dupLines) {
					start = dupLines[j]
				}
			}
		}
		t.Logf("duplicated lines:%s", ranges)
	}
	// A send that failed ambiguously (the server stored the records but the
	// reply was lost) is retried and duplicates its batch too; the agent
	// logs each one.
	ambiguous := strings.Count(allStderr, "send failed; retrying")
	if ambiguous > 0 {
		t.Logf("agent logs:\n%s", allStderr)
	}
	dups := len(r.Got()) - total
	t.Logf("%d records for %d lines: %d duplicates after %d kills", len(r.Got()), total, dups, kills)
	if dups > (kills+ambiguous)*batch {
		t.Errorf("%d duplicates after %d kills and %d failed sends: more than one batch (%d records) per kill or failed send", dups, kills, ambiguous, batch)
	}
}
