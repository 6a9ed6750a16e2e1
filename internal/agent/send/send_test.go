package send

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRegionFromEndpoint(t *testing.T) {
	cases := map[string]string{
		"firehose.eu-west-1.amazonaws.com":            "eu-west-1",
		"https://kinesis.us-east-2.amazonaws.com":     "us-east-2",
		"https://kinesis.cn-north-1.amazonaws.com.cn": "",
		"http://127.0.0.1:4567":                       "",
		"localhost":                                   "",
	}
	for in, want := range cases {
		if got := RegionFromEndpoint(in); got != want {
			t.Errorf("RegionFromEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
	if withScheme("kinesis.us-east-1.amazonaws.com") != "https://kinesis.us-east-1.amazonaws.com" || withScheme("http://x") != "http://x" {
		t.Error("withScheme")
	}
}

// A CA bundle in the environment must not break the client set-up.
func TestAWSConfigWithCABundle(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", path)
	if _, err := AWSConfig(context.Background(), ClientOptions{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b"}); err != nil {
		t.Fatal(err)
	}
}

// PutRecords partial failures map to the failed indexes, in order.
func TestKinesisPartialFailure(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if got := r.Header.Get("X-Amz-Target"); got != "Kinesis_20131202.PutRecords" {
			t.Errorf("target %q", got)
		}
		var in struct {
			StreamName string
			Records    []struct {
				Data         []byte
				PartitionKey string
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Error(err)
		}
		type res struct {
			SequenceNumber, ShardId, ErrorCode, ErrorMessage string `json:",omitempty"`
		}
		out := struct {
			FailedRecordCount int
			Records           []res
		}{}
		for i := range in.Records {
			if i%2 == 1 {
				out.FailedRecordCount++
				out.Records = append(out.Records, res{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded"})
			} else {
				out.Records = append(out.Records, res{SequenceNumber: "1", ShardId: "shardId-000000000000"})
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	cfg, err := AWSConfig(context.Background(), ClientOptions{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	k := NewKinesis(cfg, srv.URL, "s")
	res, err := k.Send(context.Background(), []Entry{{Data: []byte("a"), PartitionKey: "1"}, {Data: []byte("b"), PartitionKey: "2"}, {Data: []byte("c"), PartitionKey: "3"}, {Data: []byte("d"), PartitionKey: "4"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 2 || res.Failed[0] != 1 || res.Failed[1] != 3 || res.ErrorCode != "ProvisionedThroughputExceededException" {
		t.Errorf("result %+v", res)
	}
	if calls != 1 {
		t.Errorf("%d HTTP calls: the SDK retried on its own", calls)
	}
}
