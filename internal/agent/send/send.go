// Package send delivers batches of records to Kinesis Data Streams
// (PutRecords) or Firehose (PutRecordBatch) through the AWS SDK for Go v2.
//
// A Sender makes one attempt and reports, per entry, which ones failed; the
// caller retries only those, with its own backoff. The SDK's retryer is
// turned off so that retries are counted and paced in one place.
package send

import (
	"context"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Entry is one record to send.
type Entry struct {
	Data         []byte
	PartitionKey string // Data Streams only
}

// Result tells which entries of an accepted call failed.
type Result struct {
	Failed    []int  // indexes of failed entries, ascending
	ErrorCode string // the first failed entry's error code
	ErrorMsg  string
}

// Sender makes one delivery attempt. A returned error means the whole call
// failed and every entry must be retried.
type Sender interface {
	Send(ctx context.Context, entries []Entry) (Result, error)
}

// ClientOptions configure the AWS clients.
type ClientOptions struct {
	Endpoint          string // "" for the AWS default; scheme optional (https assumed)
	Region            string
	AccessKeyID       string
	SecretAccessKey   string
	AssumeRoleARN     string
	AssumeRoleExtID   string
	STSEndpoint       string
	UserAgent         string
	ConnectTimeout    time.Duration
	SocketTimeout     time.Duration
	MaxConnsPerHost   int
	HTTPClient        *http.Client // overrides the timeouts above when set
	DefaultRegionHint string       // used when neither Region nor the environment give one
}

// AWSConfig builds an SDK config: static keys when given, else the default
// credential chain (environment, shared files, container and instance roles),
// optionally wrapped in an STS AssumeRole provider.
func AWSConfig(ctx context.Context, o ClientOptions) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")))
	}
	var hc aws.HTTPClient = o.HTTPClient
	if o.HTTPClient == nil {
		// The SDK's buildable client keeps working with AWS_CA_BUNDLE.
		hc = awshttp.NewBuildableClient().
			WithDialerOptions(func(d *net.Dialer) {
				if o.ConnectTimeout > 0 {
					d.Timeout = o.ConnectTimeout
				}
			}).
			WithTransportOptions(func(t *http.Transport) {
				t.MaxIdleConnsPerHost = max(o.MaxConnsPerHost, 2)
				if o.SocketTimeout > 0 {
					t.ResponseHeaderTimeout = o.SocketTimeout
				}
			})
	}
	opts = append(opts, awsconfig.WithHTTPClient(hc), awsconfig.WithRetryMaxAttempts(1))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	// Wrapped after loading: the loader configures AWS_CA_BUNDLE on the
	// buildable client itself.
	// own request bodies: see awsclient.OwnBody (a retried, already stored
	// batch would be sent twice)
	cfg.HTTPClient = awsclient.OwnBody{Next: cfg.HTTPClient}
	if cfg.Region == "" {
		cfg.Region = o.DefaultRegionHint
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if o.UserAgent != "" {
		cfg.AppID = o.UserAgent
	}
	if o.AssumeRoleARN != "" {
		stsClient := sts.NewFromConfig(cfg, func(so *sts.Options) {
			if o.STSEndpoint != "" {
				so.BaseEndpoint = aws.String(withScheme(o.STSEndpoint))
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, o.AssumeRoleARN,
			func(ao *stscreds.AssumeRoleOptions) {
				ao.RoleSessionName = "AWSKinesisAgent"
				if o.AssumeRoleExtID != "" {
					ao.ExternalID = aws.String(o.AssumeRoleExtID)
				}
			}))
	}
	return cfg, nil
}

// withScheme adds https:// to an endpoint given as a bare host, as the AWS
// agent accepts "kinesis.us-east-1.amazonaws.com".
func withScheme(endpoint string) string {
	if strings.Contains(endpoint, "://") {
		return endpoint
	}
	return "https://" + endpoint
}

// RegionFromEndpoint guesses the region from an AWS host name such as
// firehose.eu-west-1.amazonaws.com ("" if it does not look like one).
func RegionFromEndpoint(endpoint string) string {
	host := endpoint
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	parts := strings.Split(host, ".")
	if len(parts) >= 4 && parts[len(parts)-2] == "amazonaws" {
		return parts[1]
	}
	return ""
}

// Kinesis sends to a Data Streams stream with PutRecords.
type Kinesis struct {
	client *kinesis.Client
	stream string
}

// NewKinesis returns a PutRecords sender for stream.
func NewKinesis(cfg aws.Config, endpoint, stream string) *Kinesis {
	c := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(withScheme(endpoint))
		}
	})
	return &Kinesis{client: c, stream: stream}
}

// Send implements Sender.
func (k *Kinesis) Send(ctx context.Context, entries []Entry) (Result, error) {
	recs := make([]kintypes.PutRecordsRequestEntry, len(entries))
	for i, e := range entries {
		recs[i] = kintypes.PutRecordsRequestEntry{Data: e.Data, PartitionKey: aws.String(e.PartitionKey)}
	}
	out, err := k.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(k.stream), Records: recs})
	if err != nil {
		return Result{}, fmt.Errorf("PutRecords %s: %w", k.stream, err)
	}
	return failures("PutRecords "+k.stream, len(entries), aws.ToInt32(out.FailedRecordCount), out.Records,
		func(r kintypes.PutRecordsResultEntry) (*string, *string) { return r.ErrorCode, r.ErrorMessage })
}

// Firehose sends to a delivery stream with PutRecordBatch.
type Firehose struct {
	client *firehose.Client
	stream string
}

// NewFirehose returns a PutRecordBatch sender for stream.
func NewFirehose(cfg aws.Config, endpoint, stream string) *Firehose {
	c := firehose.NewFromConfig(cfg, func(o *firehose.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(withScheme(endpoint))
		}
	})
	return &Firehose{client: c, stream: stream}
}

// Send implements Sender.
func (f *Firehose) Send(ctx context.Context, entries []Entry) (Result, error) {
	recs := make([]fhtypes.Record, len(entries))
	for i, e := range entries {
		recs[i] = fhtypes.Record{Data: e.Data}
	}
	out, err := f.client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(f.stream), Records: recs})
	if err != nil {
		return Result{}, fmt.Errorf("PutRecordBatch %s: %w", f.stream, err)
	}
	return failures("PutRecordBatch "+f.stream, len(entries), aws.ToInt32(out.FailedPutCount), out.RequestResponses,
		func(r fhtypes.PutRecordBatchResponseEntry) (*string, *string) { return r.ErrorCode, r.ErrorMessage })
}

// failures turns a batch call's per-entry results into a Result: the
// indexes that failed and the first failure's code and message.
func failures[R any](call string, n int, failed int32, results []R, errOf func(R) (code, msg *string)) (Result, error) {
	var res Result
	if failed == 0 {
		return res, nil
	}
	if len(results) != n {
		return Result{}, fmt.Errorf("%s: %d results for %d records", call, len(results), n)
	}
	for i, r := range results {
		if code, msg := errOf(r); code != nil {
			if res.ErrorCode == "" {
				res.ErrorCode, res.ErrorMsg = aws.ToString(code), aws.ToString(msg)
			}
			res.Failed = append(res.Failed, i)
		}
	}
	return res, nil
}
