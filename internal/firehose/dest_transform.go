package firehose

// Data transformation on destinations beyond S3 (HTTP endpoint,
// OpenSearch/Elasticsearch/Serverless, Splunk, Redshift): the
// ProcessingConfiguration of the destination's configuration.
//
// Processors per destination (AWS's API model allows ProcessingConfiguration
// on each of these; the developer guide ties MetadataExtraction and
// RecordDeAggregation to dynamic partitioning, which only ExtendedS3 has,
// and describes AppendDelimiterToRecord for objects delivered to S3):
//   - Lambda: runs on every one of them, with transform.go's contract. The
//     buffer is transformed before the destination's batch is built; the
//     records the function returns Ok are delivered (in the order it
//     returned them), Dropped ones are not, and ProcessingFailed ones (and
//     every record of a batch whose invocations all failed) are written to
//     the destination's S3Configuration bucket under ErrorOutputPrefix, or
//     <Prefix>processing-failed/ without one, with AWS's processing-failed
//     fields (attemptsMade, arrivalTimestamp, errorCode, errorMessage,
//     attemptEndingTimestamp, rawData, lambdaArn). The default
//     BufferSizeInMBs is 1, or 256 KB for Splunk (AWS's default there).
//     Records that then fail delivery carry the transformed data as rawData;
//     the AllData/AllDocuments/AllEvents and Redshift Enabled backups keep
//     the source records. For Splunk's Event endpoint each transformed record
//     must be a HEC event (splunk.IsEvent); one that is not goes to
//     splunk-failed as Splunk.InvalidDataFormat.
//   - MetadataExtraction, RecordDeAggregation: refused (dynamic
//     partitioning only).
//   - AppendDelimiterToRecord: refused (S3 objects only).
//   - Decompression, CloudWatchLogProcessing: refused, as on S3 (not built).

import (
	"encoding/json"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// splunkLambdaBuffer is the Lambda processor's default buffer for a Splunk
// destination: "256 KB" (the API model's ProcessorParameter documentation).
const splunkLambdaBuffer = 256 << 10

// otherProcessing decodes the ProcessingConfiguration member of members.
func otherProcessing(members map[string]json.RawMessage) (*ProcessingConfiguration, error) {
	r, ok := members["ProcessingConfiguration"]
	if !ok || string(r) == "null" {
		return nil, nil
	}
	var p ProcessingConfiguration
	if err := json.Unmarshal(r, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// checkOtherProcessing validates the processors of a destination beyond S3.
func checkOtherProcessing(spec *destSpec, members map[string]json.RawMessage) error {
	p, err := otherProcessing(members)
	if err != nil {
		return awserr.InvalidArgument("%s.processingConfiguration: %v", spec.path, err)
	}
	if p == nil || !deref(p.Enabled) {
		return nil
	}
	seen := map[string]bool{}
	for _, pr := range p.Processors {
		typ := deref(pr.Type)
		if seen[typ] {
			return awserr.InvalidArgument("Processor type %s can be specified only once.", typ)
		}
		seen[typ] = true
		switch typ {
		case procLambda:
			if err := checkLambdaProcessor(pr); err != nil { // transform.go
				return err
			}
		case procMetadata, procDeAgg:
			return awserr.InvalidArgument("%s processor can only be used with dynamic partitioning, which only Amazon S3 destinations have.", typ)
		case appendDelimiter:
			return awserr.InvalidArgument("AppendDelimiterToRecord processor applies to objects delivered to Amazon S3; Eddy does not accept it on a %s destination.", destMetricNames[spec.kind])
		case "Decompression", "CloudWatchLogProcessing":
			return awserr.InvalidArgument("Processor type %s is not supported by Eddy yet.", typ)
		default:
			return awserr.InvalidArgument("Processor type %s is not supported by Eddy.", typ)
		}
	}
	return nil
}

// otherLambda returns the Lambda processor of o, if enabled.
func otherLambda(o *otherDest) (lambdaParams, bool) {
	var members map[string]json.RawMessage
	if json.Unmarshal(o.Config, &members) != nil {
		return lambdaParams{}, false
	}
	p, err := otherProcessing(members)
	if err != nil || p == nil {
		return lambdaParams{}, false
	}
	c := &S3Config{ProcessingConfiguration: p}
	lp, ok := lambdaProcessorOf(c) // transform.go
	if !ok {
		return lp, false
	}
	if o.Kind == "Splunk" {
		for _, pr := range p.Processors {
			if deref(pr.Type) != procLambda {
				continue
			}
			if _, set := param(pr, "BufferSizeInMBs"); !set {
				lp.maxSize = splunkLambdaBuffer
			}
		}
	}
	return lp, true
}
