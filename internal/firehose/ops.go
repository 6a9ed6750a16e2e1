package firehose

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/storage"
)

func (s *Service) createDeliveryStream(req *awsproto.Request) (any, error) {
	var in createInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.DeliveryStreamType != nil {
		switch *in.DeliveryStreamType {
		case typeDirectPut, typeKinesis, "MSKAsSource", "DatabaseAsSource":
		default:
			v.Add(*in.DeliveryStreamType, "deliveryStreamType", "Member must satisfy enum value set: [DatabaseAsSource, DirectPut, KinesisStreamAsSource, MSKAsSource]")
		}
	}
	if len(in.Tags) > maxTags {
		v.Add(len(in.Tags), "tags", "Member must have length less than or equal to 50")
	}
	validateTags(&v, in.Tags, "tags")
	validateS3Shape(&v, in.S3DestinationConfiguration, "s3DestinationConfiguration", true)
	validateS3Shape(&v, in.ExtendedS3DestinationConfiguration, "extendedS3DestinationConfiguration", true)
	if ks := in.KinesisStreamSourceConfiguration; ks != nil {
		if ks.KinesisStreamARN == nil {
			v.Add(nil, "kinesisStreamSourceConfiguration.kinesisStreamARN", "Member must not be null")
		}
		if ks.RoleARN == nil {
			v.Add(nil, "kinesisStreamSourceConfiguration.roleARN", "Member must not be null")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	name := *in.DeliveryStreamName

	// Exactly one destination.
	if countSet(in.S3DestinationConfiguration != nil, in.ExtendedS3DestinationConfiguration != nil,
		in.RedshiftDestinationConfiguration != nil, in.ElasticsearchDestinationConfiguration != nil,
		in.AmazonopensearchserviceDestinationConfiguration != nil, in.AmazonOpenSearchServerlessDestinationConfiguration != nil,
		in.SplunkDestinationConfiguration != nil, in.HttpEndpointDestinationConfiguration != nil,
		in.SnowflakeDestinationConfiguration != nil, in.IcebergDestinationConfiguration != nil) != 1 {
		return nil, awserr.InvalidArgument("Exactly one destination configuration is supported for a Firehose")
	}
	var other *otherDest // a destination beyond S3 (dest_ops.go)
	var otherS3 *S3Config
	if in.S3DestinationConfiguration == nil && in.ExtendedS3DestinationConfiguration == nil {
		var err error
		if other, otherS3, err = s.createOther(&in); err != nil {
			return nil, err
		}
	}
	typ := deref(in.DeliveryStreamType)
	if typ == "" {
		typ = typeDirectPut
	}
	switch typ {
	case typeDirectPut:
		if in.KinesisStreamSourceConfiguration != nil {
			return nil, awserr.InvalidArgument("KinesisSourceStreamConfig is only supported for KinesisStreamAsSource delivery stream type.")
		}
	case typeKinesis:
		if in.KinesisStreamSourceConfiguration == nil {
			return nil, awserr.InvalidArgument("KinesisSourceStreamConfig is required for KinesisStreamAsSource delivery stream type.")
		}
		if in.DeliveryStreamEncryptionConfigurationInput != nil {
			return nil, awserr.InvalidArgument("Server side encryption is only supported for DirectPut delivery stream type.")
		}
		if _, _, _, ok := parseStreamARN(*in.KinesisStreamSourceConfiguration.KinesisStreamARN); !ok {
			return nil, awserr.InvalidArgument("KinesisStreamARN %s is not a valid Kinesis stream ARN.", *in.KinesisStreamSourceConfiguration.KinesisStreamARN)
		}
	default:
		return nil, awserr.InvalidArgument("Eddy does not support the %s delivery stream type yet.", typ)
	}

	extended := in.ExtendedS3DestinationConfiguration != nil
	dest := in.ExtendedS3DestinationConfiguration
	if !extended {
		dest = in.S3DestinationConfiguration
	}
	if other != nil {
		dest = otherS3
	} else {
		dest = dest.clone()
		withDefaults(dest)
		if err := checkS3Semantics(dest, false); err != nil {
			return nil, err
		}
	}
	encType, encARN, err := checkEncryptionInput(in.DeliveryStreamEncryptionConfigurationInput)
	if err != nil {
		return nil, err
	}

	now := s.now().UnixMilli()
	m := streamMeta{
		Account: req.Account, Region: req.Region, Name: name, ID: newID(), Type: typ, Status: statusActive,
		Version: 1, CreatedMs: now, UpdatedMs: now, Dest: dest, Extended: extended, Other: other,
		DirectPut: in.DirectPutSourceConfiguration, KinesisSource: in.KinesisStreamSourceConfiguration,
		Tags: dedupeTags(nil, in.Tags),
	}
	if typ == typeKinesis {
		m.StartMs = now
		m.Shards = map[string]*shardProgress{}
	}
	if in.DeliveryStreamEncryptionConfigurationInput != nil {
		m.EncKeyType, m.EncKeyARN, m.EncStatus = encType, encARN, encEnabled
	}

	s.mu.Lock()
	key := streamKey(req.Account, req.Region, name)
	if s.streams[key] != nil {
		s.mu.Unlock()
		return nil, awserr.ResourceInUse("Firehose %s under accountId %s already exists", name, req.Account)
	}
	count := 0
	prefix := req.Account + "/" + req.Region + "/"
	for k := range s.streams {
		if strings.HasPrefix(k, prefix) {
			count++
		}
	}
	if count >= maxStreams {
		s.mu.Unlock()
		return nil, awserr.LimitExceeded("You have already consumed your firehose quota of %d hoses. Firehose names: %s", maxStreams, strings.Join(s.namesLocked(req), ", "))
	}
	st := s.newStream(m)
	s.streams[key] = st
	s.mu.Unlock()

	if err := s.backend.CreateShard(req.Ctx, m.shardID(), now); err != nil && !errors.Is(err, storage.ErrExists) {
		s.mu.Lock()
		delete(s.streams, key)
		s.mu.Unlock()
		s.log.Error("create buffer log", "stream", name, "err", err)
		return nil, awserr.Internal()
	}
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	s.mu.Lock()
	s.launchLocked(st)
	s.mu.Unlock()
	return createOutput{DeliveryStreamARN: m.arn()}, nil
}

func (s *Service) namesLocked(req *awsproto.Request) []string {
	var names []string
	for _, st := range s.streams {
		if st.meta.Account == req.Account && st.meta.Region == req.Region {
			names = append(names, st.meta.Name)
		}
	}
	sort.Strings(names)
	return names
}

// parseStreamARN splits arn:aws:kinesis:<region>:<account>:stream/<name>.
func parseStreamARN(arn string) (region, account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kinesis" || !strings.HasPrefix(parts[5], "stream/") {
		return "", "", "", false
	}
	name = strings.TrimPrefix(parts[5], "stream/")
	if name == "" {
		return "", "", "", false
	}
	return parts[3], parts[4], name, true
}

func checkEncryptionInput(in *EncryptionInput) (keyType, keyARN string, err error) {
	if in == nil {
		return "", "", nil
	}
	keyType = deref(in.KeyType)
	keyARN = deref(in.KeyARN)
	switch keyType {
	case keyAWSOwned:
		if keyARN != "" {
			return "", "", awserr.InvalidArgument("KeyARN must not be specified when KeyType is AWS_OWNED_CMK.")
		}
	case keyCustomerOwned:
		if keyARN == "" {
			return "", "", awserr.InvalidArgument("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.")
		}
	default:
		var v awserr.Validation
		v.Add(in.KeyType, "deliveryStreamEncryptionConfigurationInput.keyType", "Member must satisfy enum value set: [AWS_OWNED_CMK, CUSTOMER_MANAGED_CMK]")
		return "", "", v.Err()
	}
	return keyType, keyARN, nil
}

func (s *Service) deleteDeliveryStream(req *awsproto.Request) (any, error) {
	var in nameInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	delete(s.streams, streamKey(req.Account, req.Region, *in.DeliveryStreamName))
	close(st.stop)
	s.mu.Unlock()
	s.metrics.drop(st.meta.Account, st.meta.Region, st.meta.Name)
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	// Pending buffered data is discarded, as AWS does.
	if err := s.backend.DeleteShard(req.Ctx, st.meta.shardID()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("delete buffer log", "stream", st.meta.Name, "err", err)
	}
	return struct{}{}, nil
}

func (s *Service) describeDeliveryStream(req *awsproto.Request) (any, error) {
	var in describeInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 10000) {
		v.Add(*in.Limit, "limit", "Member must have value between 1 and 10000")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		return nil, err
	}
	m := &st.meta
	d := streamDescription{
		DeliveryStreamName: m.Name, DeliveryStreamARN: m.arn(), DeliveryStreamStatus: m.Status,
		DeliveryStreamType: m.Type, VersionId: strconv.Itoa(m.Version),
		CreateTimestamp: awsproto.TSMillis(m.CreatedMs), LastUpdateTimestamp: awsproto.TSMillis(m.UpdatedMs),
		Destinations: []destinationDescription{},
	}
	if f := st.failure.Load(); f != nil {
		d.FailureDescription = deliveryFailure(*f)
	}
	if m.Type == typeDirectPut {
		d.DeliveryStreamEncryptionConfiguration = &encryptionDescription{Status: encDisabled}
		if m.EncStatus != "" {
			d.DeliveryStreamEncryptionConfiguration = &encryptionDescription{Status: m.EncStatus}
			if m.EncKeyType != "" {
				d.DeliveryStreamEncryptionConfiguration.KeyType = ptr(m.EncKeyType)
			}
			if m.EncKeyARN != "" {
				d.DeliveryStreamEncryptionConfiguration.KeyARN = ptr(m.EncKeyARN)
			}
		}
		dp := m.DirectPut
		if dp == nil {
			dp = &DirectPutSourceConfiguration{}
		}
		d.Source = &sourceDescription{DirectPutSourceDescription: dp}
	} else if m.KinesisSource != nil {
		d.Source = &sourceDescription{KinesisStreamSourceDescription: &kinesisSourceDescription{
			KinesisStreamARN: m.KinesisSource.KinesisStreamARN, RoleARN: m.KinesisSource.RoleARN,
			DeliveryStartTimestamp: awsproto.TSMillis(m.StartMs),
		}}
	}
	if in.ExclusiveStartDestinationId == nil || *in.ExclusiveStartDestinationId < destinationID {
		dd := destinationDescription{DestinationId: destinationID, S3DestinationDescription: plainS3Description(m.Dest)}
		if m.Other != nil {
			dd.S3DestinationDescription = nil
			describeOther(m, &dd)
		} else if m.Extended {
			dd.ExtendedS3DestinationDescription = extendedDescription(m.Dest)
		}
		d.Destinations = append(d.Destinations, dd)
	}
	return describeOutput{DeliveryStreamDescription: d}, nil
}

