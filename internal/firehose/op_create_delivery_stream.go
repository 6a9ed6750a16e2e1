package firehose

// CreateDeliveryStream validates the request shape first (AWS's
// "Member must ..." list), then the semantics: exactly one destination, a
// source type Eddy serves (DirectPut or KinesisStreamAsSource; MSK and
// database sources are refused), S3 prefix and buffering rules, and the
// encryption input. The stream's durable buffer log is created before the
// metadata is saved, and delivery starts once both exist. At the quota of 50 streams
// per account and Region the answer is LimitExceededException naming the
// existing streams, as AWS does; a taken name is ResourceInUseException.

import (
	"errors"
	"sort"
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
