package firehose

// operations are the names Handle dispatches (kept in step with its switch
// by TestHasOperationMatchesHandle).
var operations = map[string]bool{
	"CreateDeliveryStream": true, "DeleteDeliveryStream": true, "DescribeDeliveryStream": true,
	"ListDeliveryStreams": true, "PutRecord": true, "PutRecordBatch": true, "UpdateDestination": true,
	"StartDeliveryStreamEncryption": true, "StopDeliveryStreamEncryption": true,
	"TagDeliveryStream": true, "UntagDeliveryStream": true, "ListTagsForDeliveryStream": true,
}

// HasOperation reports whether op is implemented (gateway.OperationSet), so
// the front door answers an unknown one as AWS does before reading further.
func (s *Service) HasOperation(op string) bool { return operations[op] }
