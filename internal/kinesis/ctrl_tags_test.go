package kinesis_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func manyTags(prefix string, n int) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("%s%02d", prefix, i)] = "v"
	}
	return m
}

func TestStreamTagsRoundTrip(t *testing.T) {
	_, c := startCtrl(t)
	createStream(t, c, "tagged", 1)
	in := map[string]string{"a": "a", "ü0 _.": "a", "/=+-@:": "a", "b": "ü0 _./=+-@", "c": ""}
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: in}); err != nil {
		t.Fatal(err)
	}
	// overwrite through the ARN
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamARN: aws.String(streamARNOf("tagged")), Tags: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	in["a"] = "b"
	if got := tagMap(out.Tags); !reflect.DeepEqual(got, in) || aws.ToBool(out.HasMoreTags) {
		t.Fatalf("tags %v (more %v), want %v", got, aws.ToBool(out.HasMoreTags), in)
	}
	// unknown keys are ignored
	if _, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("tagged"), TagKeys: []string{"ü0 _.", "/=+-@:", "nope"}}); err != nil {
		t.Fatal(err)
	}
	out, err = c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamARN: aws.String(streamARNOf("tagged"))})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "b", "b": "ü0 _./=+-@", "c": ""}
	if got := tagMap(out.Tags); !reflect.DeepEqual(got, want) {
		t.Fatalf("after remove: %v, want %v", got, want)
	}
}

func TestListTagsForStreamPaging(t *testing.T) {
	_, c := startCtrl(t)
	createStream(t, c, "paged", 1)
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("paged"), Tags: manyTags("k", 5)}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var start *string
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		out, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("paged"), Limit: aws.Int32(2), ExclusiveStartTagKey: start})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tags) > 2 {
			t.Fatalf("page of %d tags with Limit 2", len(out.Tags))
		}
		for _, tg := range out.Tags {
			keys = append(keys, *tg.Key)
		}
		if !aws.ToBool(out.HasMoreTags) {
			break
		}
		start = out.Tags[len(out.Tags)-1].Key
	}
	if want := []string{"k00", "k01", "k02", "k03", "k04"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
}

func TestStreamTagErrors(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "ts", 1)
	const acct = testAccount
	badChars := "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."
	pctAdd := "Failed to add tags to stream ts under account " + acct + " because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."
	pctRemove := strings.Replace(pctAdd, "add tags to", "remove tags from", 1)
	long := strings.Repeat("a", 129)
	cases := []struct {
		name, op string
		body     map[string]any
		typ, msg string
	}{
		{"add no tags", "AddTagsToStream", map[string]any{"StreamName": "ts"}, "ValidationException",
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"add empty tags, bad name", "AddTagsToStream", map[string]any{"StreamName": "a b", "Tags": map[string]string{}}, "ValidationException",
			"2 validation errors detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"add too many", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": manyTags("t", 51)}, "ValidationException", ""},
		{"add long key", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": map[string]string{"a": "1", long: "3"}}, "ValidationException",
			"1 validation error detected: Value '{a=1, " + long + "=3}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"add long value", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": map[string]string{"c": strings.Repeat("v", 257)}}, "ValidationException",
			"1 validation error detected: Value '{c=" + strings.Repeat("v", 257) + "}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"},
		{"add no stream", "AddTagsToStream", map[string]any{"Tags": map[string]string{"a": "b"}}, "InvalidArgumentException", ""},
		{"add unknown stream", "AddTagsToStream", map[string]any{"StreamName": "nope", "Tags": map[string]string{"a": "b"}}, "ResourceNotFoundException",
			"Stream nope under account " + acct + " not found."},
		{"add semicolon key", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": map[string]string{"abc;def": "1"}}, "InvalidArgumentException", badChars},
		{"add tab key", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": map[string]string{"abc\tdef": "1"}}, "InvalidArgumentException", badChars},
		{"add newline value", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": map[string]string{"a": "abc\ndef"}}, "InvalidArgumentException", badChars},
		{"add comma value", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": map[string]string{"a": "abc,def"}}, "InvalidArgumentException", badChars},
		{"add percent key", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": map[string]string{"abc%def": "1"}}, "InvalidArgumentException", pctAdd},
		{"add percent value", "AddTagsToStream", map[string]any{"StreamName": "ts", "Tags": map[string]string{"a": "abc%def"}}, "InvalidArgumentException", pctAdd},
		{"remove no keys", "RemoveTagsFromStream", map[string]any{"StreamName": "ts"}, "ValidationException",
			"1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"},
		{"remove empty keys", "RemoveTagsFromStream", map[string]any{"StreamName": "ts", "TagKeys": []string{}}, "ValidationException",
			"1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"remove long key", "RemoveTagsFromStream", map[string]any{"StreamName": "ts", "TagKeys": []string{"a", long, "b"}}, "ValidationException",
			"1 validation error detected: Value '[a, " + long + ", b]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"},
		{"remove too many", "RemoveTagsFromStream", map[string]any{"StreamName": "ts", "TagKeys": strings.Split(strings.Repeat("k,", 51)[:101], ",")}, "ValidationException", ""},
		{"remove unknown stream", "RemoveTagsFromStream", map[string]any{"StreamName": "nope", "TagKeys": []string{";"}}, "ResourceNotFoundException",
			"Stream nope under account " + acct + " not found."},
		{"remove semicolon", "RemoveTagsFromStream", map[string]any{"StreamName": "ts", "TagKeys": []string{"abc;def"}}, "InvalidArgumentException", badChars},
		{"remove percent", "RemoveTagsFromStream", map[string]any{"StreamName": "ts", "TagKeys": []string{"abc%def"}}, "InvalidArgumentException", pctRemove},
		{"list bad limit and key", "ListTagsForStream", map[string]any{"StreamName": "ts", "Limit": 0, "ExclusiveStartTagKey": ""}, "ValidationException",
			"2 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '' at 'exclusiveStartTagKey' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"list limit too big", "ListTagsForStream", map[string]any{"StreamName": "ts", "Limit": 51}, "ValidationException",
			"1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"},
		{"list unknown stream", "ListTagsForStream", map[string]any{"StreamName": "nope"}, "ResourceNotFoundException",
			"Stream nope under account " + acct + " not found."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantRaw(t, srv, tc.op, tc.body, tc.typ, tc.msg) })
	}

	// the 50-tag total counts tags already on the stream
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("ts"), Tags: manyTags("x", 30)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("ts"), Tags: manyTags("y", 21)})
	wantErr(t, err, "InvalidArgumentException", "Failed to add tags to stream ts under account "+acct+" because a given stream cannot have more than 50 tags associated with it.")
	// overwriting existing keys does not count
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("ts"), Tags: manyTags("y", 20)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("ts"), Tags: manyTags("x", 30)}); err != nil {
		t.Fatal(err)
	}
}

