package awsproto

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// every member type of the model, as the Kinesis and Firehose shapes
// declare them
type allTypes struct {
	Str    *string            `json:"Str"`
	Int    *int64             `json:"Int"`
	Long   *int64             `json:"Long" aws:"long"`
	Bool   *bool              `json:"Bool"`
	Blob   []byte             `json:"Blob"`
	When   *Timestamp         `json:"When"`
	List   []string           `json:"List"`
	Map    *map[string]string `json:"Map"`
	Struct *struct {
		Inner *string `json:"Inner"`
	} `json:"Struct"`
	Structs []struct {
		Key *string `json:"Key"`
	} `json:"Structs"`
}

// wrongType is one value of one JSON type given for one member type.
type wrongType struct {
	member string
	value  any // encoded as JSON or CBOR by the test
	msg    string
}

// The table: every JSON value type against every member type that does not
// accept it. Sources per row are listed in docs/compat/kinesis.md.
var wrongTypes = []wrongType{
	// String
	{"Str", 23, "NUMBER_VALUE can not be converted to a String"},
	{"Str", 34.56, "NUMBER_VALUE can not be converted to a String"},
	{"Str", true, "TRUE_VALUE can not be converted to a String"},
	{"Str", false, "FALSE_VALUE can not be converted to a String"},
	{"Str", []any{}, "Start of list found where not expected"},
	{"Str", map[string]any{}, "Start of structure or map found where not expected."},
	// Integer
	{"Int", "23", "STRING_VALUE can not be converted to an Integer"},
	{"Int", true, "TRUE_VALUE can not be converted to an Integer"},
	{"Int", false, "FALSE_VALUE can not be converted to an Integer"},
	{"Int", []any{1}, "Start of list found where not expected"},
	{"Int", map[string]any{"a": 1}, "Start of structure or map found where not expected."},
	// Long
	{"Long", "23", "STRING_VALUE can not be converted to a Long"},
	{"Long", true, "TRUE_VALUE can not be converted to a Long"},
	{"Long", []any{}, "Start of list found where not expected"},
	{"Long", map[string]any{}, "Start of structure or map found where not expected."},
	// Boolean
	{"Bool", "maybe", "STRING_VALUE can not be converted to an Boolean"},
	{"Bool", 23, "NUMBER_VALUE can not be converted to a Boolean"},
	{"Bool", []any{}, "Start of list found where not expected"},
	{"Bool", map[string]any{}, "Start of structure or map found where not expected."},
	// Blob
	{"Blob", 23, "NUMBER_VALUE can not be converted to a Blob"},
	{"Blob", true, "TRUE_VALUE can not be converted to a Blob"},
	{"Blob", []any{}, "Start of list found where not expected"},
	{"Blob", map[string]any{}, "Start of structure or map found where not expected."},
	{"Blob", "23456", "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"},
	{"Blob", "=+/=", "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"},
	{"Blob", "+/+=", "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
	// Timestamp
	{"When", "2026-01-01T00:00:00Z", "class java.lang.String can not be converted to milliseconds since epoch"},
	{"When", "1515322000", "class java.lang.String can not be converted to milliseconds since epoch"},
	{"When", true, "class java.lang.Boolean can not be converted to milliseconds since epoch"},
	{"When", []any{}, "Start of list found where not expected"},
	{"When", map[string]any{}, "Start of structure or map found where not expected."},
	// List
	{"List", "23", "Expected list or null"},
	{"List", 23, "Expected list or null"},
	{"List", true, "Expected list or null"},
	{"List", map[string]any{}, "Start of structure or map found where not expected."},
	{"List", []any{23}, "NUMBER_VALUE can not be converted to a String"},
	// Map
	{"Map", "23", "Expected map or null"},
	{"Map", 23, "Expected map or null"},
	{"Map", false, "Expected map or null"},
	{"Map", []any{}, "Start of list found where not expected"},
	{"Map", map[string]any{"k": 1}, "NUMBER_VALUE can not be converted to a String"},
	// Structure
	{"Struct", "23", "Expected null"},
	{"Struct", 23, "Expected null"},
	{"Struct", true, "Expected null"},
	{"Struct", []any{}, "Start of list found where not expected"},
	{"Struct", map[string]any{"Inner": []any{}}, "Start of list found where not expected"},
	{"Structs", []any{"x"}, "Expected null"},
	{"Structs", []any{map[string]any{"Key": true}}, "TRUE_VALUE can not be converted to a String"},
}

func TestWrongMemberTypesGetAWSMessages(t *testing.T) {
	for _, tc := range wrongTypes {
		body := map[string]any{tc.member: tc.value}
		jb, _ := json.Marshal(body)
		cb, _ := cbor.Marshal(body)
		for _, c := range []struct {
			codec Codec
			b     []byte
		}{{JSON, jb}, {CBOR, cb}} {
			if c.codec == CBOR && tc.member == "Blob" && tc.msg == msgStartList {
				// deliberate difference (docs/compat/kinesis.md): the strict
				// CBOR decoder reads an array of small integers as a blob
				continue
			}
			var v allTypes
			err := Decode(c.codec, c.b, &v)
			ae, ok := awserr.As(err)
			if !ok || ae.Type != awserr.TSerialization || ae.Message != tc.msg || ae.Status != 400 {
				t.Errorf("codec %d %s: got %v, want SerializationException %q", c.codec, jb, err, tc.msg)
			}
		}
	}
}

// AWS converts some values instead of refusing them.
func TestLenientConversions(t *testing.T) {
	for _, tc := range []struct {
		body string
		chk  func(v allTypes) bool
	}{
		{`{"Int": 34.56}`, func(v allTypes) bool { return *v.Int == 34 }},
		{`{"Int": -2.9}`, func(v allTypes) bool { return *v.Int == -2 }},
		{`{"Int": 2147483648}`, func(v allTypes) bool { return *v.Int == 2147483647 }},
		{`{"Int": 1e300}`, func(v allTypes) bool { return *v.Int == 2147483647 }},
		{`{"Long": 9223372036854775808, "Int": 1.5}`, func(v allTypes) bool { return *v.Long == 9223372036854775807 }},
		{`{"Bool": "yes", "Int": 1.5}`, func(v allTypes) bool { return *v.Bool }},
		{`{"Bool": "FALSE", "Int": 1.5}`, func(v allTypes) bool { return !*v.Bool }},
		{`{"Str": null, "Int": 1.5}`, func(v allTypes) bool { return v.Str == nil }},
		{`{"When": 1506440188.749, "Int": 1.5}`, func(v allTypes) bool { return v.When.UnixMilli() == 1506440188749 }},
		{`{"Blob": "aGk=", "Int": 1.5, "Unknown": [1]}`, func(v allTypes) bool { return string(v.Blob) == "hi" }},
		// member names are case sensitive on AWS: "str" is an unknown member
		{`{"str": 5, "Int": 1.5}`, func(v allTypes) bool { return v.Str == nil }},
	} {
		var v allTypes
		if err := Decode(JSON, []byte(tc.body), &v); err != nil || !tc.chk(v) {
			t.Errorf("%s: %v %+v", tc.body, err, v)
		}
	}
	// CBOR timestamps (tag 1, milliseconds) survive the slow path
	b, _ := cbor.Marshal(map[string]any{"When": cbor.Tag{Number: 1, Content: int64(1700000000123)}, "Int": 1.5})
	var v allTypes
	if err := Decode(CBOR, b, &v); err != nil || v.When.UnixMilli() != 1700000000123 || *v.Int != 1 {
		t.Fatalf("cbor slow path: %v %+v", err, v)
	}
}

// Bodies that are not an object: no message, as AWS answers; a list at the
// top gets the list message.
func TestBodyNotAnObject(t *testing.T) {
	for body, msg := range map[string]string{`hello`: "", `{`: "", `"x"`: "", `23`: "", `[]`: "Start of list found where not expected", `{} {}`: ""} {
		var v allTypes
		err := Decode(JSON, []byte(body), &v)
		ae, ok := awserr.As(err)
		if !ok || ae.Type != awserr.TSerialization || ae.Message != msg {
			t.Errorf("%q: %v", body, err)
		}
	}
	var v allTypes
	if err := Decode(CBOR, []byte{0xff, 0x00}, &v); err == nil || !strings.Contains(err.Error(), "SerializationException") {
		t.Fatalf("bad cbor: %v", err)
	}
}

func FuzzDecodeShape(f *testing.F) {
	for _, s := range []string{`{"Int": 1.5}`, `{"Map": {"a": "b"}}`, `{"Structs": [{"Key": 1}]}`, `[]`, `{"When": "x"}`} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, useCBOR bool) {
		c := JSON
		if useCBOR {
			c = CBOR
		}
		var v allTypes
		if err := Decode(c, b, &v); err != nil {
			if _, ok := awserr.As(err); !ok {
				t.Fatalf("non-AWS error %v", err)
			}
		}
	})
}

