package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/agent"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

const (
	apacheBin    = "/usr/sbin/apache2"
	logrotateBin = "/usr/sbin/logrotate"
	modulesDir   = "/usr/lib/apache2/modules"
)

// httpd is Apache running in the foreground on a loopback port with its own
// configuration and directories.
type httpd struct {
	cmd     *exec.Cmd
	url     string
	logDir  string
	pidFile string
}

func startApache(t *testing.T, root string) *httpd {
	t.Helper()
	for _, bin := range []string{apacheBin, logrotateBin} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s is missing: run scripts/setup.d/30-agent.sh (apt-get install apache2 logrotate)", bin)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("the Apache test must run as root (Apache switches to www-data itself)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	h := &httpd{url: "http://" + addr, logDir: filepath.Join(root, "logs"), pidFile: filepath.Join(root, "run", "httpd.pid")}
	// www-data must reach the document root: open up the test's directories.
	for _, d := range []string{root, filepath.Dir(root), filepath.Dir(filepath.Dir(root)), h.logDir, filepath.Join(root, "run"), filepath.Join(root, "htdocs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "htdocs", "index.html"), []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`ServerRoot %[1]q
ServerName 127.0.0.1
Listen %[2]s
PidFile %[3]q
DefaultRuntimeDir %[4]q
LoadModule mpm_event_module %[5]s/mod_mpm_event.so
LoadModule authz_core_module %[5]s/mod_authz_core.so
LoadModule dir_module %[5]s/mod_dir.so
LoadModule alias_module %[5]s/mod_alias.so
User www-data
Group www-data
ErrorLog %[6]q
LogLevel warn
LogFormat "%%h %%l %%u %%t \"%%r\" %%>s %%O \"%%{Referer}i\" \"%%{User-Agent}i\"" combined
CustomLog %[7]q combined
DocumentRoot %[8]q
<Directory />
  AllowOverride None
  Require all denied
</Directory>
AliasMatch ^/req/ %[8]s/index.html
<Directory %[8]q>
  AllowOverride None
  Require all granted
</Directory>
KeepAlive On
`, root, addr, h.pidFile, filepath.Join(root, "run"), modulesDir, filepath.Join(h.logDir, "error.log"),
		filepath.Join(h.logDir, "access.log"), filepath.Join(root, "htdocs"))
	confPath := filepath.Join(root, "httpd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	h.cmd = exec.Command(apacheBin, "-f", confPath, "-DFOREGROUND")
	h.cmd.Env = append(os.Environ(), "APACHE_RUN_DIR="+filepath.Join(root, "run"))
	out := &strings.Builder{}
	h.cmd.Stdout, h.cmd.Stderr = out, out
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		_ = h.cmd.Wait()
	})
	eventually(t, 20*time.Second, "apache to answer", func() bool {
		resp, err := http.Get(h.url + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	t.Logf("apache up at %s (output: %s)", h.url, out.String())
	return h
}

// rotate runs logrotate with a test-local config and state file.
func (h *httpd) rotate(t *testing.T, root, mode string) {
	t.Helper()
	var extra string
	if mode == "create" {
		extra = fmt.Sprintf("create 0644 root root\n  postrotate\n    kill -USR1 %d\n  endscript", h.cmd.Process.Pid)
	} else {
		extra = "copytruncate"
	}
	conf := fmt.Sprintf("%s {\n  rotate 10\n  missingok\n  nocompress\n  %s\n}\n", filepath.Join(h.logDir, "access.log"), extra)
	confPath := filepath.Join(root, "logrotate-"+mode+".conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(logrotateBin, "-f", "-s", filepath.Join(root, "logrotate.state"), confPath).CombinedOutput()
	if err != nil {
		t.Fatalf("logrotate (%s): %v\n%s", mode, err, out)
	}
}

// linesInLogs counts the lines of access.log and its rotated copies.
func (h *httpd) linesInLogs(t *testing.T) int {
	names, _ := filepath.Glob(filepath.Join(h.logDir, "access.log*"))
	n := 0
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		n += strings.Count(string(data), "\n")
	}
	return n
}

// load sends n GETs to unique paths with a few workers; it returns the paths
// that were answered (and so logged). midway, if set, runs once half are done.
var non200 atomic.Int64

func load(t *testing.T, url, phase string, n int, answered *sync.Map, midway func()) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if i == n/2 && midway != nil {
					once.Do(midway)
				}
				path := fmt.Sprintf("/req/%s/%d", phase, i)
				resp, err := client.Get(url + path)
				if err != nil {
					continue // not answered: maybe not logged; not counted
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					non200.Add(1)
				}
				answered.Store("GET "+path+" HTTP/1.1", true)
			}
		}()
	}
	wg.Wait()
}

// TestApacheAccessLogWithLogrotate ships a real Apache combined access log
// into an Eddy stream while logrotate rotates it once with create (under
// load) and once with copytruncate; every answered request must arrive as a
// LOGTOJSON record, none lost and none duplicated.
func TestApacheAccessLogWithLogrotate(t *testing.T) {
	root := t.TempDir()
	h := startApache(t, filepath.Join(root, "httpd"))

	srv := eddytest.Start(t)
	kc := eddytest.Kinesis(srv)
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("weblogs"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	eddytest.WaitActive(t, kc, "weblogs")
	doc := fmt.Sprintf(`{"checkpointFile": %q, "kinesis.endpoint": %q, "kinesis.region": "us-east-1",
		"awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "secret",
		"flows": [{"filePattern": %q, "kinesisStream": "weblogs", "initialPosition": "START_OF_FILE",
		"maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 20, "rotateWaitMillis": 1500,
		"onParseError": "SEND_RAW",
		"dataProcessingOptions": [{"optionName": "LOGTOJSON", "logFormat": "COMBINEDAPACHELOG"}]}]}`,
		filepath.Join(root, "checkpoints"), srv.URL(), filepath.Join(h.logDir, "access.log"))
	cfg, err := agent.ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var logBuf strings.Builder
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logBuf.Write(p)
	}), nil))
	a, err := agent.New(runCtx, cfg, agent.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()

	var answered sync.Map
	count := func() int {
		n := 0
		answered.Range(func(any, any) bool { n++; return true })
		return n
	}
	// Phase 1: rotation with create under load; Apache reopens its log on
	// USR1 (graceful), old children finish on the renamed file.
	load(t, h.url, "a", 1500, &answered, func() { h.rotate(t, root, "create") })
	// Phase 2: load, then copytruncate with the load paused: copytruncate
	// itself loses lines written between its copy and its truncate (see
	// logrotate(8)), which would be lines missing from the files, not from
	// the agent.
	load(t, h.url, "b", 1500, &answered, nil)
	eventually(t, 20*time.Second, "apache to log every answered request", func() bool { return h.linesInLogs(t) >= count() })
	h.rotate(t, root, "copytruncate")
	// Phase 3: more load on the truncated file.
	load(t, h.url, "c", 1000, &answered, nil)

	want := count()
	if bad := non200.Load(); bad > 0 {
		t.Errorf("%d of %d requests were not answered 200 (Apache set-up)", bad, want)
	}
	r := &eddytest.StreamReader{Client: kc, Stream: "weblogs"}
	requests := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	matched := 0
	for {
		r.Poll(t)
		for k := range requests {
			delete(requests, k)
		}
		for _, rec := range r.Got() {
			var m map[string]*string
			if err := json.Unmarshal([]byte(rec), &m); err != nil || m["request"] == nil {
				t.Fatalf("record is not a LOGTOJSON combined record: %q", rec)
			}
			requests[*m["request"]]++
		}
		matched = 0
		var missing []string
		answered.Range(func(k, _ any) bool {
			if requests[k.(string)] > 0 {
				matched++
			} else if len(missing) < 5 {
				missing = append(missing, k.(string))
			}
			return true
		})
		if matched == want {
			break
		}
		if time.Now().After(deadline) {
			names, _ := filepath.Glob(filepath.Join(h.logDir, "*"))
			var sizes []string
			for _, n := range names {
				if fi, err := os.Stat(n); err == nil {
					sizes = append(sizes, fmt.Sprintf("%s=%d", filepath.Base(n), fi.Size()))
				}
			}
			st := a.Stats(cfg.Flows[0].ID())
			logMu.Lock()
			logs := logBuf.String()
			logMu.Unlock()
			t.Fatalf("%d of %d answered requests in the stream (%d records, %d lines in files); missing e.g. %v\nfiles %v\nlines read %d sent %d\nagent log:\n%s",
				matched, want, len(r.Got()), h.linesInLogs(t), missing, sizes, st.Tail.Lines.Load(), st.RecordsSent.Load(), logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	dups := 0
	for _, c := range requests {
		dups += c - 1
	}
	stats := a.Stats(cfg.Flows[0].ID())
	t.Logf("%d requests answered, %d records, rotations %d, copytruncates %d, truncations without copy %d, unparsed %d",
		want, len(r.Got()), stats.Tail.Rotations.Load(), stats.Tail.Copytruncates.Load(), stats.Tail.TruncatedNoCopy.Load(), stats.RecordsUnparsed.Load())
	if stats.Tail.Copytruncates.Load() != 1 || stats.Tail.TruncatedNoCopy.Load() != 0 {
		t.Errorf("copytruncate not resolved through its copy")
	}
	if stats.Tail.Rotations.Load() < 1 {
		t.Errorf("rename rotation not seen")
	}
	if stats.RecordsUnparsed.Load() != 0 {
		t.Errorf("%d access-log lines did not parse as COMBINEDAPACHELOG", stats.RecordsUnparsed.Load())
	}
	ambiguous := strings.Count(logBuf.String(), "send failed; retrying")
	if dups > ambiguous*500 {
		t.Errorf("%d duplicate records with %d failed sends", dups, ambiguous)
	}
	names, _ := filepath.Glob(filepath.Join(h.logDir, "access.log*"))
	t.Logf("log files: %v, duplicates: %d", names, dups)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
