package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/eddy-streams/eddy/internal/eddytest"
)

// clockSpeed runs analytics applications 30× faster than wall time: the
// flagship's 5-minute windows last 10 s and start at every multiple of 10 s
// of the UTC day (the test clock counts from midnight).
const clockSpeed = 30

// TestFlagshipAccessLogStatusCounts is the flagship scenario end to end:
// Apache httpd serves requests, `eddy agent` ships its combined access log
// with LOGTOJSON into a stream, an application created with the AWS CLI v1
// counts requests per status over 5-minute tumbling windows into an output
// stream, and a consumer reads exactly the expected counts, window by
// window.
func TestFlagshipAccessLogStatusCounts(t *testing.T) {
	for _, bin := range []string{"/usr/sbin/apache2", "aws"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is missing: run scripts/setup.d (apache2, awscli)", bin)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("the Apache test must run as root (Apache switches to www-data itself)")
	}
	root := t.TempDir()
	t.Setenv("EDDY_TEST_ANALYTICS_CLOCK_SPEED", fmt.Sprint(clockSpeed))
	s := startServer(t, "")
	ep := "--endpoint-url=" + s.URL
	for _, st := range []string{"weblogs", "status-counts"} {
		run(t, "", "aws", ep, "kinesis", "create-stream", "--stream-name", st, "--shard-count", "1")
		run(t, "", "aws", ep, "kinesis", "wait", "stream-exists", "--stream-name", st)
	}

	// the application, as a user would create it
	code := filepath.Join(root, "status_counts.sql")
	if err := os.WriteFile(code, []byte(flagshipSQL), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := `[{"NamePrefix": "SOURCE_SQL_STREAM",
	  "KinesisStreamsInput": {"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/weblogs", "RoleARN": "arn:aws:iam::000000000000:role/ka"},
	  "InputSchema": {"RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
	    "RecordEncoding": "UTF-8",
	    "RecordColumns": [{"Name": "request", "SqlType": "VARCHAR(256)", "Mapping": "$.request"},
	                      {"Name": "response", "SqlType": "INTEGER", "Mapping": "$.response"}]}}]`
	run(t, "", "aws", ep, "kinesisanalytics", "create-application", "--application-name", "status-counts",
		"--application-code", "file://"+code, "--inputs", inputs)
	run(t, "", "aws", ep, "kinesisanalytics", "add-application-output", "--application-name", "status-counts",
		"--current-application-version-id", "1", "--application-output",
		`{"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/status-counts", "RoleARN": "arn:aws:iam::000000000000:role/ka"}, "DestinationSchema": {"RecordFormatType": "JSON"}}`)

	web := startHTTPD(t, filepath.Join(root, "httpd"))
	agentConf := filepath.Join(root, "agent.json")
	if err := os.WriteFile(agentConf, []byte(fmt.Sprintf(`{"checkpointFile": %q, "kinesis.endpoint": %q, "kinesis.region": "us-east-1",
		"awsAccessKeyId": "AKIDEXAMPLE", "awsSecretAccessKey": "secret",
		"flows": [{"filePattern": %q, "kinesisStream": "weblogs", "initialPosition": "START_OF_FILE",
		"maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 20,
		"dataProcessingOptions": [{"optionName": "LOGTOJSON", "logFormat": "COMBINEDAPACHELOG"}]}]}`,
		filepath.Join(root, "agent.ckpt"), s.URL, filepath.Join(web.logDir, "access.log"))), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := exec.Command(eddyBin, "agent", "--config", agentConf)
	var agentLog strings.Builder
	agent.Stdout, agent.Stderr = &agentLog, &agentLog
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = agent.Process.Signal(syscall.SIGTERM); _ = agent.Wait() })

	// Apache's start-up probe reaches the stream before the application
	// starts at NOW, so it is not counted
	kc := kinesis.NewFromConfig(eddytest.AWSConfig(s.URL, "", ""))
	probe := &eddytest.StreamReader{Client: kc, Stream: "weblogs"}
	for deadline := time.Now().Add(30 * time.Second); len(probe.Poll(t)) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent shipped nothing:\n%s", agentLog.String())
		}
	}
	run(t, "", "aws", ep, "kinesisanalytics", "start-application", "--application-name", "status-counts",
		"--input-configurations", "Id=1.1,InputStartingPositionConfiguration={InputStartingPosition=NOW}")
	out := run(t, "", "aws", ep, "kinesisanalytics", "describe-application", "--application-name", "status-counts")
	if !strings.Contains(out, `"ApplicationStatus": "RUNNING"`) || !strings.Contains(out, `"SOURCE_SQL_STREAM_001"`) {
		t.Fatalf("describe-application: %s", out)
	}

	// two bursts, each right after a window starts, in windows k and k+2
	window := time.Duration(float64(5*time.Minute) / clockSpeed)
	burst := func(n200, n404, n304 int) {
		t.Helper()
		next := time.Now().Truncate(window).Add(window + 300*time.Millisecond)
		time.Sleep(time.Until(next))
		client := &http.Client{Timeout: 5 * time.Second}
		get := func(path string, hdr map[string]string, want int) {
			req, _ := http.NewRequest("GET", web.url+path, nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
			}
		}
		for i := 0; i < n200; i++ {
			get(fmt.Sprintf("/req/%d", i), nil, 200)
		}
		for i := 0; i < n404; i++ {
			get(fmt.Sprintf("/missing/%d", i), nil, 404)
		}
		for i := 0; i < n304; i++ {
			get(fmt.Sprintf("/req/cached/%d", i), map[string]string{"If-Modified-Since": time.Now().UTC().Format(http.TimeFormat)}, 304)
		}
		if el := time.Since(next); el > window/3 {
			t.Logf("burst took %v of a %v window", el, window)
		}
	}
	burst(30, 10, 5)
	time.Sleep(window) // skip a window
	burst(7, 3, 0)

	// the consumer
	want := []string{
		`{"STATUS":200,"REQUEST_COUNT":30}`, `{"STATUS":200,"REQUEST_COUNT":7}`,
		`{"STATUS":304,"REQUEST_COUNT":5}`, `{"STATUS":404,"REQUEST_COUNT":10}`, `{"STATUS":404,"REQUEST_COUNT":3}`,
	}
	r := &eddytest.StreamReader{Client: kc, Stream: "status-counts"}
	deadline := time.Now().Add(3*window + 30*time.Second)
	var got []string
	for {
		got = append([]string(nil), r.Poll(t)...)
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// one more window: nothing else may arrive (no window twice)
	time.Sleep(window)
	got = append([]string(nil), r.Poll(t)...)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("status counts\n%s\nwant\n%s\nagent log:\n%s\nserver log:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), agentLog.String(), s.log.String())
	}
	run(t, "", "aws", ep, "kinesisanalytics", "stop-application", "--application-name", "status-counts")
}

