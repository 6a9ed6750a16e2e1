package firehose

// operations are the names Handle dispatches (kept in step with its switch
// by TestOperationsMatchHandle).
var operations = map[string]bool{
	"CreateDeliveryStream": true, "DeleteDeliveryStream": true, "DescribeDeliveryStream": true,
	"ListDeliveryStreams": true, "PutRecord": true, "PutRecordBatch": true, "UpdateDestination": true,
	"StartDeliveryStreamEncryption": true, "StopDeliveryStreamEncryption": true,
	"TagDeliveryStream": true, "UntagDeliveryStream": true, "ListTagsForDeliveryStream": true,
}

// Operations lists the operation names Handle serves: the gateway answers
// any other as unknown before reading further, and labels its request
// counter with these only (gateway.OperationLister).
func (s *Service) Operations() []string {
	out := make([]string, 0, len(operations))
	for op := range operations {
		out = append(out, op)
	}
	return out
}
