package firehose

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

// destMembers lists the destination members of a create input.
func (in *createInput) destMembers() map[string]json.RawMessage {
	return map[string]json.RawMessage{
		"RedshiftDestinationConfiguration":                   in.RedshiftDestinationConfiguration,
		"ElasticsearchDestinationConfiguration":              in.ElasticsearchDestinationConfiguration,
		"AmazonopensearchserviceDestinationConfiguration":    in.AmazonopensearchserviceDestinationConfiguration,
		"AmazonOpenSearchServerlessDestinationConfiguration": in.AmazonOpenSearchServerlessDestinationConfiguration,
		"SplunkDestinationConfiguration":                     in.SplunkDestinationConfiguration,
		"HttpEndpointDestinationConfiguration":               in.HttpEndpointDestinationConfiguration,
		"SnowflakeDestinationConfiguration":                  in.SnowflakeDestinationConfiguration,
		"IcebergDestinationConfiguration":                    in.IcebergDestinationConfiguration,
	}
}

func (in *updateInput) destMembers() map[string]json.RawMessage {
	return map[string]json.RawMessage{
		"RedshiftDestinationUpdate":                   in.RedshiftDestinationUpdate,
		"ElasticsearchDestinationUpdate":              in.ElasticsearchDestinationUpdate,
		"AmazonopensearchserviceDestinationUpdate":    in.AmazonopensearchserviceDestinationUpdate,
		"AmazonOpenSearchServerlessDestinationUpdate": in.AmazonOpenSearchServerlessDestinationUpdate,
		"SplunkDestinationUpdate":                     in.SplunkDestinationUpdate,
		"HttpEndpointDestinationUpdate":               in.HttpEndpointDestinationUpdate,
		"SnowflakeDestinationUpdate":                  in.SnowflakeDestinationUpdate,
		"IcebergDestinationUpdate":                    in.IcebergDestinationUpdate,
	}
}

// refusedDest says why a destination type Eddy does not deliver to is refused.
func refusedDest(members map[string]json.RawMessage, suffix string) error {
	if r := members["Snowflake"+suffix]; len(r) > 0 {
		return awserr.InvalidArgument("Eddy does not deliver to Snowflake: it needs Snowpipe Streaming, which has no server that runs outside Snowflake.")
	}
	return awserr.InvalidArgument("This destination type is not supported by Eddy.")
}

// createOther validates a destination beyond S3 of a CreateDeliveryStream.
func (s *Service) createOther(in *createInput) (*otherDest, *S3Config, error) {
	members := in.destMembers()
	spec, raw := otherInputs(members, "DestinationConfiguration")
	if spec == nil {
		return nil, nil, refusedDest(members, "DestinationConfiguration")
	}
	if deref(in.DeliveryStreamType) != "" && deref(in.DeliveryStreamType) != typeDirectPut && deref(in.DeliveryStreamType) != typeKinesis {
		return nil, nil, awserr.InvalidArgument("Eddy does not support the %s delivery stream type yet.", deref(in.DeliveryStreamType))
	}
	other, dest, err := s.parseOther(spec, raw, lowerFirst(spec.kind)+"DestinationConfiguration")
	if err == nil {
		err = checkDomainTag(other, in.Tags) // dest_opensearch.go
	}
	return other, dest, err
}

// updateOtherDestination is UpdateDestination with a destination beyond S3.
func (s *Service) updateOtherDestination(req *awsproto.Request, in *updateInput) (any, error) {
	members := in.destMembers()
	spec, raw := otherInputs(members, "DestinationUpdate")
	if spec == nil {
		return nil, refusedDest(members, "DestinationUpdate")
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	m := &st.meta
	if *in.CurrentDeliveryStreamVersionId != strconv.Itoa(m.Version) {
		s.mu.Unlock()
		return nil, awserr.New(awserr.TConcurrentModification, 400,
			"Cannot update firehose: %s since the current version id: %d and the specified version id: %s do not match",
			m.Name, m.Version, *in.CurrentDeliveryStreamVersionId)
	}
	if *in.DestinationId != destinationID {
		s.mu.Unlock()
		return nil, awserr.InvalidArgument("Destination Id %s not found for Firehose %s.", *in.DestinationId, m.Name)
	}
	other, dest, err := s.updateOther(m, spec, raw)
	if err == nil {
		err = checkDomainTag(other, m.Tags) // dest_opensearch.go
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	m.Other, m.Dest, m.Extended = other, dest, false
	m.Version++
	m.UpdatedMs = s.now().UnixMilli()
	s.mu.Unlock()
	st.wake()
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	return struct{}{}, nil
}

// MarshalJSON adds the description member of a destination beyond S3.
func (d destinationDescription) MarshalJSON() ([]byte, error) {
	type plain destinationDescription
	b, err := json.Marshal(plain(d))
	if err != nil || len(d.Others) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(d.Others))
	for k := range d.Others {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out bytes.Buffer
	out.Write(b[:len(b)-1])
	for _, k := range keys {
		out.WriteByte(',')
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(d.Others[k])
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
