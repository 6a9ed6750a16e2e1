package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

func apiErr(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("want %s containing %q, got %s: %s", code, msgPart, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func TestFunctionLifecycleAndWarmReuse(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	cf := e.create(t, "fn1", map[string]string{"CUSTOM": "v1"}, 7)
	if *cf.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:fn1" || cf.State != ltypes.StateActive || *cf.Timeout != 7 || *cf.CodeSha256 == "" {
		t.Fatalf("create: %+v", cf)
	}
	out := e.invoke(t, "fn1", `{"op":"echo","x":[1,2]}`)
	if out.FunctionError != nil || out.StatusCode != 200 || string(out.Payload) != `{"op":"echo","x":[1,2]}` || *out.ExecutedVersion != "$LATEST" {
		t.Fatalf("echo: %+v %s", out, out.Payload)
	}
	var env1, env2 map[string]any
	json.Unmarshal(e.invoke(t, "fn1", `{"op":"env"}`).Payload, &env1)
	json.Unmarshal(e.invoke(t, "fn1", `{"op":"env"}`).Payload, &env2)
	if env1["name"] != "fn1" || env1["memory"] != "256" || env1["region"] != "us-east-1" || env1["custom"] != "v1" ||
		env1["arn"] != *cf.FunctionArn || env1["handler"] != "bootstrap" || env1["root"] == "" {
		t.Fatalf("environment: %v", env1)
	}
	if d := env1["deadlineIn"].(float64); d < 5 || d > 7.01 {
		t.Fatalf("deadline in %v s, want ~7", d)
	}
	if env1["pid"] != env2["pid"] || env1["requestId"] == env2["requestId"] {
		t.Fatalf("warm reuse: %v vs %v", env1, env2)
	}
	// configuration change: new processes with the new environment
	if _, err := e.lc.UpdateFunctionConfiguration(ctx, &lambdasdk.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn1"),
		Environment: &ltypes.Environment{Variables: map[string]string{"CUSTOM": "v2"}}}); err != nil {
		t.Fatal(err)
	}
	var env3 map[string]any
	json.Unmarshal(e.invoke(t, "fn1", `{"op":"env"}`).Payload, &env3)
	if env3["custom"] != "v2" || env3["pid"] == env1["pid"] {
		t.Fatalf("after update: %v", env3)
	}
	gf, err := e.lc.GetFunction(ctx, &lambdasdk.GetFunctionInput{FunctionName: cf.FunctionArn})
	if err != nil || *gf.Configuration.FunctionName != "fn1" || gf.Configuration.Environment.Variables["CUSTOM"] != "v2" {
		t.Fatalf("get: %v %+v", err, gf)
	}
	lf, err := e.lc.ListFunctions(ctx, &lambdasdk.ListFunctionsInput{})
	if err != nil || len(lf.Functions) != 1 {
		t.Fatalf("list: %v %+v", err, lf)
	}
	_, err = e.lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String("fn1"), Runtime: ltypes.RuntimeProvidedal2023,
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &ltypes.FunctionCode{ZipFile: handlerZip(t)}})
	apiErr(t, err, "ResourceConflictException", "Function already exist: fn1")
	// tags
	if _, err := e.lc.TagResource(ctx, &lambdasdk.TagResourceInput{Resource: cf.FunctionArn, Tags: map[string]string{"team": "a"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := e.lc.ListTags(ctx, &lambdasdk.ListTagsInput{Resource: cf.FunctionArn})
	if err != nil || lt.Tags["team"] != "a" {
		t.Fatalf("tags: %v %v", err, lt)
	}
	// logs are where the docs say
	b, _ := os.ReadFile(filepath.Join(e.srv.Config.DataDir, "lambda", "logs", "fn1.log"))
	if !strings.Contains(string(b), "START RequestId: ") || !strings.Contains(string(b), "REPORT RequestId: ") {
		t.Fatalf("log: %s", b)
	}
	// the gateway counts Lambda requests under bounded labels
	resp, err := http.Get(e.srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`eddy_gateway_requests_total{code="200",operation="Invoke",service="lambda"} 4`,
		`eddy_gateway_requests_total{code="ResourceConflictException",operation="CreateFunction",service="lambda"} 1`,
	} {
		if !strings.Contains(string(mb), want) {
			t.Fatalf("metrics lack %s:\n%s", want, mb)
		}
	}
	if _, err := e.lc.DeleteFunction(ctx, &lambdasdk.DeleteFunctionInput{FunctionName: aws.String("fn1")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("fn1")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:fn1")
}

func TestInvokeFailures(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.create(t, "bad", nil, 1)
	check := func(payload, errType, msgPart string) {
		t.Helper()
		out := e.invoke(t, "bad", payload)
		var pe struct{ ErrorType, ErrorMessage string }
		json.Unmarshal(out.Payload, &pe)
		if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" || pe.ErrorType != errType || !strings.Contains(pe.ErrorMessage, msgPart) {
			t.Fatalf("%s: status %d function error %v payload %s", payload, out.StatusCode, out.FunctionError, out.Payload)
		}
	}
	check(`{"op":"error"}`, "errorString", "boom")
	check(`{"op":"crash"}`, "Runtime.ExitError", "exit status 3")
	check(`{"op":"hang"}`, "Sandbox.Timedout", "Task timed out after 1.00 seconds")
	check(`{"op":"big"}`, "Function.ResponseSizeTooLarge", "6291556")
	// after a crash and a timeout a fresh process serves
	if out := e.invoke(t, "bad", `{"op":"echo"}`); out.FunctionError != nil {
		t.Fatalf("after failures: %s", out.Payload)
	}
	_, err := e.lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("bad"), Payload: []byte("{not json")})
	apiErr(t, err, "InvalidRequestContentException", "Could not parse request body into json")
	_, err = e.lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("bad"), Payload: []byte(`"` + strings.Repeat("a", 6<<20) + `"`)})
	apiErr(t, err, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
	ev, err := e.lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("bad"), InvocationType: ltypes.InvocationTypeEvent, Payload: []byte(`{"op":"echo"}`)})
	if err != nil || ev.StatusCode != 202 {
		t.Fatalf("event: %v %+v", err, ev)
	}
	dr, err := e.lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("bad"), InvocationType: ltypes.InvocationTypeDryRun})
	if err != nil || dr.StatusCode != 204 {
		t.Fatalf("dry run: %v %+v", err, dr)
	}
	if _, err := e.lc.PutFunctionConcurrency(ctx, &lambdasdk.PutFunctionConcurrencyInput{FunctionName: aws.String("bad"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("bad"), Payload: []byte(`{"op":"echo"}`)})
	apiErr(t, err, "TooManyRequestsException", "Rate Exceeded.")
	_, err = e.lc.GetFunction(ctx, &lambdasdk.GetFunctionInput{FunctionName: aws.String("bad"), Qualifier: aws.String("3")})
	apiErr(t, err, "ResourceNotFoundException", "function:bad:3")
	_, err = e.lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String("x"), Runtime: ltypes.RuntimeProvidedal2023,
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &ltypes.FunctionCode{ZipFile: []byte("not a zip")}})
	apiErr(t, err, "InvalidParameterValueException", "Could not unzip uploaded file")
}

