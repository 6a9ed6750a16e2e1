package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/eddy-streams/eddy/internal/analytics"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/kinesis"
)

// S3 reads objects from the S3-compatible endpoint Firehose delivers to
// (the server's --s3-endpoint and keys).
type S3 struct{ client *s3.Client }

// maxReferenceBytes is AWS's reference object limit (1 GB).
const maxReferenceBytes = 1 << 30

// NewS3 builds the reader (path-style addressing, static or anonymous
// credentials).
func NewS3(endpoint, accessKey, secretKey, region string) *S3 {
	if region == "" {
		region = "us-east-1"
	}
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		HTTPClient: awsclient.OwnBody{Next: &http.Client{Timeout: 5 * time.Minute}}}
	if accessKey == "" {
		cfg.Credentials = aws.AnonymousCredentials{}
	}
	return &S3{client: s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = true
	})}
}

// GetObject implements Objects for "arn:aws:s3:::bucket".
func (s *S3) GetObject(ctx context.Context, bucketARN, key string) ([]byte, error) {
	bucket := bucketARN
	if i := strings.LastIndex(bucketARN, ":"); strings.HasPrefix(bucketARN, "arn:") && i >= 0 {
		bucket = bucketARN[i+1:]
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nk *types.NoSuchKey
		var nb *types.NoSuchBucket
		if errors.As(err, &nk) || errors.As(err, &nb) {
			return nil, fmt.Errorf("%w: s3://%s/%s", analytics.ErrSourceNotFound, bucket, key)
		}
		return nil, err
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(out.Body, maxReferenceBytes+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxReferenceBytes {
		return nil, fmt.Errorf("s3://%s/%s is larger than 1 GB", bucket, key)
	}
	return buf.Bytes(), nil
}

// Sampler implements analytics.Sampler over the same sources the runner
// reads.
type Sampler struct {
	R *Runner
}

// SampleStream reads up to max records from a data stream or delivery
// stream ARN.
func (s Sampler) SampleStream(ctx context.Context, arn, position string, max int) ([][]byte, error) {
	var src source
	if _, _, _, ok := firehose.ParseARN(arn); ok {
		in := &analytics.InputDescription{KinesisFirehoseInputDescription: &analytics.ResourceRole{ResourceARN: arn}}
		var err error
		if src, err = s.R.source(in); err != nil {
			return nil, fmt.Errorf("%w: %v", analytics.ErrSourceNotFound, err)
		}
	} else {
		in := &analytics.InputDescription{KinesisStreamsInputDescription: &analytics.ResourceRole{ResourceARN: arn}}
		var err error
		if src, err = s.R.source(in); err != nil {
			if errors.Is(err, kinesis.ErrStreamGone) {
				return nil, fmt.Errorf("%w: %v", analytics.ErrSourceNotFound, err)
			}
			return nil, err
		}
	}
	list, err := src.list()
	if err != nil {
		return nil, err
	}
	type cursor struct{ ix, pos uint64 }
	var curs []cursor
	for _, d := range list {
		trim, next, _, err := src.bounds(ctx, d.index)
		if err != nil {
			return nil, err
		}
		p := next
		if position == "TRIM_HORIZON" || position == "LAST_STOPPED_POINT" {
			p = trim
		}
		curs = append(curs, cursor{uint64(d.index), p})
	}
	var out [][]byte
	collect := func() error {
		for i := range curs {
			if len(out) >= max {
				return nil
			}
			next, err := src.read(ctx, uint32(curs[i].ix), curs[i].pos, max-len(out), func(_ uint64, _ int64, _, data []byte) {
				out = append(out, append([]byte(nil), data...))
			})
			if err != nil {
				return err
			}
			curs[i].pos = next
		}
		return nil
	}
	if err := collect(); err != nil {
		return nil, err
	}
	// NOW (or an empty stream): wait briefly for new records, as AWS samples
	// records arriving after the call
	deadline := time.Now().Add(2 * time.Second)
	for len(out) == 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
		if err := collect(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetObject reads an S3 object through the runner's Objects.
func (s Sampler) GetObject(ctx context.Context, bucketARN, key string) ([]byte, error) {
	if s.R.opt.Objects == nil {
		return nil, errors.New("S3 is not configured on this server")
	}
	return s.R.opt.Objects.GetObject(ctx, bucketARN, key)
}
