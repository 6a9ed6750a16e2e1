package firehose_test

import (
	"context"
	"testing"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/storage/memstore"
)

var ops = []string{"CreateDeliveryStream", "DeleteDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams", "PutRecord",
	"PutRecordBatch", "UpdateDestination", "StartDeliveryStreamEncryption", "StopDeliveryStreamEncryption",
	"TagDeliveryStream", "UntagDeliveryStream", "ListTagsForDeliveryStream"}

// FuzzHandle feeds arbitrary request bodies (JSON and CBOR) to every
// operation of a service that already has a stream: no panics, and every
// error is an AWS error.
func FuzzHandle(f *testing.F) {
	seeds := []string{
		`{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::b","RoleARN":"arn:aws:iam::0:role/r","Prefix":"!{timestamp:yyyy}","ErrorOutputPrefix":"e/!{firehose:error-output-type}"}}`,
		`{"DeliveryStreamName":"s","Records":[{"Data":"aGVsbG8="}]}`,
		`{"DeliveryStreamName":"s","Record":{"Data":"aGVsbG8="}}`,
		`{"DeliveryStreamName":"s","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"BufferingHints":{"SizeInMBs":1}}}`,
		`{"DeliveryStreamName":"s","Tags":[{"Key":"k","Value":"v"}]}`,
		`{"Limit":0}`, `[]`, `{"DeliveryStreamName":null}`, "\xa1\x62hi\x01",
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s), false)
	}
	be := memstore.New(nil)
	svc, err := firehose.New(firehose.Options{Backend: be, Logger: quietLogger(f), S3Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		f.Fatal(err)
	}
	_, err = svc.Handle(&awsproto.Request{Ctx: context.Background(), Operation: "CreateDeliveryStream", Body: []byte(seeds[0])})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte, cbor bool) {
		req := &awsproto.Request{Ctx: context.Background(), Operation: ops[int(op)%len(ops)], Body: body}
		if cbor {
			req.Codec = awsproto.CBOR
		}
		if req.Operation == "DeleteDeliveryStream" {
			return // keep the stream for the other operations
		}
		out, err := svc.Handle(req)
		if err != nil {
			if _, ok := err.(interface{ Error() string }); !ok {
				t.Fatalf("non-error %T", err)
			}
			return
		}
		if _, err := awsproto.Encode(req.Codec, out); err != nil {
			t.Fatalf("%s: encode response: %v", req.Operation, err)
		}
	})
}

// FuzzLoadMeta gives New arbitrary persisted metadata: it must fail cleanly
// or load, never panic.
func FuzzLoadMeta(f *testing.F) {
	f.Add([]byte(`{"version":1,"streams":[{"account":"000000000000","region":"us-east-1","name":"s","id":"abc","type":"DirectPut","status":"ACTIVE","version":1,"dest":{"BucketARN":"arn:aws:s3:::b","BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":300}},"delivered":3}]}`))
	f.Add([]byte(`{"version":1,"streams":[{"name":"s","dest":{}}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"streams":[null]}`))
	f.Fuzz(func(t *testing.T, blob []byte) {
		be := memstore.New(nil)
		if err := be.SaveMeta("firehose", blob); err != nil {
			t.Fatal(err)
		}
		svc, err := firehose.New(firehose.Options{Backend: be, Logger: quietLogger(t)})
		if err != nil {
			return
		}
		for _, op := range []string{"ListDeliveryStreams", "DescribeDeliveryStream"} {
			_, _ = svc.Handle(&awsproto.Request{Ctx: context.Background(), Operation: op, Body: []byte(`{"DeliveryStreamName":"s"}`)})
		}
	})
}
