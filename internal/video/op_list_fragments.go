package video

// ListFragments: the stream's retained fragments, oldest first (AWS gives
// no order; ascending is one of its orders), with FragmentNumber,
// FragmentSizeInBytes, ProducerTimestamp, ServerTimestamp and
// FragmentLengthInMilliseconds. FragmentSelector{FragmentSelectorType
// PRODUCER_TIMESTAMP|SERVER_TIMESTAMP, TimestampRange{StartTimestamp,
// EndTimestamp}} keeps fragments whose timestamp lies in the range
// (inclusive). MaxResults 1-1000 (default 1000) per page, NextToken opaque.

import (
	"encoding/base64"
	"strconv"
)

type timestampRange struct {
	StartTimestamp *float64
	EndTimestamp   *float64
}

type listFragmentsInput struct {
	StreamName       string
	StreamARN        string
	MaxResults       *int
	NextToken        string
	FragmentSelector *struct {
		FragmentSelectorType string
		TimestampRange       *timestampRange
	}
}

type fragmentOut struct {
	FragmentNumber               string
	FragmentSizeInBytes          int64
	ProducerTimestamp            float64
	ServerTimestamp              float64
	FragmentLengthInMilliseconds int64
}

func opListFragments(s *Service, c *call) (any, error) {
	var in listFragmentsInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	max := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, errInvalidArg("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 1000", *in.MaxResults)
		}
		max = *in.MaxResults
	}
	var after uint64
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		v, err2 := strconv.ParseUint(string(b), 10, 64)
		if err != nil || err2 != nil {
			return nil, errInvalidArg("The NextToken is not valid.")
		}
		after = v
	}
	byServer := false
	lo, hi := int64(-1<<62), int64(1<<62)
	if fsel := in.FragmentSelector; fsel != nil {
		switch fsel.FragmentSelectorType {
		case "SERVER_TIMESTAMP":
			byServer = true
		case "PRODUCER_TIMESTAMP":
		default:
			return nil, errInvalidArg("1 validation error detected: Value '%s' at 'fragmentSelector.fragmentSelectorType' failed to satisfy constraint: Member must satisfy enum value set: [PRODUCER_TIMESTAMP, SERVER_TIMESTAMP]", fsel.FragmentSelectorType)
		}
		tr := fsel.TimestampRange
		if tr == nil || tr.StartTimestamp == nil || tr.EndTimestamp == nil {
			return nil, errInvalidArg("1 validation error detected: Value null at 'fragmentSelector.timestampRange' failed to satisfy constraint: Member must not be null")
		}
		lo, hi = int64(*tr.StartTimestamp*1000+0.5), int64(*tr.EndTimestamp*1000+0.5)
		if lo > hi {
			return nil, errInvalidArg("The StartTimestamp must be before the EndTimestamp.")
		}
	}
	_, fs, err := s.lookup(c.req, in.StreamName, in.StreamARN)
	if err != nil {
		return nil, err
	}
	out := []fragmentOut{}
	var last uint64
	more := false
	for _, m := range fs.Fragments() {
		if m.Seq <= after {
			continue
		}
		t := m.Producer
		if byServer {
			t = m.Server
		}
		if t < lo || t > hi {
			continue
		}
		if len(out) == max {
			more = true
			break
		}
		out = append(out, fragmentOut{
			FragmentNumber: fragNumber(m.Seq), FragmentSizeInBytes: m.Size,
			ProducerTimestamp: epoch(m.Producer), ServerTimestamp: epoch(m.Server),
			FragmentLengthInMilliseconds: m.Duration,
		})
		last = m.Seq
	}
	res := map[string]any{"Fragments": out}
	if more {
		res["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(last, 10)))
	}
	return res, nil
}
