package config

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// envOf is an environment lookup over a map.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeFile writes a --config file and returns its path.
func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "eddy.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := Parse("eddy server", nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c != Default() {
		t.Fatalf("no flags: %+v, want %+v", c, Default())
	}
}

// Every key can come from a flag, from EDDY_<KEY> and from the file, and
// gives the same value.
func TestEverySource(t *testing.T) {
	vals := map[string]string{
		"addr": "0.0.0.0:9999", "data-dir": "/tmp/d", "durability": "interval=5ms", "region": "eu-west-1",
		"account": "123456789012", "tls-cert": "c.pem", "tls-key": "k.pem", "auth": "sigv4", "credentials": "creds",
		"enforce-limits": "true", "transition-delay": "250ms", "shard-limit": "1000000", "init-streams": "a:2",
		"log-level": "debug", "s3-endpoint": "http://127.0.0.1:1", "s3-access-key": "AK", "s3-secret-key": "SK",
		"s3-region": "eu-central-1", "pprof": "true",
	}
	want := Config{
		Addr: "0.0.0.0:9999", DataDir: "/tmp/d", Durability: "interval=5ms", Region: "eu-west-1",
		Account: "123456789012", TLSCert: "c.pem", TLSKey: "k.pem", Auth: "sigv4", Credentials: "creds",
		EnforceLimits: true, TransitionDelay: 250 * time.Millisecond, ShardLimit: 1000000, InitStreams: "a:2",
		LogLevel: "debug", S3Endpoint: "http://127.0.0.1:1", S3AccessKey: "AK", S3SecretKey: "SK",
		S3Region: "eu-central-1", Pprof: true,
	}
	var args []string
	env := map[string]string{}
	var file []string
	for k, v := range vals {
		args = append(args, "--"+k+"="+v)
		env["EDDY_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))] = v
		switch k {
		case "enforce-limits", "pprof":
			file = append(file, `"`+k+`": `+v) // a JSON boolean
		case "shard-limit":
			file = append(file, `"`+k+`": `+v) // a JSON number
		default:
			file = append(file, `"`+k+`": "`+v+`"`)
		}
	}
	for name, run := range map[string]func() (Config, error){
		"flags": func() (Config, error) { return Parse("eddy server", args, envOf(nil)) },
		"env":   func() (Config, error) { return Parse("eddy server", nil, envOf(env)) },
		"file": func() (Config, error) {
			return Parse("eddy server", []string{"--config", writeFile(t, "{"+strings.Join(file, ",")+"}")}, envOf(nil))
		},
	} {
		got, err := run()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// Numbers in the file keep their exact text: 1000000 was read as a
// float64 and given to the flag as "1e+06", which an int flag refuses.
func TestFileNumbersExact(t *testing.T) {
	for _, tc := range []struct {
		json string
		want int
	}{
		{`{"shard-limit": 1000000}`, 1000000},
		{`{"shard-limit": 123456789}`, 123456789},
		{`{"shard-limit": 9007199254740993}`, 9007199254740993}, // beyond float64's exact integers
		{`{"shard-limit": "42"}`, 42},
	} {
		c, err := Parse("eddy server", []string{"--config", writeFile(t, tc.json)}, envOf(nil))
		if err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if c.ShardLimit != tc.want {
			t.Errorf("%s: shard limit %d, want %d", tc.json, c.ShardLimit, tc.want)
		}
	}
	// a fraction is refused by the int flag, not rounded
	_, err := Parse("eddy server", []string{"--config", writeFile(t, `{"shard-limit": 1.5}`)}, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), `key "shard-limit"`) {
		t.Fatalf("fractional shard limit: %v", err)
	}
}

// flag beats environment beats file beats default, key by key.
func TestPrecedence(t *testing.T) {
	file := writeFile(t, `{"region": "file-region", "shard-limit": 300, "log-level": "warn", "s3-region": "file-s3"}`)
	env := envOf(map[string]string{"EDDY_REGION": "env-region", "EDDY_SHARD_LIMIT": "200", "EDDY_DATA_DIR": "/env"})
	c, err := Parse("eddy server", []string{"--config", file, "--region", "flag-region"}, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, got, want string }{
		{"region: flag over env and file", c.Region, "flag-region"},
		{"data-dir: env over default", c.DataDir, "/env"},
		{"log-level: file over default", c.LogLevel, "warn"},
		{"s3-region: file over default", c.S3Region, "file-s3"},
		{"addr: default", c.Addr, Default().Addr},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.key, tc.got, tc.want)
		}
	}
	if c.ShardLimit != 200 {
		t.Errorf("shard-limit: env over file: %d, want 200", c.ShardLimit)
	}
	// a flag given with the default's value still wins over env and file
	c, err = Parse("eddy server", []string{"--config", file, "--shard-limit", "20000"}, env)
	if err != nil || c.ShardLimit != 20000 {
		t.Fatalf("explicit flag equal to the default: %d %v", c.ShardLimit, err)
	}
	// an empty variable is unset: the file's value stays
	c, err = Parse("eddy server", []string{"--config", file}, envOf(map[string]string{"EDDY_REGION": ""}))
	if err != nil || c.Region != "file-region" {
		t.Fatalf("empty EDDY_REGION: %q %v", c.Region, err)
	}
	// the config file itself cannot come from the environment (it is not a key)
	c, err = Parse("eddy server", nil, envOf(map[string]string{"EDDY_CONFIG": file}))
	if err != nil || c.Region != Default().Region {
		t.Fatalf("EDDY_CONFIG: %q %v", c.Region, err)
	}
}

