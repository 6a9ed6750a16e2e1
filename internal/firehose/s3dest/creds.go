package s3dest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// Credentials. With Endpoint.AccessKey set (--s3-access-key), requests are
// signed with that key pair. Without it, the AWS SDK's default credential
// chain is asked: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY(/AWS_SESSION_TOKEN),
// then the shared files (~/.aws/credentials and ~/.aws/config, or
// AWS_SHARED_CREDENTIALS_FILE/AWS_CONFIG_FILE, profile AWS_PROFILE), then web
// identity, container and EC2 instance roles. When the chain finds nothing,
// requests go unsigned (S3-compatible servers that allow anonymous writes
// accept them) and the failed lookup is not repeated for noCredsRetry.
//
// A request S3 refuses with 403 fails with an error that wraps ErrForbidden
// and says which credentials were used and what to set instead.

// ErrForbidden is wrapped by errors of requests S3 answered with 403.
var ErrForbidden = errors.New("S3 answered 403 Forbidden")

// noCredsRetry is how long a chain that found no credentials is not asked
// again (its last link probes the EC2 instance metadata service).
const noCredsRetry = time.Minute

type signer struct {
	static bool                    // key pair from the Endpoint (--s3-access-key)
	chain  aws.CredentialsProvider // the SDK's default chain (static false)
	now    func() time.Time

	mu        sync.Mutex
	noneUntil time.Time // chain found nothing; requests go unsigned until then
	noneErr   error     // why
}

func newSigner(ep Endpoint, region string) *signer {
	s := &signer{static: ep.AccessKey != "", now: time.Now}
	if s.static {
		return s
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region), config.WithLogger(logging.Nop{}))
	if err != nil {
		// a broken shared config file or an unknown AWS_PROFILE
		s.chain = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, fmt.Errorf("load AWS shared config: %w", err)
		})
		return s
	}
	s.chain = cfg.Credentials
	return s
}

// use says how the next request is signed (unsigned when anonymous) and
// describes the credentials for error messages.
type use struct {
	anonymous bool
	static    bool
	source    string // the chain's provider (Credentials.Source), "" when unsigned
	key       string // the access key id used
	none      error  // why the chain found nothing
}

func (s *signer) use(ctx context.Context) use {
	if s.static || s.chain == nil {
		return use{static: s.static}
	}
	s.mu.Lock()
	if s.now().Before(s.noneUntil) {
		err := s.noneErr
		s.mu.Unlock()
		return use{anonymous: true, none: err}
	}
	s.mu.Unlock()
	c, err := s.chain.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return use{anonymous: true, none: ctx.Err()}
		}
		s.mu.Lock()
		s.noneUntil, s.noneErr = s.now().Add(noCredsRetry), err
		s.mu.Unlock()
		return use{anonymous: true, none: err}
	}
	return use{source: c.Source, key: c.AccessKeyID}
}

// explain wraps err with what to set when S3 refused the request with 403.
func (u use) explain(err error) error {
	var re *awshttp.ResponseError
	if err == nil || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		return err
	}
	var hint string
	switch {
	case u.static:
		hint = "S3 refused the key pair from --s3-access-key and --s3-secret-key (EDDY_S3_ACCESS_KEY, EDDY_S3_SECRET_KEY): set a key pair that may write to the bucket"
	case u.none != nil:
		hint = "no S3 credentials were found, so the request went unsigned: set --s3-access-key and --s3-secret-key " +
			"(or EDDY_S3_ACCESS_KEY and EDDY_S3_SECRET_KEY), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
			"or a profile in the shared credentials file (~/.aws/credentials, AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)" +
			" (credential chain: " + u.none.Error() + ")"
	default:
		hint = fmt.Sprintf("S3 refused access key %s from the AWS default credential chain (%s): set --s3-access-key and --s3-secret-key "+
			"(or EDDY_S3_ACCESS_KEY and EDDY_S3_SECRET_KEY), or fix AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "+
			"AWS_PROFILE or the shared credentials file (~/.aws/credentials, AWS_SHARED_CREDENTIALS_FILE)", u.key, u.source)
	}
	return fmt.Errorf("%w: %s: %w", ErrForbidden, hint, err)
}

// Credentials returns the provider whose credentials sign requests for ep:
// ep's key pair (--s3-access-key) or the AWS SDK's default chain. Firehose
// signs its requests to OpenSearch domains and collections with the same
// credentials as its S3 requests (the stream's role, on AWS).
func Credentials(ep Endpoint) aws.CredentialsProvider {
	region := ep.Region
	if region == "" {
		region = "us-east-1"
	}
	s := newSigner(ep, region)
	if s.static {
		return credentials.NewStaticCredentialsProvider(ep.AccessKey, ep.SecretKey, "")
	}
	return s.chain
}
