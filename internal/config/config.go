// Package config holds the server's one Config struct. Flags, environment
// variables (EDDY_<FLAG_NAME>, e.g. EDDY_DATA_DIR) and a JSON file
// (--config) set the same keys; precedence is flag > environment > file >
// default.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is every server setting.
type Config struct {
	Addr            string        `json:"addr"`
	DataDir         string        `json:"data-dir"`
	Durability      string        `json:"durability"`
	Region          string        `json:"region"`
	Account         string        `json:"account"`
	TLSCert         string        `json:"tls-cert"`
	TLSKey          string        `json:"tls-key"`
	Auth            string        `json:"auth"`
	Credentials     string        `json:"credentials"`
	EnforceLimits   bool          `json:"enforce-limits"`
	TransitionDelay time.Duration `json:"transition-delay"`
	ShardLimit      int           `json:"shard-limit"`
	InitStreams     string        `json:"init-streams"`
	LogLevel        string        `json:"log-level"`
	S3Endpoint      string        `json:"s3-endpoint"`
	S3AccessKey     string        `json:"s3-access-key"`
	S3SecretKey     string        `json:"s3-secret-key"`
	S3Region        string        `json:"s3-region"`
	Pprof           bool          `json:"pprof"`
	// CORSOrigins lists the browser origins allowed with --auth none
	// (comma-separated, "*" for any); empty sends no CORS headers.
	CORSOrigins string `json:"cors-origins"`
	// Cluster is cluster mode (cluster.go).
	Cluster Cluster `json:"-"`
}

// Default is the embedded configuration `eddy server` runs with.
func Default() Config {
	return Config{
		Addr:       "127.0.0.1:4567",
		DataDir:    "./eddy-data",
		Durability: "always",
		Region:     "us-east-1",
		Account:    "000000000000",
		Auth:       "none",
		ShardLimit: 20000,
		LogLevel:   "info",
		S3Region:   "us-east-1",
	}
}

// Validate checks the values.
func (c *Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr: empty"))
	}
	if c.Auth != "none" && c.Auth != "sigv4" {
		errs = append(errs, fmt.Errorf("auth: %q is not none or sigv4", c.Auth))
	}
	if c.Auth == "sigv4" && c.Credentials == "" {
		errs = append(errs, errors.New("auth sigv4 needs --credentials FILE"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together"))
	}
	if len(c.Account) != 12 || strings.Trim(c.Account, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("account: %q is not 12 digits", c.Account))
	}
	if c.Region == "" {
		errs = append(errs, errors.New("region: empty"))
	}
	d := c.Durability
	if !(d == "always" || d == "none" || d == "interval" || strings.HasPrefix(d, "interval=")) {
		errs = append(errs, fmt.Errorf("durability: %q is not always, interval[=DURATION] or none", d))
	}
	if c.ShardLimit < 1 {
		errs = append(errs, errors.New("shard-limit: must be at least 1"))
	}
	for _, o := range c.CORSOriginList() {
		if o != "*" && !strings.Contains(o, "://") {
			errs = append(errs, fmt.Errorf("cors-origins: %q is not * or scheme://host[:port]", o))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	errs = append(errs, c.Cluster.validate()...)
	return errors.Join(errs...)
}

// Parse builds a Config from args (without the subcommand) and the
// environment.
func Parse(name string, args []string, env func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	file := fs.String("config", "", "JSON file with the same keys as the flags")
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (HTTP/1.1, h2c, and h2 with TLS)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory")
	fs.StringVar(&c.Durability, "durability", c.Durability, "always | interval[=DURATION] | none")
	fs.StringVar(&c.Region, "region", c.Region, "region when a request's credentials name none")
	fs.StringVar(&c.Account, "account", c.Account, "account when the access key is not a 12-digit account id")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS key file (PEM)")
	fs.StringVar(&c.Auth, "auth", c.Auth, "none | sigv4")
	fs.StringVar(&c.Credentials, "credentials", c.Credentials, "access keys for --auth sigv4 (AWS credentials INI or JSON map)")
	fs.BoolVar(&c.EnforceLimits, "enforce-limits", c.EnforceLimits, "enforce per-shard throughput quotas")
	fs.DurationVar(&c.TransitionDelay, "transition-delay", c.TransitionDelay, "how long CREATING/UPDATING/DELETING last")
	fs.IntVar(&c.ShardLimit, "shard-limit", c.ShardLimit, "account shard quota")
	fs.StringVar(&c.InitStreams, "init-streams", c.InitStreams, "streams to create at start: name:shards[:region],...")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug | info | warn | error")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", c.S3Endpoint, "S3-compatible endpoint for Firehose delivery")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", c.S3AccessKey, "S3 access key")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", c.S3SecretKey, "S3 secret key")
	fs.StringVar(&c.S3Region, "s3-region", c.S3Region, "S3 region")
	fs.BoolVar(&c.Pprof, "pprof", c.Pprof, "serve /debug/pprof")
	fs.StringVar(&c.CORSOrigins, "cors-origins", c.CORSOrigins, "browser origins allowed (comma list, * for any); with --auth sigv4 every origin is answered, as AWS does")
	registerCluster(fs, &c.Cluster)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	// file first, then env, then flags again (flags win)
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return c, fmt.Errorf("config file: %w", err)
		}
		fileVals, err := decodeFile(b)
		if err != nil {
			return c, fmt.Errorf("config file %s: %w", *file, err)
		}
		for _, k := range sortedKeys(fileVals) {
			f := fs.Lookup(k)
			if f == nil || k == "config" {
				return c, fmt.Errorf("config file %s: unknown key %q", *file, k)
			}
			if given[k] {
				continue
			}
			if err := f.Value.Set(fileVals[k]); err != nil {
				return c, fmt.Errorf("config file %s: key %q: %w", *file, k, err)
			}
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil || f.Name == "config" {
			return
		}
		key := "EDDY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := env(key); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", key, e)
			}
		}
	})
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

// decodeFile reads a --config file: one JSON object whose values are
// strings, numbers or booleans, returned as the text a flag would be given.
// Numbers keep their exact text ({"shard-limit": 1000000} is "1000000",
// not 1e+06).
func decodeFile(b []byte) (map[string]string, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var raw map[string]any
	if err := d.Decode(&raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("not a JSON object")
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		default:
			return nil, fmt.Errorf("key %q: want a string, number or boolean, got %s", k, jsonKind(v))
		}
	}
	return out, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// sortedKeys makes the first error in a file the same on every run.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CORSOriginList splits CORSOrigins.
func (c *Config) CORSOriginList() []string {
	var out []string
	for _, o := range strings.Split(c.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, strings.TrimRight(o, "/"))
		}
	}
	return out
}
