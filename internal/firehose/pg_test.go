//go:build linux

package firehose_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgServer is a PostgreSQL server (the machine image's, or one installed by
// scripts/setup.d/60-postgres.sh) in a temporary directory on a loopback port.
type pgServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	cred *syscall.Credential
}

func pgBin(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(m) == 0 {
		t.Fatal("PostgreSQL is not installed (run scripts/setup.d/60-postgres.sh)")
	}
	return filepath.Dir(m[len(m)-1])
}

func startPostgres(t testing.TB) *pgServer {
	t.Helper()
	p := &pgServer{t: t, bin: pgBin(t)}
	dir, err := os.MkdirTemp("", "eddy-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { p.Stop(); os.RemoveAll(dir) })
	if os.Geteuid() == 0 { // initdb refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(p.bin, "initdb"), "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	p.port, _ = strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	p.Start()
	return p
}

func (p *pgServer) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *pgServer) JDBC() string {
	return fmt.Sprintf("jdbc:postgresql://127.0.0.1:%d/postgres", p.port)
}

// Start (re)starts the server on the same port and data directory.
func (p *pgServer) Start() {
	p.t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, "postgres"), "-D", filepath.Join(p.dir, "data"), "-p", strconv.Itoa(p.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+p.dir, "-c", "fsync=off")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	attr := childAttr()
	attr.Credential = p.cred
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start postgres: %v", err)
	}
	p.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, p.DSN())
		cancel()
		if err == nil {
			c.Close(context.Background())
			return
		}
		time.Sleep(50 * time.Millisecond) // polling a port until it opens; no state to wait on otherwise
	}
	p.t.Fatal("postgres did not start")
}

// Stop shuts the server down (fast shutdown) and waits.
func (p *pgServer) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	_ = p.cmd.Wait()
	p.cmd = nil
}

func (p *pgServer) exec(sql string) {
	p.t.Helper()
	c, err := pgx.Connect(context.Background(), p.DSN())
	if err != nil {
		p.t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), sql); err != nil {
		p.t.Fatalf("%s: %v", sql, err)
	}
}

// rows returns the query's rows, each as its columns' text joined by "|".
func (p *pgServer) rows(sql string) []string {
	p.t.Helper()
	c, err := pgx.Connect(context.Background(), p.DSN())
	if err != nil {
		p.t.Fatal(err)
	}
	defer c.Close(context.Background())
	rs, err := c.Query(context.Background(), sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		p.t.Fatal(err)
	}
	var out []string
	for rs.Next() {
		vals := rs.RawValues()
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = string(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rs.Err(); err != nil {
		p.t.Fatal(err)
	}
	return out
}
