package firehose

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// FuzzLakePartitioning feeds any record through de-aggregation (JSON and
// DELIMITED), the JQ key extraction and prefix evaluation: no panics, and
// a record that yields keys yields every key the prefix uses.
func FuzzLakePartitioning(f *testing.F) {
	f.Add([]byte(`{"k":"a","n":1}{"k":"b","n":2.5}`))
	f.Add([]byte(`{"k":null}####{"k":[1]}####`))
	f.Add([]byte(`{"k":true,"n":1e300}`))
	f.Add([]byte("not json"))
	mk := func(sub, delim string) *lakePipeline {
		params := []ProcessorParameter{{ParameterName: ptr(paramSubType), ParameterValue: ptr(sub)}}
		if delim != "" {
			params = append(params, ProcessorParameter{ParameterName: ptr(paramDelimiter), ParameterValue: ptr(base64.StdEncoding.EncodeToString([]byte(delim)))})
		}
		c := &S3Config{
			Prefix: ptr("k=!{partitionKeyFromQuery:k}/n=!{partitionKeyFromQuery:n}/!{firehose:random-string}/"), ErrorOutputPrefix: ptr("e/!{firehose:error-output-type}/"),
			BufferingHints:                   &BufferingHints{SizeInMBs: ptr(int32(64)), IntervalInSeconds: ptr(int32(60))},
			DynamicPartitioningConfiguration: &DynamicPartitioningConfiguration{Enabled: ptr(true)},
			ProcessingConfiguration: &ProcessingConfiguration{Enabled: ptr(true), Processors: []Processor{
				{Type: ptr(procDeAgg), Parameters: params},
				{Type: ptr(procMetadata), Parameters: []ProcessorParameter{
					{ParameterName: ptr(paramQuery), ParameterValue: ptr(`{k: .k, n: .n}`)}, {ParameterName: ptr(paramEngine), ParameterValue: ptr(engineJQ16)}}},
			}},
		}
		if err := checkLake(c); err != nil {
			f.Fatal(err)
		}
		p, err := compileLake(deliveryConfig{version: "1", dest: c})
		if err != nil {
			f.Fatal(err)
		}
		return p
	}
	pipelines := []*lakePipeline{mk("JSON", ""), mk("DELIMITED", "####")}
	f.Fuzz(func(t *testing.T, rec []byte) {
		for _, p := range pipelines {
			subs, err := p.splitRecord(rec)
			if err != nil {
				continue
			}
			for _, sub := range subs {
				keys, err := p.partitionKeys(context.Background(), sub)
				if err != nil {
					continue
				}
				if _, ok := keys["k"]; !ok {
					t.Fatalf("keys %v lack k", keys)
				}
				prefix := p.prefix.EvalPartition(time.UnixMilli(0), keys, nil)
				if !strings.HasPrefix(prefix, "k="+keys["k"]+"/n="+keys["n"]+"/") {
					t.Fatalf("prefix %q for keys %v", prefix, keys)
				}
			}
		}
	})
}
