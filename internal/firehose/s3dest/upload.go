package s3dest

import (
	"bytes"
	"context"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Endpoint says where and how to reach an S3-compatible server.
type Endpoint struct {
	URL       string // e.g. http://127.0.0.1:7070; empty means AWS's own
	AccessKey string
	SecretKey string
	Region    string
}

// Multipart thresholds: objects above MultipartThreshold go up in parts of
// PartSize (S3's minimum part is 5 MiB).
const (
	MultipartThreshold = 16 << 20
	PartSize           = 8 << 20
)

// Uploader puts objects to one endpoint.
type Uploader struct {
	client    *s3.Client
	threshold int
	partSize  int
}

// NewUploader builds an S3 client for ep (path-style addressing, static
// credentials, no SDK-level retries: the delivery loop retries with its own
// backoff).
func NewUploader(ep Endpoint) *Uploader {
	region := ep.Region
	if region == "" {
		region = "us-east-1"
	}
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(ep.AccessKey, ep.SecretKey, ""),
		HTTPClient:       awsclient.OwnBody{Next: &http.Client{Timeout: 5 * time.Minute}},
		RetryMaxAttempts: 1,
	}
	if ep.AccessKey == "" {
		cfg.Credentials = aws.AnonymousCredentials{}
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if ep.URL != "" {
			o.BaseEndpoint = aws.String(ep.URL)
		}
		o.UsePathStyle = true
	})
	return &Uploader{client: client, threshold: MultipartThreshold, partSize: PartSize}
}

// Client exposes the underlying S3 client (tests read objects back with it).
func (u *Uploader) Client() *s3.Client { return u.client }

// SetMultipart changes the thresholds (tests use small ones).
func (u *Uploader) SetMultipart(threshold, partSize int) {
	u.threshold, u.partSize = threshold, max(partSize, 1)
}

// BucketFromARN extracts the bucket name from `arn:aws:s3:::bucket`.
func BucketFromARN(arn string) (string, bool) {
	const p = ":s3:::"
	i := strings.Index(arn, p)
	if !strings.HasPrefix(arn, "arn:") || i < 0 {
		return "", false
	}
	b := arn[i+len(p):]
	if b == "" || strings.ContainsAny(b, "/") {
		return "", false
	}
	return b, true
}

// Put uploads body as bucket/key, with multipart above the threshold.
func (u *Uploader) Put(ctx context.Context, bucket, key string, body []byte, contentEncoding string) error {
	var enc *string
	if contentEncoding != "" {
		enc = aws.String(contentEncoding)
	}
	ctype := aws.String("application/octet-stream")
	if len(body) <= u.threshold {
		_, err := u.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))), ContentEncoding: enc, ContentType: ctype,
		})
		if err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
		}
		return nil
	}
	// Parts carry CRC32 checksums (the SDK default); the upload declares the
	// same algorithm so that S3 accepts them in CompleteMultipartUpload.
	mp, err := u.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ContentEncoding: enc, ContentType: ctype,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("create multipart upload s3://%s/%s: %w", bucket, key, err)
	}
	abort := func(cause error) error {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = u.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId})
		return cause
	}
	var parts []types.CompletedPart
	for off, n := 0, int32(1); off < len(body); off, n = off+u.partSize, n+1 {
		chunk := body[off:min(off+u.partSize, len(body))]
		out, err := u.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(chunk), ContentLength: aws.Int64(int64(len(chunk))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return abort(fmt.Errorf("upload part %d of s3://%s/%s: %w", n, bucket, key, err))
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n), ChecksumCRC32: out.ChecksumCRC32})
	}
	if _, err := u.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		return abort(fmt.Errorf("complete multipart upload s3://%s/%s: %w", bucket, key, err))
	}
	return nil
}
