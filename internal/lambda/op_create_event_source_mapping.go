package lambda

// CreateEventSourceMapping (POST /2015-03-31/event-source-mappings/, 202):
// maps a Kinesis stream ARN (of this server) to a function. Defaults and
// ranges as AWS: BatchSize 100 (1–10000), MaximumBatchingWindowInSeconds 0
// (0–300), ParallelizationFactor 1 (1–10), MaximumRetryAttempts -1
// (-1–10000), MaximumRecordAgeInSeconds -1 (-1 or 60–604800),
// TumblingWindowInSeconds 0 (0–900), StartingPosition required
// (TRIM_HORIZON, LATEST, AT_TIMESTAMP with StartingPositionTimestamp).
// StartingPosition is resolved per shard when the call returns, so a
// LATEST mapping sees every record put after it. The mapping starts at
// once (State "Creating" in the response, then "Enabled", or "Disabled"
// with Enabled false). On-failure destinations must be Kinesis stream ARNs
// of this server.

import (
	"net/http"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
)

type mappingInput struct {
	FunctionName                   *string            `json:"FunctionName"`
	EventSourceArn                 *string            `json:"EventSourceArn"`
	BatchSize                      *int               `json:"BatchSize"`
	MaximumBatchingWindowInSeconds *int               `json:"MaximumBatchingWindowInSeconds"`
	StartingPosition               *string            `json:"StartingPosition"`
	StartingPositionTimestamp      *float64           `json:"StartingPositionTimestamp"`
	ParallelizationFactor          *int               `json:"ParallelizationFactor"`
	BisectBatchOnFunctionError     *bool              `json:"BisectBatchOnFunctionError"`
	MaximumRetryAttempts           *int               `json:"MaximumRetryAttempts"`
	MaximumRecordAgeInSeconds      *int               `json:"MaximumRecordAgeInSeconds"`
	FunctionResponseTypes          []string           `json:"FunctionResponseTypes"`
	TumblingWindowInSeconds        *int               `json:"TumblingWindowInSeconds"`
	FilterCriteria                 *FilterCriteria    `json:"FilterCriteria"`
	DestinationConfig              *DestinationConfig `json:"DestinationConfig"`
	Enabled                        *bool              `json:"Enabled"`
	Queues                         []string           `json:"Queues"`
}

func rangeErr(v *awserr.Validation, val *int, path string, lo, hi int) {
	if val == nil {
		return
	}
	if *val < lo {
		v.Add(*val, path, "Member must have value greater than or equal to "+itoa(lo))
	} else if *val > hi {
		v.Add(*val, path, "Member must have value less than or equal to "+itoa(hi))
	}
}

// apply validates in and copies it onto set.
func (s *Service) applyMapping(set *mappingSettings, in *mappingInput) error {
	var v awserr.Validation
	rangeErr(&v, in.BatchSize, "batchSize", 1, 10000)
	rangeErr(&v, in.MaximumBatchingWindowInSeconds, "maximumBatchingWindowInSeconds", 0, 300)
	rangeErr(&v, in.ParallelizationFactor, "parallelizationFactor", 1, 10)
	rangeErr(&v, in.MaximumRetryAttempts, "maximumRetryAttempts", -1, 10000)
	rangeErr(&v, in.MaximumRecordAgeInSeconds, "maximumRecordAgeInSeconds", -1, 604800)
	rangeErr(&v, in.TumblingWindowInSeconds, "tumblingWindowInSeconds", 0, 900)
	for _, t := range in.FunctionResponseTypes {
		if t != "ReportBatchItemFailures" {
			v.Add(t, "functionResponseTypes", "Member must satisfy enum value set: [ReportBatchItemFailures]")
		}
	}
	if err := v.Err(); err != nil {
		ae, _ := awserr.As(err)
		return awserr.New(tValidation, http.StatusBadRequest, "%s", ae.Message)
	}
	if a := in.MaximumRecordAgeInSeconds; a != nil && *a != -1 && *a < 60 {
		return badMapping("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.")
	}
	if in.BatchSize != nil {
		set.BatchSize = *in.BatchSize
	}
	if in.MaximumBatchingWindowInSeconds != nil {
		set.MaximumBatchingWindowInSeconds = *in.MaximumBatchingWindowInSeconds
	}
	if set.BatchSize > 10 && in.MaximumBatchingWindowInSeconds == nil && set.MaximumBatchingWindowInSeconds == 0 {
		// AWS accepts this for Kinesis (no window is required above 10)
	}
	if in.ParallelizationFactor != nil {
		set.ParallelizationFactor = *in.ParallelizationFactor
	}
	if in.BisectBatchOnFunctionError != nil {
		set.BisectBatchOnFunctionError = *in.BisectBatchOnFunctionError
	}
	if in.MaximumRetryAttempts != nil {
		set.MaximumRetryAttempts = *in.MaximumRetryAttempts
	}
	if in.MaximumRecordAgeInSeconds != nil {
		set.MaximumRecordAgeInSeconds = *in.MaximumRecordAgeInSeconds
	}
	if in.FunctionResponseTypes != nil {
		set.FunctionResponseTypes = in.FunctionResponseTypes
	}
	if in.TumblingWindowInSeconds != nil {
		set.TumblingWindowInSeconds = *in.TumblingWindowInSeconds
	}
	if in.FilterCriteria != nil {
		if _, err := compileFilters(in.FilterCriteria); err != nil {
			return err
		}
		set.FilterCriteria = in.FilterCriteria
		if len(in.FilterCriteria.Filters) == 0 {
			set.FilterCriteria = nil
		}
	}
	if in.DestinationConfig != nil {
		if d := in.DestinationConfig.OnFailure; d != nil && d.Destination != "" {
			b, isS3 := strings.CutPrefix(d.Destination, "arn:aws:s3:::")
			if isS3 && (b == "" || strings.Contains(b, "/")) {
				return badMapping("The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=%s)) is invalid.", d.Destination)
			}
			if _, err := s.o.Kinesis.ResolveARN(d.Destination); err != nil && !isS3 {
				return badMapping("The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=%s)) is invalid: Eddy takes a Kinesis stream ARN of this server or an S3 bucket ARN.", d.Destination)
			}
		}
		set.DestinationConfig = in.DestinationConfig
	}
	if in.Enabled != nil {
		set.Enabled = *in.Enabled
	}
	if in.FunctionName != nil {
		f, err := s.lookupFnForMapping(set.Account, set.Region, *in.FunctionName)
		if err != nil {
			return err
		}
		set.FunctionArn = f
	}
	set.LastModified = float64(s.now().UnixMilli()) / 1000
	return nil
}

