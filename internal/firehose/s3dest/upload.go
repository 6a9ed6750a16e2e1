package s3dest

import (
	"bytes"
	"context"
	"fmt"
	"github.com/eddy-streams/eddy/internal/awsclient"
	"io"
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
	client    *s3.Client // signed: the Endpoint's key pair or the default chain
	anon      *s3.Client // unsigned, for when the chain finds no credentials
	signer    *signer
	threshold int
	partSize  int
}

// NewUploader builds an S3 client for ep (path-style addressing, no
// SDK-level retries: the delivery loop retries with its own backoff). Its
// credentials are ep's key pair or, without one, the AWS SDK's default
// chain (see creds.go).
func NewUploader(ep Endpoint) *Uploader {
	region := ep.Region
	if region == "" {
		region = "us-east-1"
	}
	sg := newSigner(ep, region)
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(ep.AccessKey, ep.SecretKey, ""),
		HTTPClient:       awsclient.OwnBody{Next: &http.Client{Timeout: 5 * time.Minute, Transport: newTransport()}},
		RetryMaxAttempts: 1,
	}
	if !sg.static {
		cfg.Credentials = sg.chain
	}
	opts := func(o *s3.Options) {
		if ep.URL != "" {
			o.BaseEndpoint = aws.String(ep.URL)
		}
		o.UsePathStyle = true
	}
	u := &Uploader{client: s3.NewFromConfig(cfg, opts), signer: sg, threshold: MultipartThreshold, partSize: PartSize}
	if !sg.static {
		cfg.Credentials = aws.AnonymousCredentials{}
		u.anon = s3.NewFromConfig(cfg, opts)
	}
	return u
}

// MaxConcurrentPuts is how many uploads to one endpoint the transport
// keeps idle connections for: the delivery loops put many partitions'
// objects at once, and net/http's default of 2 idle connections per host
// would make all but two of them dial (and the server accept) a new
// connection every round.
const MaxConcurrentPuts = 128

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * MaxConcurrentPuts
	t.MaxIdleConnsPerHost = MaxConcurrentPuts
	return t
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

// Put uploads body as bucket/key, with multipart above the threshold. A
// 403 comes back wrapping ErrForbidden with what to set.
func (u *Uploader) Put(ctx context.Context, bucket, key string, body []byte, contentEncoding string) error {
	how := u.signer.use(ctx)
	c := u.client
	if how.anonymous {
		c = u.anon
	}
	return how.explain(u.put(ctx, c, bucket, key, body, contentEncoding))
}

func (u *Uploader) put(ctx context.Context, c *s3.Client, bucket, key string, body []byte, contentEncoding string) error {
	var enc *string
	if contentEncoding != "" {
		enc = aws.String(contentEncoding)
	}
	ctype := aws.String("application/octet-stream")
	if len(body) <= u.threshold {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
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
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ContentEncoding: enc, ContentType: ctype,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("create multipart upload s3://%s/%s: %w", bucket, key, err)
	}
	abort := func(cause error) error {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId})
		return cause
	}
	var parts []types.CompletedPart
	for off, n := 0, int32(1); off < len(body); off, n = off+u.partSize, n+1 {
		chunk := body[off:min(off+u.partSize, len(body))]
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(chunk), ContentLength: aws.Int64(int64(len(chunk))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return abort(fmt.Errorf("upload part %d of s3://%s/%s: %w", n, bucket, key, err))
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n), ChecksumCRC32: out.ChecksumCRC32})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		return abort(fmt.Errorf("complete multipart upload s3://%s/%s: %w", bucket, key, err))
	}
	return nil
}

// Get reads bucket/key back (the Redshift destination's COPY reads its
// intermediate objects), with the same credentials as Put.
func (u *Uploader) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	how := u.signer.use(ctx)
	c := u.client
	if how.anonymous {
		c = u.anon
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, how.explain(fmt.Errorf("get s3://%s/%s: %w", bucket, key, err))
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	return b, nil
}
