package lambda

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/storage/natsstore"
)

// TestMigrateLegacyBlob: functions and mappings saved as the single
// "lambda" blob (before per-item keys) are copied into the items when a
// node starts in cluster mode, their extracted code zipped again into the
// object store (another node extracts it byte for byte), and the blob is
// emptied, so the copy happens once.
func TestMigrateLegacyBlob(t *testing.T) {
	st, err := natsstore.OpenEmbedded(t.TempDir(), "migrate")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("bootstrap")
	w.Write([]byte("#!/bin/sh\necho hi\n"))
	w, _ = zw.Create("lib/data.txt")
	w.Write([]byte("payload"))
	zw.Close()

	old, err := New(Options{Backend: st, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	code, err := old.extractZip("f", zb.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	k := fkey{"000000000000", "us-east-1", "f"}
	old.mu.Lock()
	f := &function{storedFunction: storedFunction{Account: k.account, Region: k.region, CodeDir: code.dir,
		Config: FunctionConfiguration{FunctionName: "f", CodeSha256: code.sha}}}
	f.pool = old.newPool(f)
	old.funcs[k] = f
	old.mappings["u-1"] = &mapping{s: old, set: mappingSettings{UUID: "u-1", Account: k.account, Region: k.region, FunctionArn: "x"}}
	if err := old.saveLocked(); err != nil {
		t.Fatal(err)
	}
	old.mu.Unlock()
	old.Close()

	open := func() *Service {
		s, err := New(Options{Backend: st, Shared: st, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	for range 2 { // the second start finds the items, not the blob
		s := open()
		s.mu.Lock()
		g := s.funcs[k]
		nm := len(s.mappings)
		s.mu.Unlock()
		if g == nil || nm != 1 || s.mappings["u-1"] == nil {
			t.Fatalf("after migration: function %v, %d mappings", g != nil, nm)
		}
		if g.CodeObject == "" || g.CodeDir == code.dir {
			t.Fatalf("code not replicated: object %q, dir %q", g.CodeObject, g.CodeDir)
		}
		for name, want := range map[string]string{"bootstrap": "#!/bin/sh\necho hi\n", "lib/data.txt": "payload"} {
			b, err := os.ReadFile(filepath.Join(g.CodeDir, name))
			if err != nil || string(b) != want {
				t.Fatalf("%s extracted from the replicated zip: %q, %v", name, b, err)
			}
		}
	}
	b, err := st.LoadMeta("lambda")
	if err != nil {
		t.Fatal(err)
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil || len(p.Functions)+len(p.Mappings) != 0 {
		t.Fatalf("legacy blob after migration: %s (%v)", b, err)
	}
}

// flakyObjects fails the first object reads, as a store without quorum.
type flakyObjects struct {
	*natsstore.Store
	fails atomic.Int32
}

func (f *flakyObjects) GetObject(name string) ([]byte, error) {
	if f.fails.Add(-1) >= 0 {
		return nil, errors.New("no quorum")
	}
	return f.Store.GetObject(name)
}

// TestRefetchCode: a node that cannot read a function's replicated zip
// when the function arrives still lists it, and installs the code once
// the store answers again.
func TestRefetchCode(t *testing.T) {
	st, err := natsstore.OpenEmbedded(t.TempDir(), "refetch")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("bootstrap")
	w.Write([]byte("v1"))
	zw.Close()
	if err := st.PutObject("lambda-code/a/r/f/x", zb.Bytes()); err != nil {
		t.Fatal(err)
	}
	blob, _ := json.Marshal(storedFunction{Account: "a", Region: "r", CodeObject: "lambda-code/a/r/f/x", Config: FunctionConfiguration{FunctionName: "f"}})
	if _, err := st.PutItem(itemNamespace, "fn/a/r/f", 0, blob); err != nil {
		t.Fatal(err)
	}
	fl := &flakyObjects{Store: st}
	fl.fails.Store(2)
	s, err := New(Options{Backend: st, Shared: fl, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		if f := s.funcs[fkey{"a", "r", "f"}]; f != nil {
			return f.CodeDir
		}
		return "missing"
	}
	if d := dir(); d != "" {
		t.Fatalf("code dir before the store answers: %q, want the function listed without code", d)
	}
	deadline := time.Now().Add(10 * time.Second)
	for dir() == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(dir(), "bootstrap"))
	if err != nil || string(b) != "v1" {
		t.Fatalf("code after the store answers again: %q, %v", b, err)
	}
}
