package warehouse

import (
	"strings"
	"testing"
)

func TestParseCopyOptions(t *testing.T) {
	cases := []struct {
		in   string
		stmt string
	}{
		{"", `COPY "t" FROM STDIN WITH (FORMAT text, DELIMITER '|')`},
		{"JSON 'auto'", `COPY "t" FROM STDIN WITH (FORMAT csv)`},
		{"format as json 'auto ignorecase' gzip", `COPY "t" FROM STDIN WITH (FORMAT csv)`},
		{"CSV DELIMITER AS ';' QUOTE '''' IGNOREHEADER 1", `COPY "t" FROM STDIN WITH (FORMAT csv, DELIMITER ';', QUOTE '''')`},
		{"DELIMITER ',' NULL AS '\\N' TIMEFORMAT 'auto' COMPUPDATE OFF", `COPY "t" FROM STDIN WITH (FORMAT text, DELIMITER ',', NULL '\N')`},
	}
	for _, c := range cases {
		o, err := ParseCopyOptions(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if got := New(Config{Table: "t", Options: o}).Statement(nil); got != c.stmt {
			t.Errorf("%q: %s, want %s", c.in, got, c.stmt)
		}
	}
	for _, bad := range []string{"JSON 's3://bucket/jsonpaths.json'", "AVRO 'auto'", "FIXEDWIDTH 'a:1'", "MAXERROR 10", "DELIMITER 'ab'", "CSV DELIMITER", "TIMEFORMAT 'YYYY'", "QUOTE '\"'", "JSON 'auto' DELIMITER ','", "'unterminated"} {
		if _, err := ParseCopyOptions(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParseCopyOptions("MAXERROR 10"); err == nil || !strings.Contains(err.Error(), "MAXERROR") {
		t.Errorf("the refusal does not name the option: %v", err)
	}
}

func TestJSONAuto(t *testing.T) {
	out, err := jsonToCSV([]byte(`{"id":1,"name":"a,\"b\"","tags":[1,2]}{"ID":2,"name":""}`+"\n"+`{"id":3}`), []string{"id", "name", "tags"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "\"1\",\"a,\"\"b\"\"\",\"[1,2]\"\n,\"\",\n\"3\",,\n"
	if string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	out, _ = jsonToCSV([]byte(`{"ID":2}`), []string{"id"}, true)
	if string(out) != "\"2\"\n" {
		t.Fatalf("ignorecase: %q", out)
	}
	if _, err := jsonToCSV([]byte(`{"id":`), []string{"id"}, false); err == nil {
		t.Fatal("truncated JSON accepted")
	}
}

func TestDSN(t *testing.T) {
	d, err := DSN("jdbc:redshift://cluster.abc.us-east-1.redshift.amazonaws.com:5439/dev", "u", "p@ss")
	if err != nil || d != "postgres://u:p%40ss@cluster.abc.us-east-1.redshift.amazonaws.com:5439/dev?sslmode=prefer" {
		t.Fatalf("%s %v", d, err)
	}
	if _, err := DSN("https://x", "u", "p"); err == nil {
		t.Fatal("non-JDBC URL accepted")
	}
}

func FuzzParseCopyOptions(f *testing.F) {
	for _, s := range []string{"JSON 'auto'", "CSV DELIMITER ';' IGNOREHEADER 2", "NULL AS ''''", "'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseCopyOptions(s)
		if err == nil {
			_ = New(Config{Table: "t", Options: o}).Statement([]string{"a"})
		}
	})
}

func FuzzJSONToCSV(f *testing.F) {
	f.Add([]byte(`{"a":1}{"b":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = jsonToCSV(b, []string{"a", "b"}, true) })
}
