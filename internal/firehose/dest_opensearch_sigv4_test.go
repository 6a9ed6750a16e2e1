package firehose_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/sigv4"
)

// newSigV4BulkServer is a _bulk receiver that accepts only requests signed
// for service with the secret of key.
func newSigV4BulkServer(t testing.TB, service, key, secret string) *bulkServer {
	b := newBulkServer(t)
	b.sigv4 = &sigv4.Verifier{Keys: map[string]string{key: secret}}
	b.sigv4Service = service
	return b
}

// post sends one _bulk request to b, signed with secret for service (unsigned
// when secret is ""), and returns the status.
func (b *bulkServer) post(t testing.TB, service, key, secret string) int {
	t.Helper()
	body := []byte("{\"index\":{\"_index\":\"probe\",\"_id\":\"1\"}}\n{\"a\":1}\n")
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/_bulk", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	if secret != "" {
		sum := sha256.Sum256(body)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, req,
			hex.EncodeToString(sum[:]), service, "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (b *bulkServer) signedCreds() []sigv4.Credential {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]sigv4.Credential(nil), b.signed...)
}

// TestOpenSearchSigV4: with a DomainARN (its endpoint from the stream's
// eddy:opensearch-endpoint tag) Eddy signs every _bulk request with SigV4 for
// service "es" in the ARN's region, with the credentials it uses for S3; the
// receiver checks each signature with Eddy's verifier and refuses unsigned or
// wrongly signed requests with 403, as a domain does. A domain that refuses
// Eddy's signature gets the documents retried, then written to S3 under
// AmazonOpenSearchService-failed/ with errorCode 403.
func TestOpenSearchSigV4(t *testing.T) {
	recv := newSigV4BulkServer(t, "es", s3Key, s3Secret)
	// The receiver is honest: unsigned, wrong-secret and wrong-service
	// requests are refused, a correct one is accepted.
	for _, c := range []struct {
		service, secret string
		want            int
	}{{"es", "", 403}, {"es", "not-the-secret", 403}, {"aoss", s3Secret, 403}, {"es", s3Secret, 200}} {
		if got := recv.post(t, c.service, s3Key, c.secret); got != c.want {
			t.Fatalf("receiver answered %d to a request signed for %q with %q, want %d", got, c.service, c.secret, c.want)
		}
	}

	v := startVersity(t, "osbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	ctx := context.Background()
	domain := "arn:aws:es:eu-west-1:000000000000:domain/logs"
	create := func(name string, tags []fhtypes.Tag, endpoint *string, arn *string, retry int32) error {
		_, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(name), Tags: tags,
			AmazonopensearchserviceDestinationConfiguration: &fhtypes.AmazonopensearchserviceDestinationConfiguration{
				DomainARN: arn, ClusterEndpoint: endpoint, IndexName: aws.String("logs"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x"),
				IndexRotationPeriod: fhtypes.AmazonopensearchserviceIndexRotationPeriodNoRotation,
				BufferingHints:      &fhtypes.AmazonopensearchserviceBufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(60)},
				RetryOptions:        &fhtypes.AmazonopensearchserviceRetryOptions{DurationInSeconds: aws.Int32(retry)},
				S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::osbk"),
					RoleARN: aws.String("arn:aws:iam::000000000000:role/x"), Prefix: aws.String(name + "/")}}})
		return err
	}
	// A DomainARN without the tag that says where the domain is: refused.
	err := create("untagged", nil, nil, aws.String(domain), 60)
	if err == nil || !strings.Contains(err.Error(), "InvalidArgumentException") || !strings.Contains(err.Error(), firehose.OpenSearchEndpointTag) {
		t.Fatalf("DomainARN without the endpoint tag: %v", err)
	}
	if err := create("both", nil, aws.String(recv.srv.URL), aws.String(domain), 60); err == nil || !strings.Contains(err.Error(), "Exactly one of DomainARN or ClusterEndpoint") {
		t.Fatalf("DomainARN and ClusterEndpoint: %v", err)
	}
	tag := []fhtypes.Tag{{Key: aws.String(firehose.OpenSearchEndpointTag), Value: aws.String(recv.srv.URL)}}
	if err := create("signed", tag, nil, aws.String(domain), 60); err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "signed", [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`), []byte(`{"a":3}`)})
	srv.flush("signed")
	docs, _ := recv.snapshot()
	if len(docs) != 4 { // 3 + the probe
		t.Fatalf("%d documents indexed, want 3", len(docs)-1)
	}
	creds := recv.signedCreds()
	last := creds[len(creds)-1]
	if len(creds) != 2 || last.AccessKey != s3Key || last.Region != "eu-west-1" || last.Service != "es" ||
		!strings.Contains(strings.Join(last.SignedHeaders, ","), "x-amz-content-sha256") {
		t.Fatalf("signed requests: %+v", creds)
	}

	// A domain that does not accept Eddy's credentials: 403 on every attempt,
	// retried for RetryOptions, then the documents go to S3.
	wrong := newSigV4BulkServer(t, "es", s3Key, "another-secret")
	if err := create("denied", nil, aws.String(wrong.srv.URL), nil, 1); err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "denied", [][]byte{[]byte(`{"b":1}`), []byte(`{"b":2}`)})
	srv.flush("denied")
	failed := errorDocs(t, v, "osbk", "denied/AmazonOpenSearchService-failed/")
	if len(failed) != 2 || failed[0]["errorCode"] != "403" || !strings.Contains(failed[0]["errorMessage"].(string), "signature we calculated does not match") ||
		failed[0]["esIndexName"] != "logs" || failed[0]["attemptsMade"].(float64) < 2 {
		t.Fatalf("documents refused with 403: %v", failed)
	}
	wrong.mu.Lock()
	refused := wrong.refused
	wrong.mu.Unlock()
	if refused < 2 {
		t.Fatalf("the refused request was sent %d times, want retries", refused)
	}
	if docs, _ := wrong.snapshot(); len(docs) != 0 {
		t.Fatalf("a refused request indexed %d documents", len(docs))
	}

	// UpdateDestination to a DomainARN reads the stream's tags: refused
	// until the stream is tagged, then delivered to the tagged endpoint.
	update := func() error {
		d := describe(t, srv, "denied")
		_, err := c.UpdateDestination(ctx, &fh.UpdateDestinationInput{DeliveryStreamName: aws.String("denied"),
			CurrentDeliveryStreamVersionId: d.VersionId, DestinationId: d.Destinations[0].DestinationId,
			AmazonopensearchserviceDestinationUpdate: &fhtypes.AmazonopensearchserviceDestinationUpdate{DomainARN: aws.String(domain), ClusterEndpoint: nil}})
		return err
	}
	if err := update(); err == nil || !strings.Contains(err.Error(), firehose.OpenSearchEndpointTag) {
		t.Fatalf("update to a DomainARN without the tag: %v", err)
	}
	if _, err := c.TagDeliveryStream(ctx, &fh.TagDeliveryStreamInput{DeliveryStreamName: aws.String("denied"), Tags: tag}); err != nil {
		t.Fatal(err)
	}
	if err := update(); err != nil {
		t.Fatalf("update to a DomainARN with the tag: %v", err)
	}
	putBatch(t, c, "denied", [][]byte{[]byte(`{"c":1}`)})
	srv.flush("denied")
	if docs, _ := recv.snapshot(); len(docs) != 5 {
		t.Fatalf("%d documents after the update, want 4", len(docs)-1)
	}
}

// TestOpenSearchServerlessSigV4: a collection's requests are signed for
// service "aoss", in the region of the collection's host name.
func TestOpenSearchServerlessSigV4(t *testing.T) {
	recv := newSigV4BulkServer(t, "aoss", s3Key, s3Secret)
	v := startVersity(t, "aossbk")
	srv := startServer(t, nil, v.URL, fastDestRetry)
	c := srv.Firehose()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("aoss"),
		AmazonOpenSearchServerlessDestinationConfiguration: &fhtypes.AmazonOpenSearchServerlessDestinationConfiguration{
			CollectionEndpoint: aws.String(recv.srv.URL), IndexName: aws.String("col"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x"),
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::aossbk"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
	if err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "aoss", [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`)})
	srv.flush("aoss")
	if docs, _ := recv.snapshot(); len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	creds := recv.signedCreds()
	if len(creds) != 1 || creds[0].Service != "aoss" || creds[0].Region != "us-east-1" {
		t.Fatalf("signed requests: %+v", creds)
	}
}

