package bench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/awsproto/eventstream"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/eddytest"
	kin "github.com/eddy-streams/eddy/internal/kinesis"
)

// TestFanoutRateAgainstEddy runs the fixed-rate fan-out phases over every
// protocol against an in-process Eddy in clear and one with TLS: every
// subscription must get every record in order (Run fails otherwise), and
// the report must count the deliveries and time each of them.
func TestFanoutRateAgainstEddy(t *testing.T) {
	clear := eddytest.Start(t)
	cert, key := selfSigned(t)
	secure := eddytest.Start(t, eddytest.WithConfig(func(c *config.Config) { c.TLSCert, c.TLSKey = cert, key }))
	cases := []struct {
		name   string
		client string
		conns  string
		window int
		protos []string
	}{
		{"lean", "lean", "consumer", 0, []string{"h1", "h2c", "h1tls", "h2"}},
		{"lean-1MiB-window", "lean", "subscription", 1 << 20, []string{"h2c", "h2"}},
		{"go-client-conn-each", "go", "subscription", 0, []string{"h2c", "h2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := Options{
				Endpoint: clear.URL(), TLSEndpoint: secure.URL(), Mode: "fanout", Stream: "bench-rate-" + c.name,
				Shards: 2, RecordSize: 256, Duration: 300 * time.Millisecond,
				RateBytesPerShard: 64 << 10, Subscribers: []int{0, 3}, SubscribeProtos: c.protos,
				H2Client: c.client, SubscribeConns: c.conns, H2Window: c.window,
			}
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatalf("Run: %v\nreport: %+v", err, rep)
			}
			want := ratePhases(c.protos, []int{0, 3})
			if len(rep.Phases) != len(want) {
				t.Fatalf("got %d phases, want %v", len(rep.Phases), want)
			}
			for i, p := range rep.Phases {
				proto, n, _ := parseRatePhase(want[i])
				if p.Phase != want[i] || p.Proto != proto || p.SubscribersPerShard != n {
					t.Errorf("phase %d = %s (%s, %d), want %s", i, p.Phase, p.Proto, p.SubscribersPerShard, want[i])
				}
				if wantTarget := map[bool]string{false: "endpoint", true: "tls-endpoint"}[protoTLS(proto)]; p.Target != wantTarget {
					t.Errorf("phase %s ran against %s, want %s", p.Phase, p.Target, wantTarget)
				}
				// 64 KiB/s of 256-byte records into 2 shards for 0.3 s: about 150.
				if p.Records < 50 || p.Errors != 0 || p.Throttles != 0 {
					t.Errorf("phase %s: %d records, %d errors, %d throttles", p.Phase, p.Records, p.Errors, p.Throttles)
				}
				if p.Deliveries != int64(n)*p.Records {
					t.Errorf("phase %s: %d deliveries for %d records × %d subscribers per shard", p.Phase, p.Deliveries, p.Records, n)
				}
				if n > 0 && (p.EndToEnd == nil || p.EndToEnd.Count != uint64(p.Deliveries) || p.EndToEnd.P50 <= 0 || p.ConsumerCalls == 0) {
					t.Errorf("phase %s: put→delivered %+v, %d events, for %d deliveries", p.Phase, p.EndToEnd, p.ConsumerCalls, p.Deliveries)
				}
			}
			var out bytes.Buffer
			if err := Write(&out, rep, false); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "fixed-rate fan-out: 65536 bytes/s") {
				t.Errorf("report lacks the fixed-rate table:\n%s", out.String())
			}
		})
	}
}