func (s *Service) lookupFnForMapping(account, region, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.lookupLocked(account, region, name, "")
	if err != nil {
		return "", err
	}
	return f.Config.FunctionArn, nil
}

func opCreateEventSourceMapping(s *Service, c *call) (response, error) {
	var in mappingInput
	if err := decode(c, &in); err != nil {
		return response{}, err
	}
	if in.FunctionName == nil {
		return response{}, awserr.New(tValidation, http.StatusBadRequest, "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null")
	}
	if in.EventSourceArn == nil || !strings.HasPrefix(*in.EventSourceArn, "arn:aws:kinesis:") {
		return response{}, badMapping("Unrecognized event source, must be kinesis, dynamodb stream or sqs. Unsupported source arn : %s", deref(in.EventSourceArn))
	}
	if s.o.Kinesis == nil {
		return response{}, badMapping("Kinesis is not available on this server.")
	}
	ref, err := s.o.Kinesis.ResolveARN(*in.EventSourceArn)
	if err != nil {
		return response{}, badMapping("Stream not found: %s", *in.EventSourceArn)
	}
	sp := deref(in.StartingPosition)
	switch sp {
	case "TRIM_HORIZON", "LATEST":
	case "AT_TIMESTAMP":
		if in.StartingPositionTimestamp == nil {
			return response{}, badMapping("StartingPositionTimestamp must be provided with AT_TIMESTAMP starting position.")
		}
	case "":
		return response{}, badMapping("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null (StartingPosition is required for Kinesis)")
	default:
		return response{}, awserr.New(tValidation, http.StatusBadRequest, "1 validation error detected: Value '%s' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]", sp)
	}
	set := mappingSettings{UUID: newUUID(), Account: c.req.Account, Region: c.req.Region, EventSourceArn: *in.EventSourceArn,
		BatchSize: 100, ParallelizationFactor: 1, MaximumRetryAttempts: -1, MaximumRecordAgeInSeconds: -1,
		StartingPosition: sp, StartingPositionTimestamp: in.StartingPositionTimestamp, Enabled: true, StreamCreatedMs: ref.CreatedMs}
	if err := s.applyMapping(&set, &in); err != nil {
		return response{}, err
	}
	m := &mapping{s: s, set: set}
	m.filters, _ = compileFilters(set.FilterCriteria)
	if err := s.initPositions(m, ref); err != nil {
		return response{}, err
	}
	s.mu.Lock()
	s.mappings[set.UUID] = m
	if err := s.saveLocked(); err != nil {
		delete(s.mappings, set.UUID)
		s.mu.Unlock()
		return response{}, err
	}
	s.startMappingLocked(m)
	s.mu.Unlock()
	out := m.config()
	if set.Enabled {
		out["State"] = "Creating"
	}
	return response{status: http.StatusAccepted, body: out}, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