// TestOpenSearchSigV4FromChain: without --s3-access-key, the signature uses
// the AWS SDK's default credential chain (here the environment's keys,
// with a session token), as S3 delivery does.
func TestOpenSearchSigV4FromChain(t *testing.T) {
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCHAIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "chain-secret")
	t.Setenv("AWS_SESSION_TOKEN", "session-token")
	recv := newSigV4BulkServer(t, "es", "AKIDCHAIN", "chain-secret")
	srv := startServer(t, nil, "http://127.0.0.1:1", fastDestRetry, func(o *firehose.Options) { o.S3AccessKey, o.S3SecretKey = "", "" })
	c := srv.Firehose()
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("chain"),
		ElasticsearchDestinationConfiguration: &fhtypes.ElasticsearchDestinationConfiguration{
			ClusterEndpoint: aws.String(recv.srv.URL), IndexName: aws.String("ev"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x"),
			S3Configuration: &fhtypes.S3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::unused"), RoleARN: aws.String("arn:aws:iam::000000000000:role/x")}}})
	if err != nil {
		t.Fatal(err)
	}
	putBatch(t, c, "chain", [][]byte{[]byte(`{"a":1}`)})
	srv.flush("chain")
	creds := recv.signedCreds()
	if len(creds) != 1 || creds[0].AccessKey != "AKIDCHAIN" || creds[0].SessionToken != "session-token" {
		t.Fatalf("signed requests: %+v", creds)
	}
}
