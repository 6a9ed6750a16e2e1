package firehose

// UpdateDestination applies AWS's merge rules: the version id must match
// (ConcurrentModificationException otherwise) and is bumped; members left
// out keep their values when the destination kind stays the same; a change
// of kind starts from an empty configuration and needs its required
// members; S3 backup cannot be disabled once enabled; dynamic partitioning
// cannot be switched on or off after creation. Destinations beyond S3 are
// merged in dest_ops.go.

import (
	"strconv"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
)

func (s *Service) updateDestination(req *awsproto.Request) (any, error) {
	var in updateInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.CurrentDeliveryStreamVersionId == nil {
		v.Add(nil, "currentDeliveryStreamVersionId", "Member must not be null")
	} else if len(*in.CurrentDeliveryStreamVersionId) < 1 || len(*in.CurrentDeliveryStreamVersionId) > 50 {
		v.Add(*in.CurrentDeliveryStreamVersionId, "currentDeliveryStreamVersionId", "Member must have length between 1 and 50")
	}
	if in.DestinationId == nil {
		v.Add(nil, "destinationId", "Member must not be null")
	}
	validateS3Shape(&v, in.S3DestinationUpdate, "s3DestinationUpdate", false)
	validateS3Shape(&v, in.ExtendedS3DestinationUpdate, "extendedS3DestinationUpdate", false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if countSet(in.S3DestinationUpdate != nil, in.ExtendedS3DestinationUpdate != nil,
		in.RedshiftDestinationUpdate != nil, in.ElasticsearchDestinationUpdate != nil,
		in.AmazonopensearchserviceDestinationUpdate != nil, in.AmazonOpenSearchServerlessDestinationUpdate != nil,
		in.SplunkDestinationUpdate != nil, in.HttpEndpointDestinationUpdate != nil,
		in.SnowflakeDestinationUpdate != nil, in.IcebergDestinationUpdate != nil) != 1 {
		return nil, awserr.InvalidArgument("Exactly one destination update is supported for a Firehose")
	}
	if in.S3DestinationUpdate == nil && in.ExtendedS3DestinationUpdate == nil {
		return s.updateOtherDestination(req, &in) // dest_ops.go
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
	u := in.ExtendedS3DestinationUpdate
	if u == nil {
		u = in.S3DestinationUpdate
	}
	if err := checkPartitioningUpdate(m.Dest, u); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	next := m.Dest.clone()
	if m.Other != nil { // switching from another destination type: no merge
		if isOpenSearch(m.Other.Kind) {
			s.mu.Unlock()
			return nil, errOpenSearchSwitch
		}
		next = &S3Config{}
	}
	wasBackup := deref(next.S3BackupMode) == backupEnabled
	mergeS3(next, u)
	if m.Other != nil && (next.BucketARN == nil || next.RoleARN == nil) {
		s.mu.Unlock()
		return nil, awserr.InvalidArgument("BucketARN and RoleARN are required when the destination type changes.")
	}
	withDefaults(next)
	if wasBackup && deref(next.S3BackupMode) != backupEnabled {
		s.mu.Unlock()
		return nil, awserr.InvalidArgument("S3 backup cannot be disabled once it is enabled.")
	}
	if err := checkS3Semantics(next, false); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	m.Dest = next
	m.Other = nil
	if in.ExtendedS3DestinationUpdate != nil {
		m.Extended = true
	}
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
