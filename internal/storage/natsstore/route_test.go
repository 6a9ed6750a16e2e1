package natsstore_test

import (
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/eddy-streams/eddy/internal/storage/natsstore"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(dir, name+".pem")
	writePEM(t, file, "CERTIFICATE", der)
	return &testCA{cert: cert, key: key, file: file}
}

// leaf issues a certificate for 127.0.0.1 usable by a route's both ends.
func (ca *testCA) leaf(t *testing.T, dir, name string) *natsstore.TLSFiles {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	f := &natsstore.TLSFiles{CertFile: filepath.Join(dir, name+".crt"), KeyFile: filepath.Join(dir, name+".key"), CAFile: ca.file}
	writePEM(t, f.CertFile, "CERTIFICATE", der)
	writePEM(t, f.KeyFile, "EC PRIVATE KEY", kb)
	return f
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// errLog is a nats-server logger that hands its error lines to the test.
type errLog struct {
	mu   sync.Mutex
	errs []string
	ch   chan struct{} // closed and replaced at each error
}

func newErrLog() *errLog { return &errLog{ch: make(chan struct{})} }

func (l *errLog) Errorf(f string, v ...any) {
	l.mu.Lock()
	l.errs = append(l.errs, fmt.Sprintf(f, v...))
	close(l.ch)
	l.ch = make(chan struct{})
	l.mu.Unlock()
}
func (l *errLog) Noticef(string, ...any) {}
func (l *errLog) Warnf(f string, v ...any) {
	l.Errorf(f, v...) // route refusals are logged at either level
}
func (l *errLog) Fatalf(f string, v ...any) { l.Errorf(f, v...) }
func (l *errLog) Debugf(string, ...any)     {}
func (l *errLog) Tracef(string, ...any)     {}

// waitFor waits until an error line containing one of subs arrives after
// from (an index into errs) and returns it.
func (l *errLog) waitFor(t *testing.T, from int, subs ...string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		for _, e := range l.errs[min(from, len(l.errs)):] {
			for _, s := range subs {
				if strings.Contains(strings.ToLower(e), s) {
					l.mu.Unlock()
					return e
				}
			}
		}
		ch := l.ch
		l.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no error with %q within 30 s; errors: %q", subs, l.errs[min(from, len(l.errs)):])
		}
	}
}

func (l *errLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.errs)
}

// TestRouteTLSAndAuth: two nodes whose routes need mutual TLS (certificates
// from the cluster's CA) and a route password form a cluster; a third node
// with the wrong password, without TLS, or with a certificate from another
// CA is refused by them and never gets a route.
func TestRouteTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	ca, rogueCA := newCA(t, dir, "ca"), newCA(t, dir, "rogue-ca")
	addrs := freePorts(t, 3)
	clusterName := uniqueClusterName()
	logs := []*errLog{newErrLog(), newErrLog()}
	good := make([]*server.Server, 2)
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			s, err := natsstore.StartServer(natsstore.ServerConfig{Name: fmt.Sprint("good", i), StoreDir: t.TempDir(),
				Cluster: addrs[i], Peers: []string{addrs[1-i]}, ClusterName: clusterName, RouteTLS: ca.leaf(t, dir, fmt.Sprint("good", i)),
				RouteUser: "eddy", RoutePassword: "s3cret", Logger: logs[i]})
			good[i] = s
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, s := range good {
			s.Shutdown()
		}
	})
	waitRoutes := func(s *server.Server, n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for s.NumRoutes() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s has %d routes, want %d", s.Name(), s.NumRoutes(), n)
			}
			time.Sleep(20 * time.Millisecond) // polling the server's route count
		}
	}
	waitRoutes(good[0], 1)
	waitRoutes(good[1], 1)
	// peers names the servers good0 has routes to
	peers := func() map[string]bool {
		t.Helper()
		rz, err := good[0].Routez(&server.RoutezOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, r := range rz.Routes {
			m[r.RemoteName] = true
		}
		return m
	}
	if p := peers(); !p["good1"] {
		t.Fatalf("good0's routes go to %v, want good1", p)
	}

	for _, c := range []struct {
		name     string
		tls      *natsstore.TLSFiles
		password string
		want     []string // what the good node logs when it refuses
	}{
		{"wrong password", ca.leaf(t, dir, "bad1"), "guess", []string{"authorization", "authentication"}},
		{"no tls", nil, "s3cret", []string{"tls"}},
		{"other ca", rogueCA.leaf(t, dir, "bad3"), "s3cret", []string{"tls", "certificate"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			from := logs[0].count()
			bad, err := natsstore.StartServer(natsstore.ServerConfig{Name: "bad", StoreDir: t.TempDir(),
				Cluster: addrs[2], Peers: addrs[:2], ClusterName: clusterName, RouteTLS: c.tls, RouteUser: "eddy", RoutePassword: c.password})
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Shutdown()
			line := logs[0].waitFor(t, from, c.want...)
			t.Logf("good0 refused the route: %s", line)
			// The refused connection may still count on the bad node for the
			// moment good0 takes to close it: it must be gone shortly after.
			deadline := time.Now().Add(5 * time.Second)
			for bad.NumRoutes() != 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := bad.NumRoutes(); n != 0 {
				t.Errorf("the node with %s still has %d routes 5 s after the refusal, want 0", c.name, n)
			}
			if p := peers(); p["bad"] || !p["good1"] {
				t.Errorf("good0's routes go to %v after the attempt, want good1 only", p)
			}
		})
	}
}
