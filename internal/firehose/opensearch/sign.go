package opensearch

// SigV4 signing of `_bulk` requests, as Firehose signs them with its role:
// service name "es" for OpenSearch Service and Elasticsearch domains, "aoss"
// for OpenSearch Serverless collections, the payload's SHA-256 in
// X-Amz-Content-Sha256 (which Serverless requires) and, with temporary
// credentials, X-Amz-Security-Token. The signature comes from the AWS SDK for
// Go v2's v4 signer.
//
// When the credential provider finds nothing, requests go unsigned (a local
// cluster without a security plugin accepts them) and the failed lookup is
// not repeated for noCredsRetry; a 403 then says so in the error record.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Service names of the SigV4 credential scope.
const (
	ServiceDomain     = "es"
	ServiceServerless = "aoss"
)

// noCredsRetry is how long a provider that found no credentials is not asked again.
const noCredsRetry = time.Minute

// Signing says how requests are signed.
type Signing struct {
	Service     string // ServiceDomain or ServiceServerless
	Region      string
	Credentials aws.CredentialsProvider
	Now         func() time.Time // nil: time.Now
}

type signer struct {
	cfg Signing
	v4  *v4.Signer

	mu        sync.Mutex
	noneUntil time.Time
	noneErr   error
}

func newSigner(cfg Signing) *signer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &signer{cfg: cfg, v4: v4.NewSigner()}
}

// sign signs req, whose body is body. It returns why the request went
// unsigned (nil when signed).
func (s *signer) sign(ctx context.Context, req *http.Request, body []byte) (unsigned error, err error) {
	now := s.cfg.Now()
	s.mu.Lock()
	if now.Before(s.noneUntil) {
		e := s.noneErr
		s.mu.Unlock()
		return e, nil
	}
	s.mu.Unlock()
	creds, cerr := s.cfg.Credentials.Retrieve(ctx)
	if cerr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.mu.Lock()
		s.noneUntil, s.noneErr = now.Add(noCredsRetry), cerr
		s.mu.Unlock()
		return cerr, nil
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := s.v4.SignHTTP(ctx, creds, req, hash, s.cfg.Service, s.cfg.Region, now.UTC()); err != nil {
		return nil, fmt.Errorf("sign the _bulk request: %w", err)
	}
	return nil, nil
}
