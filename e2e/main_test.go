// Package e2e drives the built eddy binary as a user would: the AWS CLI,
// boto3 and SDK clients over every HTTP flavour.
package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var eddyBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// the binary-level tests run in the full pass of scripts/test.sh
		fmt.Println("e2e: skipped with -short")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "eddy-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eddyBin = filepath.Join(dir, "eddy")
	out, err := exec.Command("go", "build", "-o", eddyBin, "../cmd/eddy").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build eddy: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running eddy process.
type server struct {
	cmd     *exec.Cmd
	URL     string
	Addr    string
	DataDir string
	log     *bytes.Buffer
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs `eddy server` with args and waits for /healthz.
func startServer(t testing.TB, dataDir string, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	s := &server{Addr: addr, URL: "http://" + addr, DataDir: dataDir, log: new(bytes.Buffer)}
	all := append([]string{"server", "--addr", addr, "--data-dir", dataDir}, args...)
	for _, a := range args {
		if a == "--tls-cert" {
			s.URL = "https://" + addr
		}
	}
	s.cmd = exec.Command(eddyBin, all...)
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(t) })
	client := &http.Client{Timeout: time.Second, Transport: insecureTransport()}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if s.cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("eddy did not become healthy:\n%s", s.log.String())
	return nil
}

func (s *server) stop(t testing.TB) {
	if s.cmd.ProcessState != nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("eddy exited with %v:\n%s", err, s.log.String())
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Errorf("eddy did not stop on SIGINT")
	}
}

// run runs a command with the AWS environment pointing at no real account.
func run(t testing.TB, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// runFail runs a command that must fail, returning its stderr.
func runFail(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err == nil {
		t.Fatalf("%s %s succeeded: %s", name, strings.Join(args, " "), out.String())
	}
	return errb.String()
}
