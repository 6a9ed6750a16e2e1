package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/internal/agent/convert"
)

// Service record limits (AWS): a Data Streams record is at most 1 MiB of data
// plus partition key, a PutRecords call 500 records / 5 MiB; a Firehose
// record is at most 1000 KiB, a PutRecordBatch call 500 records / 4 MiB.
const (
	kinesisMaxRecord = 1 << 20
	kinesisMaxBatch  = 5 << 20
	firehoseMaxRec   = 1000 << 10
	firehoseMaxBatch = 4 << 20
	maxBatchRecords  = 500
)

// Config is agent.json: global settings and flows. Key names and defaults
// are the AWS Kinesis Agent's; keys marked "eddy" in docs/agent.md are ours.
type Config struct {
	CheckpointFile     string
	CheckpointTTL      time.Duration
	KinesisEndpoint    string
	KinesisRegion      string
	FirehoseEndpoint   string
	FirehoseRegion     string
	STSEndpoint        string
	AccessKeyID        string
	SecretAccessKey    string
	AssumeRoleARN      string
	AssumeRoleExtID    string
	ShutdownTimeout    time.Duration
	MaxSendingThreads  int
	StatusPeriod       time.Duration
	MetricsAddr        string // eddy: metrics.listenAddress
	MaxBufferedBytes   int    // eddy: per-flow bound on queued + in-flight record bytes
	UserAgent          string
	ConnectionTimeout  time.Duration
	SocketTimeout      time.Duration
	Flows              []Flow
	unknownIgnoredKeys []string
}

// Flow is one filePattern × destination.
type Flow struct {
	FilePattern             string
	KinesisStream           string
	DeliveryStream          string
	PartitionKeyOption      string // RANDOM | DETERMINISTIC
	InitialPosition         string // START_OF_FILE | END_OF_FILE
	MaxBufferAge            time.Duration
	MaxBufferSizeBytes      int
	MaxBufferSizeRecords    int
	PublishQueueCapacity    int
	MinTimeBetweenFilePolls time.Duration
	MaxTrackerRefresh       time.Duration
	RetryInitialBackoff     time.Duration
	RetryMaxBackoff         time.Duration
	SkipHeaderLines         int
	MultiLineStartPattern   *regexp.Regexp
	FileFooterPattern       *regexp.Regexp
	TruncatedTerminator     string
	AggregatedRecordSize    int
	Converters              []convert.Converter

	// eddy extensions
	OnParseError       string        // SEND_RAW (default) | SKIP
	OversizeRecords    string        // TRUNCATE (default, as AWS) | SPLIT
	RotateWait         time.Duration // keep reading a rotated-away file this long after it stops growing
	MaxInFlightBatches int           // batches being sent at once for this flow
	MultiLineFlush     time.Duration // emit a pending multi-line record after this idle time
	FingerprintBytes   int
}

// ID is the checkpoint key of the flow, as the AWS agent forms it.
func (f *Flow) ID() string {
	if f.KinesisStream != "" {
		return "kinesis:" + f.KinesisStream + ":" + f.FilePattern
	}
	return "fh:" + f.DeliveryStream + ":" + f.FilePattern
}

// Destination is the stream name with its kind, for logs and metrics.
func (f *Flow) Destination() string {
	if f.KinesisStream != "" {
		return "KinesisStream:" + f.KinesisStream
	}
	return "DeliveryStream:" + f.DeliveryStream
}

// MaxRecordBytes is the largest record the destination takes, less room
// for a partition key (the agent's keys are at most 32 bytes).
func (f *Flow) MaxRecordBytes() int {
	if f.KinesisStream != "" {
		return kinesisMaxRecord - 32
	}
	return firehoseMaxRec
}