// FuzzSplitJSON: the in-place splitters agree with encoding/json on valid
// JSON objects and lists.
func FuzzSplitJSON(f *testing.F) {
	for _, s := range []string{`{"a":"x\"y","b":[1,{"c":"]"}],"a":2}`, `[1, "a\\", {"k": [ ]}]`, `{"\u0041": 1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.TrimSpace(b)
		if !json.Valid(b) || len(b) == 0 {
			return
		}
		switch b[0] {
		case '{':
			var want map[string]json.RawMessage
			if json.Unmarshal(b, &want) != nil {
				return
			}
			got := mapEntries(rawJSON(b))
			if len(got) != len(want) {
				t.Fatalf("%s: %d keys, want %d", b, len(got), len(want))
			}
			for k, v := range want {
				g, ok := got[k].(rawJSON)
				if !ok || !jsonEqual(g, v) {
					t.Fatalf("%s: key %q = %s, want %s", b, k, g, v)
				}
			}
		case '[':
			var want []json.RawMessage
			if json.Unmarshal(b, &want) != nil {
				return
			}
			got := listOf(rawJSON(b))
			if len(got) != len(want) {
				t.Fatalf("%s: %d items, want %d", b, len(got), len(want))
			}
			for i := range want {
				if !jsonEqual(got[i].(rawJSON), want[i]) {
					t.Fatalf("%s: item %d = %s, want %s", b, i, got[i], want[i])
				}
			}
		}
	})
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
