package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

var (
	buildOnce sync.Once
	fnZip     []byte
	fnDir     string
	buildErr  error
)

// handlerZip builds testdata/fn (aws-lambda-go, lambda.Start) once into a
// temp dir as "bootstrap" and zips it.
func handlerZip(t testing.TB) []byte {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eddy-lambda-fn-")
		if err != nil {
			buildErr = err
			return
		}
		fnDir = dir
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "bootstrap"), "./testdata/fn")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		bin, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
		if err != nil {
			buildErr = err
			return
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
		h.SetMode(0o755)
		w, _ := zw.CreateHeader(h)
		w.Write(bin)
		zw.Close()
		fnZip = buf.Bytes()
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return fnZip
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fnDir != "" {
		os.RemoveAll(fnDir)
	}
	os.Exit(code)
}

type env struct {
	srv *app.Server
	lc  *lambdasdk.Client
}

func start(t *testing.T, opts ...eddytest.Option) *env {
	t.Helper()
	srv := eddytest.Start(t, opts...)
	return &env{srv: srv, lc: lambdasdk.NewFromConfig(eddytest.AWSConfig(srv.URL(), "", ""))}
}

func (e *env) create(t *testing.T, name string, vars map[string]string, timeout int32) *lambdasdk.CreateFunctionOutput {
	t.Helper()
	in := &lambdasdk.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: ltypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &ltypes.FunctionCode{ZipFile: handlerZip(t)},
		Timeout: aws.Int32(timeout), MemorySize: aws.Int32(256),
	}
	if vars != nil {
		in.Environment = &ltypes.Environment{Variables: vars}
	}
	out, err := e.lc.CreateFunction(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) invoke(t *testing.T, name, payload string) *lambdasdk.InvokeOutput {
	t.Helper()
	out, err := e.lc.Invoke(context.Background(), &lambdasdk.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
