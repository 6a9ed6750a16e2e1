package awsproto

import (
	"encoding/json"
	"testing"
)

func FuzzAppendJSONString(f *testing.F) {
	f.Add([]byte("plain"))
	f.Add([]byte("quote\" back\\ nl\n tab\t ctl\x01 \u2028 <&>"))
	f.Add([]byte{0xff, 'a', 0xc3})
	f.Fuzz(func(t *testing.T, s []byte) {
		out := AppendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, out, err)
		}
		want, _ := json.Marshal(string(s)) // encoding/json's reading of the same bytes
		var wantS string
		json.Unmarshal(want, &wantS)
		if back != wantS {
			t.Fatalf("%q: got %q, encoding/json %q", s, back, wantS)
		}
	})
}

func TestScanner(t *testing.T) {
	s := &Scanner{B: []byte(` { "a" : null , "b":"x\y" } `)}
	if !s.Eat('{') || s.Peek() != '"' {
		t.Fatal("open")
	}
	if k, ok := s.Str(); !ok || string(k) != "a" || !s.Eat(':') || !s.Null() || !s.Eat(',') {
		t.Fatal("first member")
	}
	if k, ok := s.Str(); !ok || string(k) != "b" || !s.Eat(':') {
		t.Fatal("second key")
	}
	if _, ok := s.Str(); ok {
		t.Fatal("an escape must stop the scanner")
	}
	for _, in := range []string{`"é"`, "\"a\x01\"", `"open`} {
		if _, ok := (&Scanner{B: []byte(in)}).Str(); ok {
			t.Fatalf("%q accepted", in)
		}
	}
	if !(&Scanner{B: []byte(" \n")}).End() {
		t.Fatal("End")
	}
}
