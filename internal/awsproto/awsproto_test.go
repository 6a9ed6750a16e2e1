package awsproto

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type shape struct {
	Name  *string    `json:"Name"`
	Data  []byte     `json:"Data"`
	When  *Timestamp `json:"When"`
	Count *int64     `json:"Count"`
	List  []struct {
		Key *string `json:"Key"`
	} `json:"List"`
}

func TestTimestampJSON(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		want string
	}{{1506440188749, "1506440188.749"}, {1506440188700, "1506440188.7"}, {1506440188000, "1506440188"}, {5, "0.005"}} {
		b, _ := json.Marshal(Timestamp{time.UnixMilli(tc.ms)})
		if string(b) != tc.want {
			t.Fatalf("%d -> %s, want %s", tc.ms, b, tc.want)
		}
		var back Timestamp
		if err := json.Unmarshal(b, &back); err != nil || back.UnixMilli() != tc.ms {
			t.Fatalf("%s -> %d %v", b, back.UnixMilli(), err)
		}
	}
}

func TestTimestampCBORIsTag1Millis(t *testing.T) {
	b, err := Encode(CBOR, shape{When: TSMillis(1700000000123)})
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ When cbor.RawTag }
	if err := cbor.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var ms int64
	if m.When.Number != 1 || cbor.Unmarshal(m.When.Content, &ms) != nil || ms != 1700000000123 {
		t.Fatalf("tag %d content %x", m.When.Number, []byte(m.When.Content))
	}
	var back shape
	if err := Decode(CBOR, b, &back); err != nil || back.When.UnixMilli() != 1700000000123 {
		t.Fatalf("decode: %v %v", back.When, err)
	}
}

func TestDecodeErrorsAreSerializationExceptions(t *testing.T) {
	for _, body := range []string{`{`, `{"Count":"x"}`, `[1]`, `{"Data":"!!"}`, `{"When":"never"}`} {
		var s shape
		err := Decode(JSON, []byte(body), &s)
		ae, ok := awserr.As(err)
		if !ok || ae.Type != awserr.TSerialization || ae.Status != 400 {
			t.Fatalf("%s: %v", body, err)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"Name":"a","Data":"AAE=","When":1.5,"Count":3,"List":[{"Key":"k"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"When":"2020-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s shape
		if err := Decode(JSON, b, &s); err != nil {
			if _, ok := awserr.As(err); !ok {
				t.Fatalf("non-AWS error %v", err)
			}
			return
		}
		if _, err := Encode(JSON, s); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDecodeCBOR(f *testing.F) {
	b, _ := Encode(CBOR, shape{Name: new(string), Data: []byte{1}, When: TSMillis(5)})
	f.Add(b)
	f.Add([]byte{0xbf, 0xff})
	f.Add([]byte{0xa1, 0x64, 'W', 'h', 'e', 'n', 0xc1, 0xfb, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s shape
		if err := Decode(CBOR, b, &s); err != nil {
			if _, ok := awserr.As(err); !ok {
				t.Fatalf("non-AWS error %v", err)
			}
			return
		}
		if _, err := Encode(CBOR, s); err != nil {
			t.Fatal(err)
		}
	})
}