func TestTagsNeedActiveStream(t *testing.T) {
	srv, c := startCtrl(t, withDelay(time.Hour))
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("slow"), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("slow"), Tags: map[string]string{"a": "b"}})
	wantErr(t, err, "ResourceInUseException", "Stream slow under account "+testAccount+" not ACTIVE, instead in state CREATING")
	_, err = c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("slow"), TagKeys: []string{"a"}})
	wantErr(t, err, "ResourceInUseException", "")
	// reading tags works in any state
	if _, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("slow")}); err != nil {
		t.Fatal(err)
	}
	_ = srv
}

func TestResourceTags(t *testing.T) {
	srv, c := startCtrl(t)
	createStream(t, c, "rt", 1)
	arn := streamARNOf("rt")
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("app"), Tags: map[string]string{"team": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	carn := aws.ToString(reg.Consumer.ConsumerARN)
	for _, res := range []string{arn, carn} {
		if _, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(res), Tags: map[string]string{"env": "dev", "k": "v"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(res), TagKeys: []string{"k", "unknown"}}); err != nil {
			t.Fatal(err)
		}
	}
	got := func(res string) map[string]string {
		out, err := c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(res)})
		if err != nil {
			t.Fatal(err)
		}
		return tagMap(out.Tags)
	}
	if g, w := got(arn), map[string]string{"env": "dev"}; !reflect.DeepEqual(g, w) {
		t.Fatalf("stream tags %v, want %v", g, w)
	}
	if g, w := got(carn), map[string]string{"env": "dev", "team": "x"}; !reflect.DeepEqual(g, w) {
		t.Fatalf("consumer tags %v, want %v", g, w)
	}
	// stream tags are the same set through either API
	lt, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("rt")})
	if err != nil {
		t.Fatal(err)
	}
	if g := tagMap(lt.Tags); !reflect.DeepEqual(g, map[string]string{"env": "dev"}) {
		t.Fatalf("ListTagsForStream %v", g)
	}

	badARN := "arn:aws:kinesis:us-east-1:" + testAccount + ":table/x"
	cases := []struct {
		name, op string
		body     map[string]any
		typ, msg string
	}{
		{"tag no arn", "TagResource", map[string]any{"Tags": map[string]string{"a": "b"}}, "ValidationException",
			"1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null"},
		{"tag bad arn", "TagResource", map[string]any{"ResourceARN": badARN, "Tags": map[string]string{"a": "b"}}, "ValidationException", ""},
		{"tag no tags", "TagResource", map[string]any{"ResourceARN": arn}, "ValidationException",
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"tag unknown stream", "TagResource", map[string]any{"ResourceARN": streamARNOf("nope"), "Tags": map[string]string{"a": "b"}}, "ResourceNotFoundException",
			"Stream nope under account " + testAccount + " not found."},
		{"tag unknown consumer", "TagResource", map[string]any{"ResourceARN": arn + "/consumer/ghost:1", "Tags": map[string]string{"a": "b"}}, "ResourceNotFoundException",
			"Consumer ghost under stream rt under account " + testAccount + " not found."},
		{"tag consumer wrong time", "TagResource", map[string]any{"ResourceARN": arn + "/consumer/app:1", "Tags": map[string]string{"a": "b"}}, "ResourceNotFoundException", ""},
		{"tag bad chars", "TagResource", map[string]any{"ResourceARN": carn, "Tags": map[string]string{"a;": "b"}}, "InvalidArgumentException",
			"Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."},
		{"tag too many", "TagResource", map[string]any{"ResourceARN": carn, "Tags": manyTags("z", 49)}, "InvalidArgumentException",
			"Failed to add tags to resource " + carn + " because a given consumer cannot have more than 50 tags associated with it."},
		{"untag empty", "UntagResource", map[string]any{"ResourceARN": arn, "TagKeys": []string{}}, "ValidationException", ""},
		{"untag unknown", "UntagResource", map[string]any{"ResourceARN": streamARNOf("nope"), "TagKeys": []string{"a"}}, "ResourceNotFoundException", ""},
		{"list bad arn", "ListTagsForResource", map[string]any{"ResourceARN": badARN}, "ValidationException", ""},
		{"list unknown consumer", "ListTagsForResource", map[string]any{"ResourceARN": arn + "/consumer/ghost:1"}, "ResourceNotFoundException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantRaw(t, srv, tc.op, tc.body, tc.typ, tc.msg) })
	}
}
