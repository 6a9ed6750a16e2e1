package firehose

import (
	"slices"
	"testing"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// Every listed operation is dispatched by Handle (a body that does not parse
// reaches its decoder), and an unlisted one is not.
func TestOperationsMatchHandle(t *testing.T) {
	s := &Service{}
	for op := range operations {
		_, err := s.Handle(&awsproto.Request{Operation: op, Codec: awsproto.JSON, Body: []byte(`[]`), Account: "000000000000", Region: "us-east-1"})
		ae, ok := awserr.As(err)
		if !ok || ae.Type == awserr.TUnknownOperation {
			t.Errorf("%s: %v", op, err)
		}
	}
	if slices.Contains(s.Operations(), "PutRecords") {
		t.Fatal("PutRecords is Kinesis's")
	}
	_, err := s.Handle(&awsproto.Request{Operation: "PutRecords", Codec: awsproto.JSON, Body: []byte(`{}`), Account: "000000000000", Region: "us-east-1"})
	if ae, ok := awserr.As(err); !ok || ae.Type != awserr.TUnknownOperation {
		t.Fatalf("unknown: %v", err)
	}
}