// A missing bootstrap is an init failure reported in the payload, as AWS.
func TestInvokeNoBootstrapAndLocalDir(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	handlerZip(t)
	empty := t.TempDir()
	_, err := e.lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String("local"), Runtime: ltypes.RuntimeProvidedal2023,
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &ltypes.FunctionCode{S3Bucket: aws.String("eddy-local"), S3Key: aws.String(empty)}})
	if err != nil {
		t.Fatal(err)
	}
	out := e.invoke(t, "local", `{"op":"echo"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Runtime.InvalidEntrypoint") {
		t.Fatalf("no bootstrap: %s", out.Payload)
	}
	// point the function at the directory holding the built bootstrap
	if _, err := e.lc.UpdateFunctionCode(ctx, &lambdasdk.UpdateFunctionCodeInput{FunctionName: aws.String("local"), S3Bucket: aws.String("eddy-local"), S3Key: aws.String(fnDir)}); err != nil {
		t.Fatal(err)
	}
	if out := e.invoke(t, "local", `{"op":"echo"}`); out.FunctionError != nil || string(out.Payload) != `{"op":"echo"}` {
		t.Fatalf("local dir: %s", out.Payload)
	}
}

// With --auth sigv4 Lambda's REST requests are verified like the others:
// a signed SDK client works (paths with ARNs included), a wrong secret is
// refused with AWS's error.
func TestSigV4(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(creds, []byte(`{"AKIDGOOD":"good-secret"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start(t, eddytest.WithConfig(func(c *config.Config) { c.Auth = "sigv4"; c.Credentials = creds }))
	client := func(secret string) *lambdasdk.Client {
		cfg := eddytest.AWSConfig(e.srv.URL(), "eu-west-1", "AKIDGOOD")
		cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDGOOD", SecretAccessKey: secret}, nil
		})
		return lambdasdk.NewFromConfig(cfg)
	}
	e.lc = client("good-secret")
	cf := e.create(t, "signed", nil, 5)
	if !strings.HasPrefix(*cf.FunctionArn, "arn:aws:lambda:eu-west-1:") {
		t.Fatalf("arn %s", *cf.FunctionArn)
	}
	if out := e.invoke(t, *cf.FunctionArn, `{"op":"echo"}`); out.FunctionError != nil {
		t.Fatalf("%s", out.Payload)
	}
	if _, err := e.lc.ListTags(context.Background(), &lambdasdk.ListTagsInput{Resource: cf.FunctionArn}); err != nil {
		t.Fatal(err)
	}
	_, err := client("bad").GetFunction(context.Background(), &lambdasdk.GetFunctionInput{FunctionName: aws.String("signed")})
	apiErr(t, err, "InvalidSignatureException", "")
}

