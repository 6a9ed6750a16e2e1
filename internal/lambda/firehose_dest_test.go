//go:build linux

package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
)

// A destination beyond S3 (an HTTP endpoint) with a Lambda processor run by
// this server's Lambda service (the aws-lambda-go test function): the
// endpoint receives the upper-cased records only, the failed ones land
// under the S3Configuration's processing-failed/ prefix.
func TestFirehoseLambdaTransformationHTTPEndpoint(t *testing.T) {
	url, root := startVersitygw(t, "bkt")
	e := start(t, eddytest.WithConfig(func(c *config.Config) {
		c.S3Endpoint, c.S3AccessKey, c.S3SecretKey, c.S3Region = url, "lkey", "lsecret", "us-east-1"
	}))
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			RequestID string `json:"requestId"`
			Records   []struct {
				Data []byte `json:"data"`
			} `json:"records"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.RequestID != r.Header.Get("X-Amz-Firehose-Request-Id") {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		for _, rec := range body.Records {
			got = append(got, string(rec.Data))
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"requestId":%q,"timestamp":%d}`, body.RequestID, time.Now().UnixMilli())
	}))
	t.Cleanup(recv.Close)
	ctx := context.Background()
	cf := e.create(t, "upperhttp", nil, 10)
	fc := fh.NewFromConfig(eddytest.AWSConfig(e.srv.URL(), "", ""))
	_, err := fc.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("txhttp"),
		HttpEndpointDestinationConfiguration: &fhtypes.HttpEndpointDestinationConfiguration{
			EndpointConfiguration: &fhtypes.HttpEndpointConfiguration{Url: aws.String(recv.URL)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{
				Type: fhtypes.ProcessorTypeLambda, Parameters: []fhtypes.ProcessorParameter{{ParameterName: "LambdaArn", ParameterValue: cf.FunctionArn}}}}},
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::bkt"),
				RoleARN: aws.String("arn:aws:iam::000000000000:role/fh"), Prefix: aws.String("http/")}}})
	if err != nil {
		t.Fatal(err)
	}
	var recs []fhtypes.Record
	for i := 0; i < 9; i++ {
		recs = append(recs, fhtypes.Record{Data: []byte(fmt.Sprintf("%s-%d", []string{"rec", "drop", "fail"}[i%3], i))})
	}
	if out, err := fc.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("txhttp"), Records: recs}); err != nil || *out.FailedPutCount != 0 {
		t.Fatalf("put: %v", err)
	}
	if err := e.srv.Firehose.Flush(ctx, "000000000000", "us-east-1", "txhttp"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	delivered := strings.Join(got, ",")
	mu.Unlock()
	if delivered != "REC-0,REC-3,REC-6" {
		t.Fatalf("the endpoint received %q", delivered)
	}
	failed := strings.Join(objectsUnder(filepath.Join(root, "bkt", "http", "processing-failed")), "")
	for _, want := range []string{`"rawData":"ZmFpbC0y"`, `"rawData":"ZmFpbC01"`, `"rawData":"ZmFpbC04"`, `"lambdaArn":"` + *cf.FunctionArn} {
		if !strings.Contains(failed, want) {
			t.Fatalf("processing-failed output %q lacks %s", failed, want)
		}
	}
}
