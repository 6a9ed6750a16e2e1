package e2e

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func kinesisClient(url string, tr http.RoundTripper) *kinesis.Client {
	if tr == nil {
		tr = &http.Transport{MaxIdleConnsPerHost: 16}
	}
	return kinesis.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   &http.Client{Transport: tr},
	})
}

// checkProto creates a stream, writes and reads through client and asserts
// every response arrived over the wanted HTTP version.
func checkProto(t *testing.T, c *kinesis.Client, name string, seen *int) {
	ctx := context.Background()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("over the wire")}); err != nil {
		t.Fatal(err)
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 1 || string(out.Records[0].Data) != "over the wire" {
		t.Fatalf("records %+v", out.Records)
	}
	if *seen != 4 {
		t.Fatalf("%d responses over the expected protocol, want 4", *seen)
	}
}

type protoCheck struct {
	rt    http.RoundTripper
	major int
	seen  *int
}

func (p protoCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.rt.RoundTrip(r)
	if err == nil && resp.ProtoMajor == p.major {
		*p.seen++
	}
	return resp, err
}

// TestH2CPriorKnowledge speaks HTTP/2 without TLS, as the JavaScript SDK v3
// and the Java SDK v2 do against an http:// endpoint.
func TestH2CPriorKnowledge(t *testing.T) {
	s := startServer(t, "")
	tr := &http.Transport{}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	n := 0
	checkProto(t, kinesisClient(s.URL, protoCheck{tr, 2, &n}), "h2c", &n)
}

// TestTLSHTTP2 serves h2 (ALPN) and HTTP/1.1 over TLS on the same port.
func TestTLSHTTP2(t *testing.T) {
	cert, key := selfSigned(t)
	s := startServer(t, "", "--tls-cert", cert, "--tls-key", key)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	n := 0
	checkProto(t, kinesisClient(s.URL, protoCheck{tr, 2, &n}), "tls2", &n)
	tr1 := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	n1 := 0
	checkProto(t, kinesisClient(s.URL, protoCheck{tr1, 1, &n1}), "tls1", &n1)
}

// TestHTTP1 is the plain path the Go SDK, boto3 and the CLI use.
func TestHTTP1(t *testing.T) {
	s := startServer(t, "")
	n := 0
	checkProto(t, kinesisClient(s.URL, protoCheck{&http.Transport{}, 1, &n}), "h1", &n)
}
