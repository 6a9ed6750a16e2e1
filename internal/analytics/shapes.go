package analytics

// Wire shapes shared by kinesisanalytics (v1) and the SQL applications of
// kinesisanalyticsv2. Member names are AWS's; v2 drops some RoleARN members
// (they are pointers here, omitted when empty).

// RecordColumn maps one source element to an in-application column.
type RecordColumn struct {
	Name    string  `json:"Name"`
	SqlType string  `json:"SqlType"`
	Mapping *string `json:"Mapping,omitempty"`
}

// CSVMappingParameters are CSV delimiters ("\n" and "," are typical).
type CSVMappingParameters struct {
	RecordRowDelimiter    string `json:"RecordRowDelimiter"`
	RecordColumnDelimiter string `json:"RecordColumnDelimiter"`
}

// JSONMappingParameters give the path of the record row ("$").
type JSONMappingParameters struct {
	RecordRowPath string `json:"RecordRowPath"`
}

// MappingParameters holds one of the two format parameter sets.
type MappingParameters struct {
	JSONMappingParameters *JSONMappingParameters `json:"JSONMappingParameters,omitempty"`
	CSVMappingParameters  *CSVMappingParameters  `json:"CSVMappingParameters,omitempty"`
}

// RecordFormat is JSON or CSV with its parameters.
type RecordFormat struct {
	RecordFormatType  string             `json:"RecordFormatType"`
	MappingParameters *MappingParameters `json:"MappingParameters,omitempty"`
}

// SourceSchema describes the records of an input or reference source.
type SourceSchema struct {
	RecordFormat   *RecordFormat  `json:"RecordFormat"`
	RecordEncoding *string        `json:"RecordEncoding,omitempty"`
	RecordColumns  []RecordColumn `json:"RecordColumns"`
}

// ResourceRole is a resource ARN with the role used to reach it.
type ResourceRole struct {
	ResourceARN string  `json:"ResourceARN"`
	RoleARN     *string `json:"RoleARN,omitempty"`
}

// ResourceRoleUpdate changes a ResourceRole.
type ResourceRoleUpdate struct {
	ResourceARNUpdate *string `json:"ResourceARNUpdate,omitempty"`
	RoleARNUpdate     *string `json:"RoleARNUpdate,omitempty"`
}

// InputParallelism is the number of in-application streams (1–64).
type InputParallelism struct {
	Count *int32 `json:"Count,omitempty"`
}

// InputProcessingConfiguration names a Lambda preprocessor.
type InputProcessingConfiguration struct {
	InputLambdaProcessor *ResourceRole `json:"InputLambdaProcessor"`
}

// InputProcessingConfigurationDescription is its description.
type InputProcessingConfigurationDescription struct {
	InputLambdaProcessorDescription *ResourceRole `json:"InputLambdaProcessorDescription,omitempty"`
}

// Input is a streaming source.
type Input struct {
	NamePrefix                   *string                       `json:"NamePrefix"`
	InputProcessingConfiguration *InputProcessingConfiguration `json:"InputProcessingConfiguration,omitempty"`
	KinesisStreamsInput          *ResourceRole                 `json:"KinesisStreamsInput,omitempty"`
	KinesisFirehoseInput         *ResourceRole                 `json:"KinesisFirehoseInput,omitempty"`
	InputParallelism             *InputParallelism             `json:"InputParallelism,omitempty"`
	InputSchema                  *SourceSchema                 `json:"InputSchema"`
}

// StartingPosition is InputStartingPositionConfiguration.
type StartingPosition struct {
	InputStartingPosition *string `json:"InputStartingPosition,omitempty"`
}

// InputDescription describes a configured input.
type InputDescription struct {
	InputId                                 string                                   `json:"InputId"`
	NamePrefix                              string                                   `json:"NamePrefix"`
	InAppStreamNames                        []string                                 `json:"InAppStreamNames"`
	InputProcessingConfigurationDescription *InputProcessingConfigurationDescription `json:"InputProcessingConfigurationDescription,omitempty"`
	KinesisStreamsInputDescription          *ResourceRole                            `json:"KinesisStreamsInputDescription,omitempty"`
	KinesisFirehoseInputDescription         *ResourceRole                            `json:"KinesisFirehoseInputDescription,omitempty"`
	InputSchema                             *SourceSchema                            `json:"InputSchema,omitempty"`
	InputParallelism                        *InputParallelism                        `json:"InputParallelism,omitempty"`
	InputStartingPositionConfiguration      *StartingPosition                        `json:"InputStartingPositionConfiguration,omitempty"`
}

// DestinationSchema is the output record format (JSON or CSV).
type DestinationSchema struct {
	RecordFormatType string `json:"RecordFormatType"`
}

// Output routes an in-application stream to a destination.
type Output struct {
	Name                  *string            `json:"Name"`
	KinesisStreamsOutput  *ResourceRole      `json:"KinesisStreamsOutput,omitempty"`
	KinesisFirehoseOutput *ResourceRole      `json:"KinesisFirehoseOutput,omitempty"`
	LambdaOutput          *ResourceRole      `json:"LambdaOutput,omitempty"`
	DestinationSchema     *DestinationSchema `json:"DestinationSchema"`
}

// OutputDescription describes a configured output.
type OutputDescription struct {
	OutputId                         string             `json:"OutputId"`
	Name                             string             `json:"Name"`
	KinesisStreamsOutputDescription  *ResourceRole      `json:"KinesisStreamsOutputDescription,omitempty"`
	KinesisFirehoseOutputDescription *ResourceRole      `json:"KinesisFirehoseOutputDescription,omitempty"`
	LambdaOutputDescription          *ResourceRole      `json:"LambdaOutputDescription,omitempty"`
	DestinationSchema                *DestinationSchema `json:"DestinationSchema,omitempty"`
}