// Every error Parse and Validate can return.
func TestErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		file string // written and passed as --config when set
		want string // substring of the error
	}{
		{name: "unknown flag", args: []string{"--nope"}, want: "flag provided but not defined: -nope"},
		{name: "bad int flag", args: []string{"--shard-limit", "many"}, want: `invalid value "many" for flag -shard-limit`},
		{name: "bad bool flag", args: []string{"--pprof=maybe"}, want: `invalid boolean value "maybe" for -pprof`},
		{name: "bad duration flag", args: []string{"--transition-delay", "5"}, want: `invalid value "5" for flag -transition-delay`},
		{name: "extra arguments", args: []string{"serve", "now"}, want: "unexpected arguments: [serve now]"},
		{name: "missing file", args: []string{"--config", missing}, want: "config file: open " + missing},
		{name: "not JSON", file: `shard-limit = 3`, want: "invalid character 's'"},
		{name: "JSON array", file: `[1]`, want: "cannot unmarshal array"},
		{name: "JSON null", file: `null`, want: "not a JSON object"},
		{name: "two objects", file: `{} {}`, want: "data after the JSON object"},
		{name: "truncated", file: `{"region": "x"`, want: "unexpected EOF"},
		{name: "unknown key", file: `{"shard_limit": 3}`, want: `unknown key "shard_limit"`},
		{name: "config key", file: `{"config": "other.json"}`, want: `unknown key "config"`},
		{name: "array value", file: `{"init-streams": ["a"]}`, want: `key "init-streams": want a string, number or boolean, got an array`},
		{name: "object value", file: `{"region": {}}`, want: `key "region": want a string, number or boolean, got an object`},
		{name: "null value", file: `{"region": null}`, want: `key "region": want a string, number or boolean, got null`},
		{name: "bad file value", file: `{"enforce-limits": "yes"}`, want: `key "enforce-limits": parse error`},
		{name: "bad env value", env: map[string]string{"EDDY_SHARD_LIMIT": "lots"}, want: "EDDY_SHARD_LIMIT: parse error"},
		{name: "empty addr", args: []string{"--addr", ""}, want: "addr: empty"},
		{name: "bad auth", args: []string{"--auth", "basic"}, want: `auth: "basic" is not none or sigv4`},
		{name: "sigv4 without credentials", args: []string{"--auth", "sigv4"}, want: "auth sigv4 needs --credentials FILE"},
		{name: "cert without key", args: []string{"--tls-cert", "c.pem"}, want: "tls-cert and tls-key go together"},
		{name: "key without cert", args: []string{"--tls-key", "k.pem"}, want: "tls-cert and tls-key go together"},
		{name: "short account", args: []string{"--account", "123"}, want: `account: "123" is not 12 digits`},
		{name: "letters in account", args: []string{"--account", "12345678901a"}, want: `account: "12345678901a" is not 12 digits`},
		{name: "empty region", args: []string{"--region", ""}, want: "region: empty"},
		{name: "bad durability", args: []string{"--durability", "sometimes"}, want: `durability: "sometimes" is not always, interval[=DURATION] or none`},
		{name: "zero shard limit", args: []string{"--shard-limit", "0"}, want: "shard-limit: must be at least 1"},
		{name: "file shard limit zero", file: `{"shard-limit": 0}`, want: "shard-limit: must be at least 1"},
		{name: "bad log level", env: map[string]string{"EDDY_LOG_LEVEL": "loud"}, want: `log-level: "loud" is not debug, info, warn or error`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				args = append([]string{"--config", writeFile(t, tc.file)}, args...)
			}
			_, err := Parse("eddy server", args, envOf(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// Validate reports every problem at once
	c := Default()
	c.Addr, c.Region, c.ShardLimit = "", "", 0
	err := c.Validate()
	for _, want := range []string{"addr: empty", "region: empty", "shard-limit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("joined errors %v lack %q", err, want)
		}
	}
	// -h is flag.ErrHelp, which `eddy server` turns into a clean exit
	if _, err := Parse("eddy server", []string{"-h"}, envOf(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// FuzzDecodeFile: any file content gives values or an error, never a
// panic; every JSON number comes back as its own text.
func FuzzDecodeFile(f *testing.F) {
	for _, s := range []string{`{"shard-limit": 1000000}`, `{"a": "b", "c": true}`, `{"x": 1e3, "y": -0.5}`, `[]`, `null`, `{"a": {}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeFile(b)
		if err != nil {
			return
		}
		if m == nil {
			t.Fatal("nil map without an error")
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("decodeFile accepted what encoding/json refuses: %v", err)
		}
		for k, v := range raw {
			if c := v[0]; c == '-' || c >= '0' && c <= '9' {
				if m[k] != string(v) {
					t.Fatalf("key %q: number %s came back as %q", k, v, m[k])
				}
			}
		}
	})
}

// The README's flag table names every server flag: each Config key (the
// flag's name) and --config appear as `--name` in its "Server flags"
// section.
func TestREADMEListsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Server flags\n")
	if !ok {
		t.Fatal(`README.md has no "## Server flags" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	names := []string{"config"}
	for _, rt := range []reflect.Type{reflect.TypeOf(Config{}), reflect.TypeOf(Cluster{})} {
		for i := 0; i < rt.NumField(); i++ {
			if n := rt.Field(i).Tag.Get("json"); n != "-" {
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		if !strings.Contains(section, "`--"+n+"`") && !strings.Contains(section, "`--"+n+" ") {
			t.Errorf("README's flag table lacks --%s", n)
		}
	}
}