// rateEvent frames a SubscribeToShardEvent whose records carry tag and the
// given indices, as the server writes them.
func rateEvent(t *testing.T, tag [8]byte, idx ...int64) []byte {
	t.Helper()
	var recs []string
	for _, i := range idx {
		data := make([]byte, 40)
		copy(data, tag[:])
		binary.BigEndian.PutUint64(data[16:], uint64(i))
		recs = append(recs, fmt.Sprintf(`{"SequenceNumber":"%d","ApproximateArrivalTimestamp":1.5,"Data":"%s","PartitionKey":"k"}`, i, base64.StdEncoding.EncodeToString(data)))
	}
	payload := `{"Records":[` + strings.Join(recs, ",") + `],"ContinuationSequenceNumber":"7","MillisBehindLatest":0}`
	f, err := eventstream.AppendMessage(nil, eventstream.EventMessage("SubscribeToShardEvent", "application/json", []byte(payload)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRateReaderChecksOrder feeds a reader events with records missing,
// repeated or of another run: it must count exactly the in-order records
// of its own run and fail on the first index out of place.
func TestRateReaderChecksOrder(t *testing.T) {
	tag, other := [8]byte{1, 2, 3}, [8]byte{9}
	initial, _ := eventstream.AppendMessage(nil, eventstream.EventMessage("initial-response", "application/json", []byte("{}")))
	cases := []struct {
		name    string
		events  [][]byte
		got     int64
		wantErr string
	}{
		{"in order", [][]byte{rateEvent(t, tag, 0, 1), rateEvent(t, tag, 2), rateEvent(t, other, 0)}, 3, ""},
		{"lost", [][]byte{rateEvent(t, tag, 0, 1), rateEvent(t, tag, 3)}, 2, "record 3 arrived where 2 was next"},
		{"repeated", [][]byte{rateEvent(t, tag, 0, 1), rateEvent(t, tag, 1)}, 2, "record 1 arrived where 2 was next"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := append([]byte{}, initial...)
			for _, e := range c.events {
				body = append(body, e...)
			}
			s := &rateSub{proto: "h1"}
			ready := make(chan error, 1)
			started := false
			cont, err := s.readResponse(&target{base: time.Now()}, response{status: 200, major: 1, body: io.NopCloser(bytes.NewReader(body))}, tag, &started, ready)
			if c.wantErr == "" && (err != nil || cont != "7") {
				t.Fatalf("readResponse = %q, %v", cont, err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("readResponse error %v, want %q", err, c.wantErr)
			}
			if got := s.got.Load(); got != c.got || !started {
				t.Errorf("counted %d records (started %v), want %d", got, started, c.got)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1MiB": 1 << 20, "1 MiB": 1 << 20, "500KB": 500e3, "1048576": 1 << 20, "0.5MiB": 1 << 19, "2mb": 2e6} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1 furlong", "-1MiB", "1..2"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

// TestFanoutCosts checks the cost summary: per-delivery CPU, the marginal
// cost against the nearest 0-subscriber phase of the same server, and the
// ratios to HTTP/1.1 (h1tls for h2 when present).
func TestFanoutCosts(t *testing.T) {
	ph := func(name, target string, cpu float64, deliveries int64) PhaseResult {
		return PhaseResult{Phase: name, Target: target, Seconds: 10, ServerCPU: cpu, Deliveries: deliveries}
	}
	phases := []PhaseResult{
		ph("fanout-rate-h1-0", "endpoint", 2, 0),
		ph("fanout-rate-h1-20", "endpoint", 4, 1e6),  // 4 µs, marginal 2
		ph("fanout-rate-h2c-20", "endpoint", 5, 1e6), // 5 µs, marginal 3
		ph("fanout-rate-h1tls-0", "tls-endpoint", 3, 0),
		ph("fanout-rate-h1tls-20", "tls-endpoint", 5, 1e6), // marginal 2
		ph("fanout-rate-h2-20", "tls-endpoint", 6, 1e6),    // marginal 3
	}
	got := fanoutCosts(phases)
	want := []FanoutCost{
		{Proto: "h1", SubscribersPerShard: 20, Phases: 1, MicrosPerDelivery: 4, Marginal: 2},
		{Proto: "h2c", SubscribersPerShard: 20, Phases: 1, MicrosPerDelivery: 5, Marginal: 3, VsH1: 1.25, MarginalVsH1: 1.5},
		{Proto: "h1tls", SubscribersPerShard: 20, Phases: 1, MicrosPerDelivery: 5, Marginal: 2, VsH1: 1.25, MarginalVsH1: 1},
		{Proto: "h2", SubscribersPerShard: 20, Phases: 1, MicrosPerDelivery: 6, Marginal: 3, VsH1: 1.2, MarginalVsH1: 1.5},
	}
	if len(got) != len(want) {
		t.Fatalf("fanoutCosts = %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
		if g.Proto != w.Proto || g.Phases != w.Phases || !near(g.MicrosPerDelivery, w.MicrosPerDelivery) || !near(g.Marginal, w.Marginal) || !near(g.VsH1, w.VsH1) || !near(g.MarginalVsH1, w.MarginalVsH1) {
			t.Errorf("cost %d = %+v, want %+v", i, g, w)
		}
	}
}

func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eddy-bench-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestFanoutRateResubscribes shortens the subscription lifetime so every
// subscription ends several times during the phase: the readers must
// resubscribe after their last continuation number and still see every
// record exactly once and in order, over HTTP/1.1 and both HTTP/2 clients.
func TestFanoutRateResubscribes(t *testing.T) {
	srv := eddytest.Start(t)
	srv.Kinesis.SetFanoutOptions(kin.FanoutOptions{Lifetime: 150 * time.Millisecond, Heartbeat: 50 * time.Millisecond})
	for _, client := range []string{"lean", "go"} {
		o := Options{
			Endpoint: srv.URL(), Mode: "fanout", Stream: "bench-resub-" + client,
			Shards: 2, RecordSize: 128, Duration: 700 * time.Millisecond,
			RateBytesPerShard: 32 << 10, Subscribers: []int{2}, SubscribeProtos: []string{"h1", "h2c"}, H2Client: client,
		}
		rep, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%s client: Run: %v\nreport: %+v", client, err, rep)
		}
		for _, p := range rep.Phases {
			if p.Records < 100 || p.Deliveries != 2*p.Records {
				t.Errorf("%s client, phase %s: %d deliveries of %d records", client, p.Phase, p.Deliveries, p.Records)
			}
		}
	}
}
