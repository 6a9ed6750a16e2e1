package firehose

import (
	"context"
	"encoding/base64"
	"reflect"
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

// FuzzLakeKeys checks the field-picking fast path of MetadataExtraction
// (lake_keys.go) against gojq: for every record, the same partition keys,
// or a failure from both.
func FuzzLakeKeys(f *testing.F) {
	for _, s := range []string{`{"k":"a","n":1,"x":{"y":true}}`, `{"k":1e300,"n":-0.5,"x":null}`, `{"k":"a","k":"b","n":[1],"x":{"y":{}}}`,
		`{"k":"\u00e9\ud800","n":123456789012345678901234567890,"x":5}`, `[1]`, `null`, `{"k":"a"} x`, `{"n":1e400,"k":"a"}`, `{"k":"a","n":1,"z":1e999}`,
		`{"x":{"y":"a","y":null},"k":false,"n":12345678901234567}`} {
		f.Add([]byte(s))
	}
	type pair struct{ fast, slow *lakePipeline }
	var pairs []pair
	for _, q := range []string{`{k: .k, n: .n}`, `{ k : .x.y , n: .k, k: .n }`, `{k:.x.y.z,n:.x}`} {
		c := &S3Config{
			Prefix:                           ptr("k=!{partitionKeyFromQuery:k}/n=!{partitionKeyFromQuery:n}/"),
			BufferingHints:                   &BufferingHints{SizeInMBs: ptr(int32(64)), IntervalInSeconds: ptr(int32(60))},
			DynamicPartitioningConfiguration: &DynamicPartitioningConfiguration{Enabled: ptr(true)},
			ProcessingConfiguration: &ProcessingConfiguration{Enabled: ptr(true), Processors: []Processor{
				{Type: ptr(procMetadata), Parameters: []ProcessorParameter{
					{ParameterName: ptr(paramQuery), ParameterValue: ptr(q)}, {ParameterName: ptr(paramEngine), ParameterValue: ptr(engineJQ16)}}},
			}},
		}
		fast, err := compileLake(deliveryConfig{version: "1", dest: c})
		if err != nil {
			f.Fatal(err)
		}
		if fast.fields == nil {
			f.Fatalf("query %s is not on the fast path", q)
		}
		slow := *fast
		slow.fields = nil
		pairs = append(pairs, pair{fast, &slow})
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		for _, p := range pairs {
			got, err := p.fast.partitionKeys(context.Background(), rec)
			want, werr := p.slow.partitionKeys(context.Background(), rec)
			if (err == nil) != (werr == nil) {
				t.Fatalf("%q: fast path error %v, gojq error %v", rec, err, werr)
			}
			if err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: fast path keys %v, gojq keys %v", rec, got, want)
			}
		}
	})
}

func TestParseFieldQuery(t *testing.T) {
	for q, want := range map[string]bool{
		`{c: .customer_id}`: true, ` { a : .b.c , d:.e } `: true, `{c: .customer_id | ascii_downcase}`: false,
		`{c: .a[0]}`: false, `{"c": .a}`: false, `{if: .a}`: false, `{c: .}`: false, `{c: .a?}`: false, `{c: .a} | .c`: false, `{c: .a,}`: false,
	} {
		if got := parseFieldQuery(q) != nil; got != want {
			t.Errorf("parseFieldQuery(%q) fast = %v, want %v", q, got, want)
		}
	}
}
