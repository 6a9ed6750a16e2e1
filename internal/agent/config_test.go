package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The AWS documentation's sample configuration, with string-valued numbers
// as the AWS agent accepts them.
const awsSample = `{
  "cloudwatch.emitMetrics": true,
  "kinesis.endpoint": "https://your/kinesis/endpoint",
  "firehose.endpoint": "https://your/firehose/endpoint",
  "awsAccessKeyId": "AKIDEXAMPLE",
  "awsSecretAccessKey": "secret",
  "flows": [
    {
      "filePattern": "/tmp/app.log*",
      "kinesisStream": "yourkinesisstream",
      "partitionKeyOption": "DETERMINISTIC",
      "maxBufferAgeMillis": "5000",
      "dataProcessingOptions": [{"optionName": "LOGTOJSON", "logFormat": "COMBINEDAPACHELOG"}]
    },
    {
      "filePattern": "/tmp/app2.log*",
      "deliveryStream": "yourdeliverystream",
      "initialPosition": "START_OF_FILE",
      "aggregatedRecordSizeBytes": 4096,
      "multiLineStartPattern": "^\\d{4}-",
      "skipHeaderLines": 1,
      "truncatedRecordTerminator": "~"
    }
  ]
}`

func TestParseAWSSample(t *testing.T) {
	c, err := ParseConfig([]byte(awsSample))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Flows) != 2 {
		t.Fatalf("flows = %d", len(c.Flows))
	}
	k, f := c.Flows[0], c.Flows[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"checkpointFile default", c.CheckpointFile, "/var/run/aws-kinesis-agent/checkpoints"},
		{"shutdown default", c.ShutdownTimeout, 10 * time.Second},
		{"kinesis endpoint", c.KinesisEndpoint, "https://your/kinesis/endpoint"},
		{"flow id", k.ID(), "kinesis:yourkinesisstream:/tmp/app.log*"},
		{"fh flow id", f.ID(), "fh:yourdeliverystream:/tmp/app2.log*"},
		{"string number", k.MaxBufferAge, 5 * time.Second},
		{"kinesis batch bytes default", k.MaxBufferSizeBytes, 5 << 20},
		{"firehose batch bytes default", f.MaxBufferSizeBytes, 4 << 20},
		{"records default", k.MaxBufferSizeRecords, 500},
		{"initial position default", k.InitialPosition, "END_OF_FILE"},
		{"initial position", f.InitialPosition, "START_OF_FILE"},
		{"partition key", k.PartitionKeyOption, "DETERMINISTIC"},
		{"converters", len(k.Converters), 1},
		{"aggregation", f.AggregatedRecordSize, 4096},
		{"skip header", f.SkipHeaderLines, 1},
		{"terminator", f.TruncatedTerminator, "~"},
		{"multiline", f.MultiLineStartPattern.String(), `^\d{4}-`},
		{"retry backoff defaults", [2]time.Duration{k.RetryInitialBackoff, k.RetryMaxBackoff}, [2]time.Duration{100 * time.Millisecond, 10 * time.Second}},
		{"onParseError default", k.OnParseError, "SEND_RAW"},
		{"ignored keys", strings.Join(c.Ignored(), ","), "cloudwatch.emitMetrics"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	flow := func(extra string) string {
		return `{"flows":[{"filePattern":"/var/log/x.log","kinesisStream":"s"` + extra + `}]}`
	}
	cases := []struct{ doc, want string }{
		{`{"flows":[], "kinesisEndpoint":"x"}`, "kinesisEndpoint: unknown key"},
		{`{}`, "flows: required"},
		{`[]`, "not a JSON object"},
		{flow(`,"maxBufferAgeMillis":10`), "flows[0].maxBufferAgeMillis: 10 is out of range"},
		{flow(`,"maxBufferSizeRecords":501`), "flows[0].maxBufferSizeRecords: 501 is out of range"},
		{flow(`,"maxBufferSizeRecords":"many"`), "flows[0].maxBufferSizeRecords: want an integer"},
		{flow(`,"partitionKeyOption":"HASH"`), "flows[0].partitionKeyOption:"},
		{flow(`,"filepattern":"/x"`), "flows[0].filepattern: unknown key"},
		{flow(`,"multiLineStartPattern":"("`), "flows[0].multiLineStartPattern: not a valid regular expression"},
		{flow(`,"dataProcessingOptions":[{"optionName":"LOGTOJSON","logFormat":"X"}]`), "flows[0].dataProcessingOptions[0].logFormat:"},
		{flow(`,"deliveryStream":"d"`), "flows[0].deliveryStream: set only one"},
		{flow(`,"aggregatedRecordSizeBytes":10`), "flows[0].aggregatedRecordSizeBytes: unknown key"},
		{`{"flows":[{"filePattern":"x.log","kinesisStream":"s"}]}`, "flows[0].filePattern: \"x.log\" must be an absolute path"},
		{`{"flows":[{"kinesisStream":"s"}]}`, "flows[0].filePattern: required"},
		{`{"flows":[{"filePattern":"/a"}]}`, "flows[0].kinesisStream: one of"},
		{`{"awsAccessKeyId":"a","flows":[]}`, "awsSecretAccessKey: awsAccessKeyId and awsSecretAccessKey must be set together"},
		{`{"userDefinedCredentialsProvider.classname":"x","flows":[]}`, "userDefinedCredentialsProvider.classname:"},
		{`{"flows":[{"filePattern":"/a","kinesisStream":"s"},{"filePattern":"/a","kinesisStream":"s"}]}`, "flows[1]: same filePattern"},
	}
	for _, tc := range cases {
		_, err := ParseConfig([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%s) = %v, want an error containing %q", tc.doc, err, tc.want)
		}
	}
}

func TestLoadConfigDir(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "agent.json")
	if err := os.WriteFile(main, []byte(`{"flows":[{"filePattern":"/a","kinesisStream":"s"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(dir, "agent.d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "more.json"), []byte(`{"flows":[{"filePattern":"/b","deliveryStream":"f"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(main, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Flows) != 2 || c.Flows[1].DeliveryStream != "f" {
		t.Errorf("flows = %+v", c.Flows)
	}
}

// FuzzParseConfig: any bytes either parse or give an error, never a panic;
// a parsed config has valid flows.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(awsSample))
	f.Add([]byte(`{"flows":[{"filePattern":"/a/*.log","kinesisStream":"s","maxBufferSizeRecords":"7"}]}`))
	f.Add([]byte(`{"flows":[{"filePattern":"/a","deliveryStream":"d","dataProcessingOptions":[{"optionName":"CSVTOJSON","customFieldNames":["a"]}]}]}`))
	f.Add([]byte(`{"flows":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		for _, fl := range c.Flows {
			if fl.FilePattern == "" || (fl.KinesisStream == "") == (fl.DeliveryStream == "") {
				t.Fatalf("invalid flow accepted: %+v", fl)
			}
			if fl.MaxBufferSizeRecords < 1 || fl.MaxBufferSizeRecords > 500 {
				t.Fatalf("maxBufferSizeRecords %d accepted", fl.MaxBufferSizeRecords)
			}
		}
	})
}