// LoadConfig reads agent.json and, when dir is not empty, appends the flows of
// every *.json file in dir (like /etc/aws-kinesis/agent.d).
func LoadConfig(path, dir string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if dir == "" {
		return cfg, nil
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		extra, err := ParseConfig(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		cfg.Flows = append(cfg.Flows, extra.Flows...)
	}
	return cfg, nil
}

// reader decodes one JSON object's keys with typed accessors and remembers
// which keys were used, so unknown keys can be reported by name.
type reader struct {
	prefix string
	raw    map[string]json.RawMessage
	used   map[string]bool
	err    error
}

func newReader(prefix string, data []byte) (*reader, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%snot a JSON object: %w", prefix, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("%snot a JSON object", prefix)
	}
	return &reader{prefix: prefix, raw: raw, used: map[string]bool{}}, nil
}

func (r *reader) fail(key, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s%s: %s", r.prefix, key, fmt.Sprintf(format, args...))
	}
}

func (r *reader) get(key string) (json.RawMessage, bool) {
	v, ok := r.raw[key]
	if ok {
		r.used[key] = true
	}
	return v, ok
}

// str reads a string; numbers are accepted as their text.
func (r *reader) str(key, def string) string {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String()
	}
	r.fail(key, "want a string, got %s", v)
	return def
}

// num reads an integer in [min, max]; strings holding a number are accepted
// ("1000" works, as in the AWS agent).
func (r *reader) num(key string, def, min, max int64) int64 {
	v, ok := r.get(key)
	if !ok {
		return def
	}
	s := strings.TrimSpace(string(v))
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		r.fail(key, "want an integer, got %s", v)
		return def
	}
	if n < min || n > max {
		r.fail(key, "%d is out of range [%d, %d]", n, min, max)
		return def
	}
	return n
}

func (r *reader) millis(key string, def time.Duration, min, max time.Duration) time.Duration {
	return time.Duration(r.num(key, int64(def/time.Millisecond), int64(min/time.Millisecond), int64(max/time.Millisecond))) * time.Millisecond
}

