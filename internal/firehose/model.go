package firehose

import (
	"encoding/json"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

// Wire shapes (JSON 1.1 member names as in the Firehose API model).

type BufferingHints struct {
	IntervalInSeconds *int32 `json:"IntervalInSeconds,omitempty"`
	SizeInMBs         *int32 `json:"SizeInMBs,omitempty"`
}

type CloudWatchLoggingOptions struct {
	Enabled       *bool   `json:"Enabled,omitempty"`
	LogGroupName  *string `json:"LogGroupName,omitempty"`
	LogStreamName *string `json:"LogStreamName,omitempty"`
}

type KMSEncryptionConfig struct {
	AWSKMSKeyARN *string `json:"AWSKMSKeyARN,omitempty"`
}

type EncryptionConfiguration struct {
	KMSEncryptionConfig *KMSEncryptionConfig `json:"KMSEncryptionConfig,omitempty"`
	NoEncryptionConfig  *string              `json:"NoEncryptionConfig,omitempty"`
}

type ProcessorParameter struct {
	ParameterName  *string `json:"ParameterName,omitempty"`
	ParameterValue *string `json:"ParameterValue,omitempty"`
}

type Processor struct {
	Type       *string              `json:"Type,omitempty"`
	Parameters []ProcessorParameter `json:"Parameters,omitempty"`
}

type ProcessingConfiguration struct {
	Enabled    *bool       `json:"Enabled,omitempty"`
	Processors []Processor `json:"Processors,omitempty"`
}

type RetryOptions struct {
	DurationInSeconds *int32 `json:"DurationInSeconds,omitempty"`
}

type DynamicPartitioningConfiguration struct {
	Enabled      *bool         `json:"Enabled,omitempty"`
	RetryOptions *RetryOptions `json:"RetryOptions,omitempty"`
}

// S3Config is the S3 destination (and S3 backup) configuration: the
// ExtendedS3 shape, a superset of the plain S3 one. Creation input,
// update input, stored state and description all use it.
type S3Config struct {
	RoleARN                           *string                           `json:"RoleARN,omitempty"`
	BucketARN                         *string                           `json:"BucketARN,omitempty"`
	Prefix                            *string                           `json:"Prefix,omitempty"`
	ErrorOutputPrefix                 *string                           `json:"ErrorOutputPrefix,omitempty"`
	BufferingHints                    *BufferingHints                   `json:"BufferingHints,omitempty"`
	CompressionFormat                 *string                           `json:"CompressionFormat,omitempty"`
	EncryptionConfiguration           *EncryptionConfiguration          `json:"EncryptionConfiguration,omitempty"`
	CloudWatchLoggingOptions          *CloudWatchLoggingOptions         `json:"CloudWatchLoggingOptions,omitempty"`
	ProcessingConfiguration           *ProcessingConfiguration          `json:"ProcessingConfiguration,omitempty"`
	S3BackupMode                      *string                           `json:"S3BackupMode,omitempty"`
	S3BackupConfiguration             *S3Config                         `json:"S3BackupConfiguration,omitempty"`
	S3BackupUpdate                    *S3Config                         `json:"S3BackupUpdate,omitempty"`
	S3BackupDescription               *S3Config                         `json:"S3BackupDescription,omitempty"`
	DataFormatConversionConfiguration json.RawMessage                   `json:"DataFormatConversionConfiguration,omitempty"`
	DynamicPartitioningConfiguration  *DynamicPartitioningConfiguration `json:"DynamicPartitioningConfiguration,omitempty"`
	FileExtension                     *string                           `json:"FileExtension,omitempty"`
	CustomTimeZone                    *string                           `json:"CustomTimeZone,omitempty"`
}

type Tag struct {
	Key   *string `json:"Key,omitempty"`
	Value *string `json:"Value,omitempty"`
}

type KinesisStreamSourceConfiguration struct {
	KinesisStreamARN *string `json:"KinesisStreamARN,omitempty"`
	RoleARN          *string `json:"RoleARN,omitempty"`
}

type DirectPutSourceConfiguration struct {
	ThroughputHintInMBs *int32 `json:"ThroughputHintInMBs,omitempty"`
}

type EncryptionInput struct {
	KeyARN  *string `json:"KeyARN,omitempty"`
	KeyType *string `json:"KeyType,omitempty"`
}

type createInput struct {
	DeliveryStreamName                         *string                           `json:"DeliveryStreamName"`
	DeliveryStreamType                         *string                           `json:"DeliveryStreamType"`
	DirectPutSourceConfiguration               *DirectPutSourceConfiguration     `json:"DirectPutSourceConfiguration"`
	KinesisStreamSourceConfiguration           *KinesisStreamSourceConfiguration `json:"KinesisStreamSourceConfiguration"`
	DeliveryStreamEncryptionConfigurationInput *EncryptionInput                  `json:"DeliveryStreamEncryptionConfigurationInput"`
	S3DestinationConfiguration                 *S3Config                         `json:"S3DestinationConfiguration"`
	ExtendedS3DestinationConfiguration         *S3Config                         `json:"ExtendedS3DestinationConfiguration"`
	Tags                                       []Tag                             `json:"Tags"`

	// Destinations and sources Eddy accepts on the wire but does not deliver to yet.
	MSKSourceConfiguration                             json.RawMessage `json:"MSKSourceConfiguration"`
	DatabaseSourceConfiguration                        json.RawMessage `json:"DatabaseSourceConfiguration"`
	RedshiftDestinationConfiguration                   json.RawMessage `json:"RedshiftDestinationConfiguration"`
	ElasticsearchDestinationConfiguration              json.RawMessage `json:"ElasticsearchDestinationConfiguration"`
	AmazonopensearchserviceDestinationConfiguration    json.RawMessage `json:"AmazonopensearchserviceDestinationConfiguration"`
	AmazonOpenSearchServerlessDestinationConfiguration json.RawMessage `json:"AmazonOpenSearchServerlessDestinationConfiguration"`
	SplunkDestinationConfiguration                     json.RawMessage `json:"SplunkDestinationConfiguration"`
	HttpEndpointDestinationConfiguration               json.RawMessage `json:"HttpEndpointDestinationConfiguration"`
	SnowflakeDestinationConfiguration                  json.RawMessage `json:"SnowflakeDestinationConfiguration"`
	IcebergDestinationConfiguration                    json.RawMessage `json:"IcebergDestinationConfiguration"`
}

type createOutput struct {
	DeliveryStreamARN string `json:"DeliveryStreamARN"`
}

type nameInput struct {
	DeliveryStreamName *string `json:"DeliveryStreamName"`
	AllowForceDelete   *bool   `json:"AllowForceDelete"`
}

type describeInput struct {
	DeliveryStreamName          *string `json:"DeliveryStreamName"`
	Limit                       *int64  `json:"Limit"`
	ExclusiveStartDestinationId *string `json:"ExclusiveStartDestinationId"`
}

type encryptionDescription struct {
	KeyARN  *string `json:"KeyARN,omitempty"`
	KeyType *string `json:"KeyType,omitempty"`
	Status  string  `json:"Status"`
}

type kinesisSourceDescription struct {
	KinesisStreamARN       *string             `json:"KinesisStreamARN,omitempty"`
	RoleARN                *string             `json:"RoleARN,omitempty"`
	DeliveryStartTimestamp *awsproto.Timestamp `json:"DeliveryStartTimestamp,omitempty"`
}

type sourceDescription struct {
	KinesisStreamSourceDescription *kinesisSourceDescription     `json:"KinesisStreamSourceDescription,omitempty"`
	DirectPutSourceDescription     *DirectPutSourceConfiguration `json:"DirectPutSourceDescription,omitempty"`
}

type destinationDescription struct {
	DestinationId                    string    `json:"DestinationId"`
	S3DestinationDescription         *S3Config `json:"S3DestinationDescription,omitempty"`
	ExtendedS3DestinationDescription *S3Config `json:"ExtendedS3DestinationDescription,omitempty"`
	// Others holds the description member of a destination beyond S3
	// (<Kind>DestinationDescription); see dest_describe.go.
	Others map[string]json.RawMessage `json:"-"`
}

type streamDescription struct {
	DeliveryStreamName                    string                   `json:"DeliveryStreamName"`
	DeliveryStreamARN                     string                   `json:"DeliveryStreamARN"`
	DeliveryStreamStatus                  string                   `json:"DeliveryStreamStatus"`
	FailureDescription                    *failureDescription      `json:"FailureDescription,omitempty"`
	DeliveryStreamType                    string                   `json:"DeliveryStreamType"`
	DeliveryStreamEncryptionConfiguration *encryptionDescription   `json:"DeliveryStreamEncryptionConfiguration,omitempty"`
	VersionId                             string                   `json:"VersionId"`
	CreateTimestamp                       *awsproto.Timestamp      `json:"CreateTimestamp,omitempty"`
	LastUpdateTimestamp                   *awsproto.Timestamp      `json:"LastUpdateTimestamp,omitempty"`
	Source                                *sourceDescription       `json:"Source,omitempty"`
	Destinations                          []destinationDescription `json:"Destinations"`
	HasMoreDestinations                   bool                     `json:"HasMoreDestinations"`
}

// failureDescription is AWS's FailureDescription; Eddy puts the last S3
// delivery error in it (docs/compat/firehose.md).
type failureDescription struct {
	Type    string `json:"Type"`
	Details string `json:"Details"`
}

type describeOutput struct {
	DeliveryStreamDescription streamDescription `json:"DeliveryStreamDescription"`
}

type listInput struct {
	Limit                            *int64  `json:"Limit"`
	DeliveryStreamType               *string `json:"DeliveryStreamType"`
	ExclusiveStartDeliveryStreamName *string `json:"ExclusiveStartDeliveryStreamName"`
}

type listOutput struct {
	DeliveryStreamNames    []string `json:"DeliveryStreamNames"`
	HasMoreDeliveryStreams bool     `json:"HasMoreDeliveryStreams"`
}

type recordIn struct {
	Data []byte `json:"Data"`
}

type putRecordInput struct {
	DeliveryStreamName *string   `json:"DeliveryStreamName"`
	Record             *recordIn `json:"Record"`
}

type putRecordOutput struct {
	RecordId  string `json:"RecordId"`
	Encrypted bool   `json:"Encrypted"`
}

type putRecordBatchInput struct {
	DeliveryStreamName *string    `json:"DeliveryStreamName"`
	Records            []recordIn `json:"Records"`
}

type batchEntry struct {
	RecordId     string `json:"RecordId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putRecordBatchOutput struct {
	FailedPutCount   int          `json:"FailedPutCount"`
	Encrypted        bool         `json:"Encrypted"`
	RequestResponses []batchEntry `json:"RequestResponses"`
}

type updateInput struct {
	DeliveryStreamName             *string   `json:"DeliveryStreamName"`
	CurrentDeliveryStreamVersionId *string   `json:"CurrentDeliveryStreamVersionId"`
	DestinationId                  *string   `json:"DestinationId"`
	S3DestinationUpdate            *S3Config `json:"S3DestinationUpdate"`
	ExtendedS3DestinationUpdate    *S3Config `json:"ExtendedS3DestinationUpdate"`

	RedshiftDestinationUpdate                   json.RawMessage `json:"RedshiftDestinationUpdate"`
	ElasticsearchDestinationUpdate              json.RawMessage `json:"ElasticsearchDestinationUpdate"`
	AmazonopensearchserviceDestinationUpdate    json.RawMessage `json:"AmazonopensearchserviceDestinationUpdate"`
	AmazonOpenSearchServerlessDestinationUpdate json.RawMessage `json:"AmazonOpenSearchServerlessDestinationUpdate"`
	SplunkDestinationUpdate                     json.RawMessage `json:"SplunkDestinationUpdate"`
	HttpEndpointDestinationUpdate               json.RawMessage `json:"HttpEndpointDestinationUpdate"`
	SnowflakeDestinationUpdate                  json.RawMessage `json:"SnowflakeDestinationUpdate"`
	IcebergDestinationUpdate                    json.RawMessage `json:"IcebergDestinationUpdate"`
}

type startEncryptionInput struct {
	DeliveryStreamName                         *string          `json:"DeliveryStreamName"`
	DeliveryStreamEncryptionConfigurationInput *EncryptionInput `json:"DeliveryStreamEncryptionConfigurationInput"`
}

type tagInput struct {
	DeliveryStreamName *string  `json:"DeliveryStreamName"`
	Tags               []Tag    `json:"Tags"`
	TagKeys            []string `json:"TagKeys"`
}

type listTagsInput struct {
	DeliveryStreamName   *string `json:"DeliveryStreamName"`
	ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey"`
	Limit                *int64  `json:"Limit"`
}

type listTagsOutput struct {
	Tags        []Tag `json:"Tags"`
	HasMoreTags bool  `json:"HasMoreTags"`
}