// S3ReferenceDataSource is the S3 object of a reference table.
type S3ReferenceDataSource struct {
	BucketARN        string  `json:"BucketARN"`
	FileKey          string  `json:"FileKey"`
	ReferenceRoleARN *string `json:"ReferenceRoleARN,omitempty"`
}

// ReferenceDataSource is an in-application reference table.
type ReferenceDataSource struct {
	TableName             *string                `json:"TableName"`
	S3ReferenceDataSource *S3ReferenceDataSource `json:"S3ReferenceDataSource,omitempty"`
	ReferenceSchema       *SourceSchema          `json:"ReferenceSchema"`
}

// ReferenceDataSourceDescription describes a configured reference table.
type ReferenceDataSourceDescription struct {
	ReferenceId                      string                 `json:"ReferenceId"`
	TableName                        string                 `json:"TableName"`
	S3ReferenceDataSourceDescription *S3ReferenceDataSource `json:"S3ReferenceDataSourceDescription,omitempty"`
	ReferenceSchema                  *SourceSchema          `json:"ReferenceSchema,omitempty"`
}

// CloudWatchLoggingOption names a log stream (v1 also a role).
type CloudWatchLoggingOption struct {
	LogStreamARN *string `json:"LogStreamARN"`
	RoleARN      *string `json:"RoleARN,omitempty"`
}

// CloudWatchLoggingOptionDescription describes one.
type CloudWatchLoggingOptionDescription struct {
	CloudWatchLoggingOptionId string  `json:"CloudWatchLoggingOptionId"`
	LogStreamARN              string  `json:"LogStreamARN"`
	RoleARN                   *string `json:"RoleARN,omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value,omitempty"`
}

// InputSchemaUpdate changes an input's schema.
type InputSchemaUpdate struct {
	RecordFormatUpdate   *RecordFormat  `json:"RecordFormatUpdate,omitempty"`
	RecordEncodingUpdate *string        `json:"RecordEncodingUpdate,omitempty"`
	RecordColumnUpdates  []RecordColumn `json:"RecordColumnUpdates,omitempty"`
}

// InputUpdate changes a configured input.
type InputUpdate struct {
	InputId                            *string `json:"InputId"`
	NamePrefixUpdate                   *string `json:"NamePrefixUpdate,omitempty"`
	InputProcessingConfigurationUpdate *struct {
		InputLambdaProcessorUpdate *ResourceRoleUpdate `json:"InputLambdaProcessorUpdate"`
	} `json:"InputProcessingConfigurationUpdate,omitempty"`
	KinesisStreamsInputUpdate  *ResourceRoleUpdate `json:"KinesisStreamsInputUpdate,omitempty"`
	KinesisFirehoseInputUpdate *ResourceRoleUpdate `json:"KinesisFirehoseInputUpdate,omitempty"`
	InputSchemaUpdate          *InputSchemaUpdate  `json:"InputSchemaUpdate,omitempty"`
	InputParallelismUpdate     *struct {
		CountUpdate *int32 `json:"CountUpdate"`
	} `json:"InputParallelismUpdate,omitempty"`
}

// OutputUpdate changes a configured output.
type OutputUpdate struct {
	OutputId                    *string             `json:"OutputId"`
	NameUpdate                  *string             `json:"NameUpdate,omitempty"`
	KinesisStreamsOutputUpdate  *ResourceRoleUpdate `json:"KinesisStreamsOutputUpdate,omitempty"`
	KinesisFirehoseOutputUpdate *ResourceRoleUpdate `json:"KinesisFirehoseOutputUpdate,omitempty"`
	LambdaOutputUpdate          *ResourceRoleUpdate `json:"LambdaOutputUpdate,omitempty"`
	DestinationSchemaUpdate     *DestinationSchema  `json:"DestinationSchemaUpdate,omitempty"`
}

// ReferenceDataSourceUpdate changes a configured reference table.
type ReferenceDataSourceUpdate struct {
	ReferenceId                 *string `json:"ReferenceId"`
	TableNameUpdate             *string `json:"TableNameUpdate,omitempty"`
	S3ReferenceDataSourceUpdate *struct {
		BucketARNUpdate        *string `json:"BucketARNUpdate,omitempty"`
		FileKeyUpdate          *string `json:"FileKeyUpdate,omitempty"`
		ReferenceRoleARNUpdate *string `json:"ReferenceRoleARNUpdate,omitempty"`
	} `json:"S3ReferenceDataSourceUpdate,omitempty"`
	ReferenceSchemaUpdate *SourceSchema `json:"ReferenceSchemaUpdate,omitempty"`
}

// CloudWatchLoggingOptionUpdate changes a logging option.
type CloudWatchLoggingOptionUpdate struct {
	CloudWatchLoggingOptionId *string `json:"CloudWatchLoggingOptionId"`
	LogStreamARNUpdate        *string `json:"LogStreamARNUpdate,omitempty"`
	RoleARNUpdate             *string `json:"RoleARNUpdate,omitempty"`
}

// InputConfiguration is a v1 StartApplication input choice.
type InputConfiguration struct {
	Id                                 *string           `json:"Id"`
	InputStartingPositionConfiguration *StartingPosition `json:"InputStartingPositionConfiguration"`
}

// SqlRunConfiguration is the v2 equivalent.
type SqlRunConfiguration struct {
	InputId                            *string           `json:"InputId"`
	InputStartingPositionConfiguration *StartingPosition `json:"InputStartingPositionConfiguration"`
}

// S3Configuration names an S3 object for DiscoverInputSchema.
type S3Configuration struct {
	RoleARN   *string `json:"RoleARN,omitempty"`
	BucketARN *string `json:"BucketARN"`
	FileKey   *string `json:"FileKey"`
}