func (r *reader) oneOf(key, def string, allowed ...string) string {
	s := r.str(key, def)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.fail(key, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return def
}

func (r *reader) regex(key string) *regexp.Regexp {
	s := r.str(key, "")
	if s == "" {
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		r.fail(key, "not a valid regular expression: %v", err)
		return nil
	}
	return re
}

// unknown reports the first key that no accessor read.
func (r *reader) unknown() error {
	if r.err != nil {
		return r.err
	}
	var keys []string
	for k := range r.raw {
		if !r.used[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	return fmt.Errorf("%s%s: unknown key", r.prefix, keys[0])
}

// Keys of the AWS agent that configure things Eddy's agent does differently
// (log4j logging, CloudWatch metrics, the Java HTTP client); accepted so an
// existing agent.json loads, and listed by Ignored.
var ignoredGlobal = []string{
	"checkpoints.connectionTimeoutSeconds", "checkpoints.queryTimeoutSeconds",
	"cloudwatch.emitMetrics", "cloudwatch.tagInstance", "cloudwatch.metricsBufferTimeMillis",
	"cloudwatch.metricsQueueSize", "cloudwatch.endpoint", "cloudwatch.namespace",
	"sendingThreadsKeepAliveMillis", "sendingThreadsMaxQueueSize", "maxConnections",
	"connectionTTLMillis", "useTcpKeepAlive", "useHttpGzip", "userAgentOverride",
	"log.emitMetrics", "log.emitInternalMetrics", "log.level", "log.file", "log.maxBackupIndex", "log.maxFileSize",
	"maxSendingThreadsPerCore",
}

var ignoredFlow = []string{"log.emitInternalMetrics", "waitOnFullPublishQueueMillis", "waitOnEmptyPublishQueueMillis", "waitOnFullRetryQueueMillis"}

// Ignored lists the keys present in the file that are accepted for
// compatibility but have no effect.
func (c *Config) Ignored() []string { return c.unknownIgnoredKeys }

// ParseConfig decodes and validates agent.json. Errors name the key, e.g.
// "flows[0].maxBufferAgeMillis: 10 is out of range [1000, 900000]".
func ParseConfig(data []byte) (*Config, error) {
	r, err := newReader("", data)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	c.CheckpointFile = r.str("checkpointFile", "/var/run/aws-kinesis-agent/checkpoints")
	c.CheckpointTTL = time.Duration(r.num("checkpointTimeToLiveDays", 7, 1, 3650)) * 24 * time.Hour
	c.KinesisEndpoint = r.str("kinesis.endpoint", "")
	c.KinesisRegion = r.str("kinesis.region", "")
	c.FirehoseEndpoint = r.str("firehose.endpoint", "")
	c.FirehoseRegion = r.str("firehose.region", "")
	c.STSEndpoint = r.str("sts.endpoint", "")
	c.AccessKeyID = r.str("awsAccessKeyId", "")
	c.SecretAccessKey = r.str("awsSecretAccessKey", "")
	c.AssumeRoleARN = r.str("assumeRoleARN", "")
	c.AssumeRoleExtID = r.str("assumeRoleExternalId", "")
	c.ShutdownTimeout = r.millis("shutdownTimeoutMillis", 10*time.Second, 0, time.Hour)
	threads := int64(12 * runtime.NumCPU())
	if threads < 2 {
		threads = 2
	}
	c.MaxSendingThreads = int(r.num("maxSendingThreads", threads, 1, 10000))
	c.StatusPeriod = time.Duration(r.num("log.statusReportingPeriodSeconds", 30, 1, 86400)) * time.Second
	c.MetricsAddr = r.str("metrics.listenAddress", "")
	c.MaxBufferedBytes = int(r.num("maxBufferedBytes", 64<<20, 1<<20, 1<<40))
	c.UserAgent = r.str("userAgent", "")
	c.ConnectionTimeout = r.millis("connectionTimeoutMillis", 10*time.Second, time.Millisecond, time.Hour)
	c.SocketTimeout = r.millis("socketTimeoutMillis", 50*time.Second, time.Millisecond, time.Hour)
	if _, ok := r.get("userDefinedCredentialsProvider.classname"); ok {
		r.fail("userDefinedCredentialsProvider.classname", "Java credential providers are not supported; use awsAccessKeyId/awsSecretAccessKey, assumeRoleARN or the default credential chain")
	}
	r.get("userDefinedCredentialsProvider.location")
	for _, k := range ignoredGlobal {
		if _, ok := r.get(k); ok {
			c.unknownIgnoredKeys = append(c.unknownIgnoredKeys, k)
		}
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		r.fail("awsSecretAccessKey", "awsAccessKeyId and awsSecretAccessKey must be set together")
	}
	flowsRaw, ok := r.get("flows")
	if err := r.unknown(); err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("flows: required")
	}
	var flows []json.RawMessage
	if err := json.Unmarshal(flowsRaw, &flows); err != nil {
		return nil, fmt.Errorf("flows: want a list of objects: %w", err)
	}
	seen := map[string]int{}
	for i, fr := range flows {
		f, err := parseFlow(fmt.Sprintf("flows[%d].", i), fr)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[f.ID()]; dup {
			return nil, fmt.Errorf("flows[%d]: same filePattern and destination as flows[%d]", i, j)
		}
		seen[f.ID()] = i
		c.Flows = append(c.Flows, *f)
	}
	return c, nil
}

func parseFlow(prefix string, data []byte) (*Flow, error) {
	r, err := newReader(prefix, data)
	if err != nil {
		return nil, err
	}
	f := &Flow{}
	f.FilePattern = r.str("filePattern", "")
	f.KinesisStream = r.str("kinesisStream", "")
	f.DeliveryStream = r.str("deliveryStream", "")
	fh := f.DeliveryStream != ""
	maxBytes := int64(kinesisMaxBatch)
	if fh {
		maxBytes = firehoseMaxBatch
	}
	f.PartitionKeyOption = r.oneOf("partitionKeyOption", "RANDOM", "RANDOM", "DETERMINISTIC")
	f.InitialPosition = r.oneOf("initialPosition", "END_OF_FILE", "START_OF_FILE", "END_OF_FILE")
	f.MaxBufferAge = r.millis("maxBufferAgeMillis", time.Minute, time.Second, 15*time.Minute)
	f.MaxBufferSizeBytes = int(r.num("maxBufferSizeBytes", maxBytes, 1, maxBytes))
	f.MaxBufferSizeRecords = int(r.num("maxBufferSizeRecords", maxBatchRecords, 1, maxBatchRecords))
	f.PublishQueueCapacity = int(r.num("publishQueueCapacity", 100, 1, 100000))
	f.MinTimeBetweenFilePolls = r.millis("minTimeBetweenFilePollsMillis", 100*time.Millisecond, time.Millisecond, time.Hour)
	f.MaxTrackerRefresh = r.millis("maxTimeBetweenFileTrackerRefreshMillis", 10*time.Second, time.Millisecond, time.Hour)
	f.RetryInitialBackoff = r.millis("retryInitialBackoffMillis", 100*time.Millisecond, time.Millisecond, time.Hour)
	f.RetryMaxBackoff = r.millis("retryMaxBackoffMillis", 10*time.Second, time.Millisecond, 24*time.Hour)
	f.SkipHeaderLines = int(r.num("skipHeaderLines", 0, 0, 1<<20))
	f.MultiLineStartPattern = r.regex("multiLineStartPattern")
	f.FileFooterPattern = r.regex("fileFooterPattern")
	f.TruncatedTerminator = r.str("truncatedRecordTerminator", "\n")
	if fh {
		f.AggregatedRecordSize = int(r.num("aggregatedRecordSizeBytes", 0, 0, firehoseMaxRec))
	}
	f.OnParseError = r.oneOf("onParseError", "SEND_RAW", "SEND_RAW", "SKIP")
	f.OversizeRecords = r.oneOf("oversizeRecords", "TRUNCATE", "TRUNCATE", "SPLIT")
	f.RotateWait = r.millis("rotateWaitMillis", 5*time.Second, 0, time.Hour)
	f.MaxInFlightBatches = int(r.num("maxInFlightBatches", 4, 1, 1000))
	f.MultiLineFlush = r.millis("multiLineFlushMillis", time.Second, time.Millisecond, time.Hour)
	f.FingerprintBytes = int(r.num("fingerprintBytes", 1024, 16, 1<<20))
	for _, k := range ignoredFlow {
		r.get(k)
	}
	if dpo, ok := r.get("dataProcessingOptions"); ok {
		var opts []map[string]json.RawMessage
		if err := json.Unmarshal(dpo, &opts); err != nil {
			r.fail("dataProcessingOptions", "want a list of objects: %v", err)
		}
		for i, o := range opts {
			c, err := convert.Parse(o, convert.Options{})
			if err != nil {
				return nil, fmt.Errorf("%sdataProcessingOptions[%d].%w", prefix, i, err)
			}
			f.Converters = append(f.Converters, c)
		}
	}
	if err := r.unknown(); err != nil {
		return nil, err
	}
	switch {
	case f.FilePattern == "":
		return nil, fmt.Errorf("%sfilePattern: required", prefix)
	case !filepath.IsAbs(f.FilePattern):
		return nil, fmt.Errorf("%sfilePattern: %q must be an absolute path", prefix, f.FilePattern)
	case f.KinesisStream == "" && f.DeliveryStream == "":
		return nil, fmt.Errorf("%skinesisStream: one of kinesisStream or deliveryStream is required", prefix)
	case f.KinesisStream != "" && f.DeliveryStream != "":
		return nil, fmt.Errorf("%sdeliveryStream: set only one of kinesisStream or deliveryStream", prefix)
	case f.RetryMaxBackoff < f.RetryInitialBackoff:
		return nil, fmt.Errorf("%sretryMaxBackoffMillis: smaller than retryInitialBackoffMillis", prefix)
	case len(f.TruncatedTerminator) > 64:
		return nil, fmt.Errorf("%struncatedRecordTerminator: longer than 64 bytes", prefix)
	}
	if _, err := filepath.Match(filepath.Base(f.FilePattern), ""); err != nil {
		return nil, fmt.Errorf("%sfilePattern: bad glob: %w", prefix, err)
	}
	if _, err := filepath.Match(f.FilePattern, ""); err != nil {
		return nil, fmt.Errorf("%sfilePattern: bad glob: %w", prefix, err)
	}
	return f, nil
}
