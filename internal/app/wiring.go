package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/cloudwatch"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/dynamodb"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/gateway"
	"github.com/eddy-streams/eddy/internal/sigv4"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
	"github.com/eddy-streams/eddy/internal/sts"
)

// sigv4Authenticator verifies signatures against the keys in --credentials;
// the account is the access key when it is 12 digits, else --account.
func sigv4Authenticator(cfg config.Config) (gateway.Authenticator, error) {
	keys, err := sigv4.LoadCredentials(cfg.Credentials)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("credentials %s: no access keys", cfg.Credentials)
	}
	v := &sigv4.Verifier{Keys: keys}
	return func(r *http.Request, body []byte) (gateway.Identity, error) {
		c, err := v.Verify(r, body)
		if err != nil {
			return gateway.Identity{}, err
		}
		return gateway.Identity{AccessKey: c.AccessKey, Account: sigv4.AccountFor(c.AccessKey, cfg.Account), Region: c.Region}, nil
	}, nil
}

// startExtraServices starts the services beyond Data Streams: Firehose,
// which reads its KinesisStreamAsSource streams in process.
func startExtraServices(s *Server, cfg config.Config, o Options, selfURL string) ([]awsproto.Service, []gateway.MetricsWriter, error) {
	fo := firehose.Options{
		Backend: s.Backend, Now: o.Now, Logger: s.log.With("service", "firehose"),
		S3Endpoint: cfg.S3Endpoint, S3AccessKey: cfg.S3AccessKey, S3SecretKey: cfg.S3SecretKey, S3Region: cfg.S3Region,
		KinesisEndpoint: selfURL, DefaultAccount: cfg.Account, DefaultRegion: cfg.Region,
		// Kinesis sources are read in process, in the stream ARN's account:
		// no credentials, whatever --auth says
		KinesisClient: firehose.InProcessKinesis(s.Kinesis),
	}
	fh, err := firehose.New(fo)
	if err != nil {
		return nil, nil, err
	}
	if err := fh.Start(context.Background()); err != nil {
		return nil, nil, err
	}
	s.Firehose = fh
	s.closers = append(s.closers, fh.Close)
	// the gateway finds fh's WriteMetrics itself
	ddb, err := startDynamoDB(s, cfg, o)
	if err != nil {
		return nil, nil, err
	}
	// STS GetCallerIdentity and CloudWatch PutMetricData (exposed at /metrics)
	return []awsproto.Service{fh, ddb, sts.New(), cloudwatch.New()}, nil, nil
}

// startDynamoDB opens the DynamoDB tables kept under <data-dir>/dynamodb;
// with --durability always every change is fsynced before it is
// acknowledged, with interval the log is fsynced that often.
func startDynamoDB(s *Server, cfg config.Config, o Options) (*dynamodb.Service, error) {
	dir := ""
	if cfg.DataDir != "" {
		dir = filepath.Join(cfg.DataDir, "dynamodb")
	}
	mode, interval, err := logstore.ParseDurability(cfg.Durability)
	if err != nil {
		return nil, err
	}
	ddb, err := dynamodb.Open(dynamodb.Options{Dir: dir, Sync: mode == logstore.Always, SyncInterval: interval,
		ExpireTTL: true, Now: o.Now, Logger: s.log.With("service", "dynamodb")})
	if err != nil {
		return nil, fmt.Errorf("dynamodb: %w", err)
	}
	s.closers = append(s.closers, ddb.Close)
	return ddb, nil
}
