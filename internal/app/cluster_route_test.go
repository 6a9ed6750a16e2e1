package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/storage/natsstore"
)

// routeCerts writes a CA and one certificate per node (for 127.0.0.1,
// server and client use) into dir and returns the CA's file.
func routeCerts(t *testing.T, dir string, nodes int) string {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eddy-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	for i := range nodes {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: fmt.Sprint("n", i)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		write(fmt.Sprintf("n%d.crt", i), "CERTIFICATE", der)
		write(fmt.Sprintf("n%d.key", i), "EC PRIVATE KEY", kb)
	}
	return filepath.Join(dir, "ca.pem")
}

// TestClusterRouteTLSAndAuth: three nodes configured with
// --cluster-tls-cert/key/ca and --cluster-user/password form a cluster
// whose route listeners demand mutual TLS (each nats-server reports it) and
// serve Data Streams across nodes. (That a node without the credentials is
// refused: TestRouteTLSAndAuth in natsstore.)
func TestClusterRouteTLSAndAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster runs without -short")
	}
	dir := t.TempDir()
	caFile := routeCerts(t, dir, 3)
	nodes := startEmbeddedCluster(t, time.Now, func(i int, c *config.Cluster) {
		c.ClusterTLSCert = filepath.Join(dir, fmt.Sprintf("n%d.crt", i))
		c.ClusterTLSKey = filepath.Join(dir, fmt.Sprintf("n%d.key", i))
		c.ClusterTLSCA = caFile
		c.ClusterUser, c.ClusterPassword = "eddy", "route-secret"
	})
	for i, n := range nodes {
		srv := n.Backend.(*natsstore.Store).Server()
		v, err := srv.Varz(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Cluster.TLSRequired || !v.Cluster.TLSVerify || v.Cluster.TLSCertNotAfter.IsZero() {
			t.Errorf("n%d's route listener: TLS required %v, verify %v, certificate until %v; want mutual TLS with the node's certificate",
				i, v.Cluster.TLSRequired, v.Cluster.TLSVerify, v.Cluster.TLSCertNotAfter)
		}
		if n := srv.NumRoutes(); n == 0 {
			t.Errorf("n%d has no routes", i)
		}
	}
	ctx := context.Background()
	c0, c1, c2 := eddytest.Kinesis(nodes[0]), eddytest.Kinesis(nodes[1]), eddytest.Kinesis(nodes[2])
	if _, err := c0.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("sec"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "stream ACTIVE on n1", func() error {
		out, err := c1.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("sec")})
		if err != nil {
			return err
		}
		if out.StreamDescriptionSummary.StreamStatus != types.StreamStatusActive {
			return fmt.Errorf("status %s", out.StreamDescriptionSummary.StreamStatus)
		}
		return nil
	})
	put, err := c1.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("sec"), PartitionKey: aws.String("k"), Data: []byte("over tls")})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "n2 reads the record put through n1", func() error {
		it, err := c2.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("sec"), ShardId: put.ShardId,
			ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return err
		}
		out, err := c2.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			return err
		}
		if len(out.Records) != 1 || string(out.Records[0].Data) != "over tls" {
			return fmt.Errorf("records %+v", out.Records)
		}
		return nil
	})
}