// deliveryFailure reports a failed delivery the only place AWS's
// DescribeDeliveryStream shape has for failures: FailureDescription, whose
// Type enum has no delivery member (UNKNOWN_ERROR is the general one) and
// whose Details are 1–1024 characters.
func deliveryFailure(msg string) *failureDescription {
	const maxDetails = 1024
	if !strings.Contains(msg, " delivery failing, will retry: ") { // destinations beyond S3 name themselves (dest_other.go)
		msg = "S3 delivery failing, will retry: " + msg
	}
	if len(msg) > maxDetails {
		msg = strings.ToValidUTF8(msg[:maxDetails-3], "") + "..."
	}
	return &failureDescription{Type: "UNKNOWN_ERROR", Details: msg}
}

// plainS3Description keeps only the members of S3DestinationDescription.
func plainS3Description(c *S3Config) *S3Config {
	return &S3Config{
		RoleARN: c.RoleARN, BucketARN: c.BucketARN, Prefix: c.Prefix, ErrorOutputPrefix: c.ErrorOutputPrefix,
		BufferingHints: c.BufferingHints, CompressionFormat: c.CompressionFormat,
		EncryptionConfiguration: c.EncryptionConfiguration, CloudWatchLoggingOptions: c.CloudWatchLoggingOptions,
	}
}

