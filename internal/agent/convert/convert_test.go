package convert

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, opt string) Converter {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(opt), &raw); err != nil {
		t.Fatalf("option %s: %v", opt, err)
	}
	c, err := Parse(raw, Options{Now: func() time.Time { return time.Date(2026, 3, 1, 9, 15, 23, 123e6, time.UTC) }})
	if err != nil {
		t.Fatalf("Parse(%s): %v", opt, err)
	}
	return c
}

// Examples are the formats' documented samples (Apache httpd log docs,
// syslog(3) lines as rsyslog writes them).
func TestConverters(t *testing.T) {
	cases := []struct {
		name, opt, in, want string
	}{
		{"common apache", `{"optionName":"LOGTOJSON","logFormat":"COMMONAPACHELOG"}`,
			`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326` + "\n",
			`{"host":"127.0.0.1","ident":null,"authuser":"frank","datetime":"10/Oct/2000:13:55:36 -0700","request":"GET /apache_pb.gif HTTP/1.0","response":"200","bytes":"2326"}` + "\n"},
		{"combined apache", `{"optionName":"LOGTOJSON","logFormat":"COMBINEDAPACHELOG"}`,
			`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"` + "\n",
			`{"host":"127.0.0.1","ident":null,"authuser":"frank","datetime":"10/Oct/2000:13:55:36 -0700","request":"GET /apache_pb.gif HTTP/1.0","response":"200","bytes":"2326","referer":"http://www.example.com/start.html","agent":"Mozilla/4.08 [en] (Win98; I ;Nav)"}` + "\n"},
		{"combined with dashes and escaped quote", `{"optionName":"LOGTOJSON","logFormat":"COMBINEDAPACHELOG"}`,
			`::1 - - [25/Nov/2026:19:30:00 +0000] "GET /a\"b HTTP/1.1" 404 - "-" "Go-http-client/1.1"`,
			`{"host":"::1","ident":null,"authuser":null,"datetime":"25/Nov/2026:19:30:00 +0000","request":"GET /a\\\"b HTTP/1.1","response":"404","bytes":null,"referer":null,"agent":"Go-http-client/1.1"}` + "\n"},
		{"combined custom names", `{"optionName":"LOGTOJSON","logFormat":"COMBINEDAPACHELOG","customFieldNames":["a","b","c","d","e","f","g","h","i"]}`,
			`10.0.0.1 - - [01/Jan/2026:00:00:00 +0100] "POST /x HTTP/2.0" 201 17 "-" "curl/8.5.0"`,
			`{"a":"10.0.0.1","b":null,"c":null,"d":"01/Jan/2026:00:00:00 +0100","e":"POST /x HTTP/2.0","f":"201","g":"17","h":null,"i":"curl/8.5.0"}` + "\n"},
		{"apache error log", `{"optionName":"LOGTOJSON","logFormat":"APACHEERRORLOG"}`,
			`[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico`,
			`{"timestamp":"Fri Sep 09 10:42:29.902022 2011","module":"core","severity":"error","processid":"35708","threadid":"4328636416","client":"72.15.99.187","message":"File does not exist: /usr/local/apache2/htdocs/favicon.ico"}` + "\n"},
		{"apache error log without client", `{"optionName":"LOGTOJSON","logFormat":"APACHEERRORLOG"}`,
			`[Wed Nov 25 19:30:00.000001 2026] [mpm_event:notice] [pid 1234:tid 5678] AH00489: Apache/2.4.62 (Debian) configured -- resuming normal operations`,
			`{"timestamp":"Wed Nov 25 19:30:00.000001 2026","module":"mpm_event","severity":"notice","processid":"1234","threadid":"5678","client":null,"message":"AH00489: Apache/2.4.62 (Debian) configured -- resuming normal operations"}` + "\n"},
		{"syslog", `{"optionName":"LOGTOJSON","logFormat":"SYSLOG"}`,
			`Mar  1 09:15:23 web01 sshd[4242]: Accepted publickey for admin from 10.0.0.5 port 50022 ssh2`,
			`{"timestamp":"Mar  1 09:15:23","hostname":"web01","program":"sshd","processid":"4242","message":"Accepted publickey for admin from 10.0.0.5 port 50022 ssh2"}` + "\n"},
		{"syslog without pid", `{"optionName":"LOGTOJSON","logFormat":"SYSLOG"}`,
			`Nov 25 19:30:00 ip-10-0-0-1 kernel: [    0.000000] Linux version 6.1.0`,
			`{"timestamp":"Nov 25 19:30:00","hostname":"ip-10-0-0-1","program":"kernel","processid":null,"message":"[    0.000000] Linux version 6.1.0"}` + "\n"},
		{"rfc3339 syslog", `{"optionName":"LOGTOJSON","logFormat":"RFC3339SYSLOG"}`,
			`2026-03-01T09:15:23.123456+00:00 web01 CRON[999]: (root) CMD (run-parts /etc/cron.hourly)`,
			`{"timestamp":"2026-03-01T09:15:23.123456+00:00","hostname":"web01","program":"CRON","processid":"999","message":"(root) CMD (run-parts /etc/cron.hourly)"}` + "\n"},
		{"match pattern", `{"optionName":"LOGTOJSON","logFormat":"SYSLOG","matchPattern":"(\\w+) (\\d+)","customFieldNames":["word","num"]}`,
			"hello 42\n", `{"word":"hello","num":"42"}` + "\n"},
		{"csv", `{"optionName":"CSVTOJSON","customFieldNames":["id","name","city"]}`,
			"1,Ann,Oslo,extra\n", `{"id":"1","name":"Ann","city":"Oslo"}` + "\n"},
		{"csv missing and trailing empty", `{"optionName":"CSVTOJSON","customFieldNames":["id","name","city"]}`,
			"2,,\n", `{"id":"2","name":null,"city":null}` + "\n"},
		{"csv regex delimiter", `{"optionName":"CSVTOJSON","customFieldNames":["a","b"],"delimiter":"\\s*\\|\\s*"}`,
			"x | y\n", `{"a":"x","b":"y"}` + "\n"},
		{"csv tab", `{"optionName":"CSVTOJSON","customFieldNames":["a","b"],"delimiter":"\t"}`,
			"x\t\"q\"\n", `{"a":"x","b":"\"q\""}` + "\n"},
		{"singleline", `{"optionName":"SINGLELINE"}`,
			"  Exception in thread main\n    at Foo.bar(Foo.java:1)\n", "Exception in thread mainat Foo.bar(Foo.java:1)\n"},
		{"singleline escaped no trim", `{"optionName":"SINGLELINE","parseOptions":["NO_TRIM","ESCAPE_NEW_LINE"]}`,
			"a \n b\n", `a \n b` + "\n"},
		{"addmetadata", `{"optionName":"ADDMETADATA","metadata":{"env":"prod","n":1},"timestamp":"true"}`,
			"hello \"world\"\n", `{"ts":"2026-03-01T09:15:23.123Z","metadata":{"env":"prod","n":1},"data":"hello \"world\""}` + "\n"},
		{"invalid utf8 and control chars", `{"optionName":"ADDMETADATA","metadata":null}`,
			"a\xffb\x01\n", `{"metadata":null,"data":"a\ufffdb\u0001"}` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.opt)
			got, err := c.Convert(nil, []byte(tc.in))
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !strings.HasPrefix(tc.name, "singleline") && !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestChain(t *testing.T) {
	c1 := mustParse(t, `{"optionName":"LOGTOJSON","logFormat":"COMMONAPACHELOG"}`)
	c2 := mustParse(t, `{"optionName":"ADDMETADATA","metadata":{"host":"web01"}}`)
	ch := NewChain(c1, c2)
	got, err := ch.Convert([]byte(`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"host":"web01"},"data":"{\"host\":\"1.2.3.4\",\"ident\":null,\"authuser\":null,\"datetime\":\"10/Oct/2000:13:55:36 -0700\",\"request\":\"GET / HTTP/1.0\",\"response\":\"200\",\"bytes\":\"1\"}"}` + "\n"
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := ch.Convert([]byte("not a log line\n")); !errors.Is(err, ErrUnparsed) {
		t.Errorf("unparseable line: err = %v, want ErrUnparsed", err)
	}
}

func TestUnparsed(t *testing.T) {
	cases := []struct{ format, line string }{
		{"COMMONAPACHELOG", "garbage"},
		{"COMMONAPACHELOG", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" abc 1`},
		{"COMMONAPACHELOG", `1.2.3.4 - - [yesterday] "GET / HTTP/1.0" 200 1`},
		{"COMBINEDAPACHELOG", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1`},
		{"COMBINEDAPACHELOG", `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-" "unterminated`},
		{"APACHEERRORLOG", "[bad] message"},
		{"SYSLOG", "Mar 1 09:15:23 no-colon-here"},
		{"RFC3339SYSLOG", "Mar  1 09:15:23 web01 sshd[1]: x"},
	}
	for _, tc := range cases {
		c := mustParse(t, `{"optionName":"LOGTOJSON","logFormat":"`+tc.format+`"}`)
		if _, err := c.Convert(nil, []byte(tc.line)); !errors.Is(err, ErrUnparsed) {
			t.Errorf("%s %q: err = %v, want ErrUnparsed", tc.format, tc.line, err)
		}
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	cases := []struct{ opt, key string }{
		{`{"logFormat":"SYSLOG"}`, "optionName"},
		{`{"optionName":"NOPE"}`, "optionName"},
		{`{"optionName":"ADDEC2METADATA","logFormat":"SYSLOG"}`, "optionName"},
		{`{"optionName":"LOGTOJSON"}`, "logFormat"},
		{`{"optionName":"LOGTOJSON","logFormat":"NGINX"}`, "logFormat"},
		{`{"optionName":"LOGTOJSON","logFormat":"SYSLOG","matchPattern":"(a)"}`, "customFieldNames"},
		{`{"optionName":"LOGTOJSON","logFormat":"SYSLOG","matchPattern":"(a","customFieldNames":["x"]}`, "matchPattern"},
		{`{"optionName":"LOGTOJSON","logFormat":"SYSLOG","matchPattern":"(a)(b)","customFieldNames":["x"]}`, "customFieldNames"},
		{`{"optionName":"LOGTOJSON","logFormat":"SYSLOG","customFieldNames":["x"]}`, "customFieldNames"},
		{`{"optionName":"LOGTOJSON","logFormat":"SYSLOG","jsonFormat":"YAML"}`, "jsonFormat"},
		{`{"optionName":"LOGTOJSON","logFormat":"SYSLOG","delimiter":","}`, "delimiter"},
		{`{"optionName":"CSVTOJSON"}`, "customFieldNames"},
		{`{"optionName":"CSVTOJSON","customFieldNames":"a,b"}`, "customFieldNames"},
		{`{"optionName":"CSVTOJSON","customFieldNames":["a"],"delimiter":"("}`, "delimiter"},
		{`{"optionName":"SINGLELINE","parseOptions":["TRIM_ALL"]}`, "parseOptions"},
		{`{"optionName":"ADDMETADATA"}`, "metadata"},
		{`{"optionName":"ADDMETADATA","metadata":{},"timestamp":"yes"}`, "timestamp"},
	}
	for _, tc := range cases {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(tc.opt), &raw); err != nil {
			t.Fatal(err)
		}
		_, err := Parse(raw, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.key+":") {
			t.Errorf("Parse(%s) = %v, want an error starting with %q", tc.opt, err, tc.key+":")
		}
	}
}

func TestPrettyPrint(t *testing.T) {
	c := mustParse(t, `{"optionName":"CSVTOJSON","customFieldNames":["a"],"jsonFormat":"PRETTYPRINT"}`)
	got, err := c.Convert(nil, []byte("x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"a\": \"x\"\n}\n"; string(got) != want {
		t.Errorf("got %q want %q", got, want)
	}
}

// FuzzLogParsers feeds arbitrary lines to every log parser: no panic, and a
// parsed line always yields valid JSON ending in a newline.
func FuzzLogParsers(f *testing.F) {
	for _, s := range []string{
		`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
		`::1 - - [25/Nov/2026:19:30:00 +0000] "GET /a\"b HTTP/1.1" 404 - "-" "x\\"`,
		`[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist`,
		`Mar  1 09:15:23 web01 sshd[4242]: Accepted`,
		`2026-03-01T09:15:23.123456+00:00 web01 CRON[999]: (root) CMD`,
		"a,b,\xff,\"c\"\n", "", "\n", `"`, `1 2 3 [`,
	} {
		f.Add([]byte(s))
	}
	var convs []Converter
	for _, o := range []string{
		`{"optionName":"LOGTOJSON","logFormat":"COMMONAPACHELOG"}`,
		`{"optionName":"LOGTOJSON","logFormat":"COMBINEDAPACHELOG"}`,
		`{"optionName":"LOGTOJSON","logFormat":"APACHEERRORLOG"}`,
		`{"optionName":"LOGTOJSON","logFormat":"SYSLOG"}`,
		`{"optionName":"LOGTOJSON","logFormat":"RFC3339SYSLOG"}`,
		`{"optionName":"CSVTOJSON","customFieldNames":["a","b","c"]}`,
		`{"optionName":"SINGLELINE"}`,
		`{"optionName":"ADDMETADATA","metadata":{"k":"v"},"timestamp":true}`,
	} {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(o), &raw); err != nil {
			f.Fatal(err)
		}
		c, err := Parse(raw, Options{})
		if err != nil {
			f.Fatal(err)
		}
		convs = append(convs, c)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, c := range convs {
			out, err := c.Convert(nil, line)
			if err != nil {
				if !errors.Is(err, ErrUnparsed) {
					t.Fatalf("%s: unexpected error %v", c.Name(), err)
				}
				continue
			}
			if len(out) == 0 || out[len(out)-1] != '\n' {
				t.Fatalf("%s: output %q does not end in a newline", c.Name(), out)
			}
			if c.Name() != "SINGLELINE" && !json.Valid(out) {
				t.Fatalf("%s: invalid JSON %q for %q", c.Name(), out, line)
			}
		}
	})
}