// Updating a function while it is being invoked retires its processes
// without failing or throttling the calls in progress or arriving.
func TestUpdateDuringInvocations(t *testing.T) {
	e := start(t)
	e.create(t, "busy", map[string]string{"CUSTOM": "0"}, 10)
	ctx := context.Background()
	errs := make(chan error, 64)
	done := make(chan struct{})
	for g := 0; g < 3; g++ {
		go func() {
			for i := 0; i < 15; i++ {
				out, err := e.lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("busy"), Payload: []byte(`{"op":"sleep","sleep":20}`)})
				if err == nil && out.FunctionError != nil {
					err = errors.New(string(out.Payload))
				}
				errs <- err
			}
			done <- struct{}{}
		}()
	}
	for i := 1; i <= 5; i++ {
		if _, err := e.lc.UpdateFunctionConfiguration(ctx, &lambdasdk.UpdateFunctionConfigurationInput{FunctionName: aws.String("busy"),
			Environment: &ltypes.Environment{Variables: map[string]string{"CUSTOM": fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	for g := 0; g < 3; g++ {
		<-done
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A function tagged eddy:endpoint is invoked through that endpoint's Invoke
// API (here a second Eddy serving the code; sam local start-lambda and the
// runtime interface emulator speak the same API), errors included.
func TestRemoteFunction(t *testing.T) {
	backend := start(t)
	backend.create(t, "real", nil, 5)
	e := start(t)
	ctx := context.Background()
	_, err := e.lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String("proxy"), Runtime: ltypes.RuntimeProvidedal2023,
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &ltypes.FunctionCode{S3Bucket: aws.String("eddy-local"), S3Key: aws.String(t.TempDir())},
		Tags: map[string]string{"eddy:endpoint": backend.srv.URL(), "eddy:remote-function": "real"}})
	if err != nil {
		t.Fatal(err)
	}
	if out := e.invoke(t, "proxy", `{"op":"echo","via":"remote"}`); out.FunctionError != nil || string(out.Payload) != `{"op":"echo","via":"remote"}` {
		t.Fatalf("remote echo: %s", out.Payload)
	}
	out := e.invoke(t, "proxy", `{"op":"error"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "boom") {
		t.Fatalf("remote error: %v %s", out.FunctionError, out.Payload)
	}
	// untagging makes it local again (and there is no bootstrap locally)
	arn := "arn:aws:lambda:us-east-1:000000000000:function:proxy"
	if _, err := e.lc.UntagResource(ctx, &lambdasdk.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"eddy:endpoint"}}); err != nil {
		t.Fatal(err)
	}
	if out := e.invoke(t, "proxy", `{"op":"echo"}`); !strings.Contains(string(out.Payload), "Runtime.InvalidEntrypoint") {
		t.Fatalf("after untag: %s", out.Payload)
	}
}