func extendedDescription(c *S3Config) *S3Config {
	out := c.clone()
	if out.S3BackupMode == nil {
		out.S3BackupMode = ptr(backupDisabled)
	}
	if out.S3BackupConfiguration != nil {
		out.S3BackupDescription = plainS3Description(out.S3BackupConfiguration)
		out.S3BackupConfiguration = nil
	}
	return out
}

func (s *Service) listDeliveryStreams(req *awsproto.Request) (any, error) {
	var in listInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 10000) {
		v.Add(*in.Limit, "limit", "Member must have value between 1 and 10000")
	}
	if in.ExclusiveStartDeliveryStreamName != nil {
		validateName(&v, in.ExclusiveStartDeliveryStreamName, "exclusiveStartDeliveryStreamName")
	}
	if t := in.DeliveryStreamType; t != nil {
		switch *t {
		case typeDirectPut, typeKinesis, "MSKAsSource", "DatabaseAsSource":
		default:
			v.Add(*t, "deliveryStreamType", "Member must satisfy enum value set: [DatabaseAsSource, DirectPut, KinesisStreamAsSource, MSKAsSource]")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 10
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	s.mu.Lock()
	var names []string
	for _, st := range s.streams {
		m := &st.meta
		if m.Account != req.Account || m.Region != req.Region {
			continue
		}
		if in.DeliveryStreamType != nil && *in.DeliveryStreamType != m.Type {
			continue
		}
		if in.ExclusiveStartDeliveryStreamName != nil && m.Name <= *in.ExclusiveStartDeliveryStreamName {
			continue
		}
		names = append(names, m.Name)
	}
	s.mu.Unlock()
	sort.Strings(names)
	out := listOutput{DeliveryStreamNames: names}
	if len(names) > limit {
		out.DeliveryStreamNames = names[:limit]
		out.HasMoreDeliveryStreams = true
	}
	if out.DeliveryStreamNames == nil {
		out.DeliveryStreamNames = []string{}
	}
	return out, nil
}

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

func (s *Service) startEncryption(req *awsproto.Request) (any, error) {
	var in startEncryptionInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	keyType, keyARN := keyAWSOwned, ""
	if in.DeliveryStreamEncryptionConfigurationInput != nil {
		var err error
		if keyType, keyARN, err = checkEncryptionInput(in.DeliveryStreamEncryptionConfigurationInput); err != nil {
			return nil, err
		}
	}
	return s.setEncryption(req, *in.DeliveryStreamName, func(m *streamMeta) {
		m.EncKeyType, m.EncKeyARN, m.EncStatus = keyType, keyARN, encEnabled
	})
}

func (s *Service) stopEncryption(req *awsproto.Request) (any, error) {
	var in nameInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.setEncryption(req, *in.DeliveryStreamName, func(m *streamMeta) {
		m.EncKeyType, m.EncKeyARN, m.EncStatus = "", "", encDisabled
	})
}

func (s *Service) setEncryption(req *awsproto.Request, name string, f func(*streamMeta)) (any, error) {
	s.mu.Lock()
	st, err := s.lookupLocked(req, name)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	if st.meta.Type != typeDirectPut {
		s.mu.Unlock()
		return nil, awserr.InvalidArgument("Server side encryption is only supported for DirectPut delivery stream type.")
	}
	f(&st.meta)
	s.mu.Unlock()
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	return struct{}{}, nil
}

// dedupeTags merges add into cur: a key already present gets the new value.
func dedupeTags(cur []Tag, add []Tag) []Tag {
	out := append([]Tag(nil), cur...)
	for _, t := range add {
		found := false
		for i := range out {
			if deref(out[i].Key) == deref(t.Key) {
				out[i].Value = t.Value
				found = true
				break
			}
		}
		if !found {
			out = append(out, Tag{Key: t.Key, Value: t.Value})
		}
	}
	return out
}

func (s *Service) tagDeliveryStream(req *awsproto.Request) (any, error) {
	var in tagInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.Tags == nil {
		v.Add(nil, "tags", "Member must not be null")
	} else if len(in.Tags) < 1 || len(in.Tags) > maxTags {
		v.Add(len(in.Tags), "tags", "Member must have length between 1 and 50")
	}
	validateTags(&v, in.Tags, "tags")
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	merged := dedupeTags(st.meta.Tags, in.Tags)
	if len(merged) > maxTags {
		s.mu.Unlock()
		return nil, awserr.LimitExceeded("A delivery stream cannot have more than %d tags.", maxTags)
	}
	st.meta.Tags = merged
	s.mu.Unlock()
	st.wake()
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	return struct{}{}, nil
}

func (s *Service) untagDeliveryStream(req *awsproto.Request) (any, error) {
	var in tagInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.TagKeys == nil {
		v.Add(nil, "tagKeys", "Member must not be null")
	} else if len(in.TagKeys) < 1 || len(in.TagKeys) > maxTags {
		v.Add(len(in.TagKeys), "tagKeys", "Member must have length between 1 and 50")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	var kept []Tag
	for _, t := range st.meta.Tags {
		if !drop[deref(t.Key)] {
			kept = append(kept, t)
		}
	}
	st.meta.Tags = kept
	s.mu.Unlock()
	if err := s.save(); err != nil {
		s.log.Error("save metadata", "err", err)
		return nil, awserr.Internal()
	}
	return struct{}{}, nil
}

func (s *Service) listTags(req *awsproto.Request) (any, error) {
	var in listTagsInput
	if err := awsproto.Decode(req.Codec, req.Body, &in); err != nil {
		return nil, err
	}
	var v awserr.Validation
	validateName(&v, in.DeliveryStreamName, "deliveryStreamName")
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 50) {
		v.Add(*in.Limit, "limit", "Member must have value between 1 and 50")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	s.mu.Lock()
	st, err := s.lookupLocked(req, *in.DeliveryStreamName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	tags := append([]Tag(nil), st.meta.Tags...)
	s.mu.Unlock()
	sort.Slice(tags, func(i, j int) bool { return deref(tags[i].Key) < deref(tags[j].Key) })
	out := listTagsOutput{Tags: []Tag{}}
	for _, t := range tags {
		if in.ExclusiveStartTagKey != nil && deref(t.Key) <= *in.ExclusiveStartTagKey {
			continue
		}
		if len(out.Tags) == limit {
			out.HasMoreTags = true
			break
		}
		out.Tags = append(out.Tags, t)
	}
	return out, nil
}

// countSet counts the true values (destinations present in a request).
func countSet(oks ...bool) int {
	n := 0
	for _, ok := range oks {
		if ok {
			n++
		}
	}
	return n
}