const flagshipSQL = `-- Requests per HTTP status over 5-minute tumbling windows.
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
    status        INTEGER,
    request_count BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS
  INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM "response", COUNT(*) AS request_count
    FROM "SOURCE_SQL_STREAM_001"
    GROUP BY "response",
             STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '5' MINUTE);
`

type httpd struct {
	cmd    *exec.Cmd
	url    string
	logDir string
}

// startHTTPD runs Apache in the foreground on a loopback port, logging the
// combined format; /req/* serves a page, anything else is 404.
func startHTTPD(t *testing.T, root string) *httpd {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	h := &httpd{url: "http://" + addr, logDir: filepath.Join(root, "logs")}
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
	mods := "/usr/lib/apache2/modules"
	conf := fmt.Sprintf(`ServerRoot %[1]q
ServerName 127.0.0.1
Listen %[2]s
PidFile %[3]q
DefaultRuntimeDir %[4]q
LoadModule mpm_event_module %[5]s/mod_mpm_event.so
LoadModule authz_core_module %[5]s/mod_authz_core.so
LoadModule alias_module %[5]s/mod_alias.so
User www-data
Group www-data
ErrorLog %[6]q
LogFormat "%%h %%l %%u %%t \"%%r\" %%>s %%O \"%%{Referer}i\" \"%%{User-Agent}i\"" combined
CustomLog %[7]q combined
DocumentRoot %[8]q
AliasMatch ^/req/ %[8]s/index.html
<Directory %[8]q>
  Require all granted
</Directory>
`, root, addr, filepath.Join(root, "run", "httpd.pid"), filepath.Join(root, "run"), mods,
		filepath.Join(h.logDir, "error.log"), filepath.Join(h.logDir, "access.log"), filepath.Join(root, "htdocs"))
	confPath := filepath.Join(root, "httpd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	h.cmd = exec.Command("/usr/sbin/apache2", "-f", confPath, "-DFOREGROUND")
	var out strings.Builder
	h.cmd.Stdout, h.cmd.Stderr = &out, &out
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.cmd.Process.Signal(syscall.SIGTERM); _ = h.cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(h.url + "/req/up")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("apache did not answer: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// the probe request is in the log before the application's first window
	return h
}

// TestAnalyticsKill9ResumesWindow kills the server with SIGKILL while a
// window is open; the restarted server resumes the application from its
// checkpoint: the window holds the records from before and after the crash,
// is emitted once, and nothing is emitted twice.
func TestAnalyticsKill9ResumesWindow(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("EDDY_TEST_ANALYTICS_CLOCK_SPEED", fmt.Sprint(clockSpeed))
	s := startServer(t, dir)
	ep := "--endpoint-url=" + s.URL
	for _, st := range []string{"events", "counts"} {
		run(t, "", "aws", ep, "kinesis", "create-stream", "--stream-name", st, "--shard-count", "1")
		run(t, "", "aws", ep, "kinesis", "wait", "stream-exists", "--stream-name", st)
	}
	code := filepath.Join(t.TempDir(), "counts.sql")
	if err := os.WriteFile(code, []byte(strings.ReplaceAll(flagshipSQL, `"response"`, `"status"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "", "aws", ep, "kinesisanalytics", "create-application", "--application-name", "counts", "--application-code", "file://"+code,
		"--inputs", `[{"NamePrefix": "SOURCE_SQL_STREAM", "KinesisStreamsInput": {"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/events", "RoleARN": "arn:aws:iam::000000000000:role/ka"},
		  "InputSchema": {"RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
		  "RecordColumns": [{"Name": "status", "SqlType": "INTEGER", "Mapping": "$.status"}]}}]`,
		"--outputs", `[{"Name": "DESTINATION_SQL_STREAM", "KinesisStreamsOutput": {"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/counts", "RoleARN": "arn:aws:iam::000000000000:role/ka"}, "DestinationSchema": {"RecordFormatType": "JSON"}}]`)
	run(t, "", "aws", ep, "kinesisanalytics", "start-application", "--application-name", "counts",
		"--input-configurations", "Id=1.1,InputStartingPositionConfiguration={InputStartingPosition=NOW}")

	window := time.Duration(float64(5*time.Minute) / clockSpeed)
	put := func(url string, statuses ...int) {
		t.Helper()
		kc := kinesis.NewFromConfig(eddytest.AWSConfig(url, "", ""))
		for _, st := range statuses {
			if _, err := kc.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("events"), PartitionKey: aws.String("k"), Data: []byte(fmt.Sprintf(`{"status":%d}`, st))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(time.Until(time.Now().Truncate(window).Add(window + 200*time.Millisecond)))
	put(s.URL, 200, 200, 200, 404, 404)
	time.Sleep(1500 * time.Millisecond) // read and checkpointed (every second)
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
	s2 := startServer(t, dir)
	put(s2.URL, 200, 500)
	if el := time.Since(time.Now().Truncate(window)); el > window-time.Second {
		t.Logf("restart took most of the window (%v); the check below may see two windows", el)
	}
	kc := kinesis.NewFromConfig(eddytest.AWSConfig(s2.URL, "", ""))
	r := &eddytest.StreamReader{Client: kc, Stream: "counts"}
	want := []string{`{"STATUS":200,"REQUEST_COUNT":4}`, `{"STATUS":404,"REQUEST_COUNT":2}`, `{"STATUS":500,"REQUEST_COUNT":1}`}
	deadline := time.Now().Add(3 * window)
	for len(r.Poll(t)) < len(want) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(window) // a window later, still nothing more
	got := append([]string(nil), r.Poll(t)...)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("counts after kill -9\n%s\nwant\n%s\nserver log:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), s2.log.String())
	}
}
