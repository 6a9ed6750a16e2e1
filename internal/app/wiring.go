package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/gateway"
	"github.com/eddy-streams/eddy/internal/glue"
	"github.com/eddy-streams/eddy/internal/lambda"
	"github.com/eddy-streams/eddy/internal/sigv4"
	"github.com/prometheus/client_golang/prometheus"
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
func startExtraServices(s *Server, cfg config.Config, o Options, selfURL string) ([]awsproto.Service, []prometheus.Collector, error) {
	// Lambda: functions run as local processes; mappings read streams in
	// process; it is routed by path (REST-JSON)
	lam, err := lambda.New(lambda.Options{
		Backend: s.Backend, Kinesis: s.Kinesis, Dir: filepath.Join(cfg.DataDir, "lambda"), Now: o.Now,
		Logger: s.log.With("service", "lambda"), DefaultAccount: cfg.Account, DefaultRegion: cfg.Region, Endpoint: selfURL,
	})
	if err != nil {
		return nil, nil, err
	}
	lam.Start()
	s.Lambda = lam
	s.closers = append(s.closers, lam.Close)
	s.rest = append(s.rest, lam)

	// Glue Data Catalog: the schemas Firehose format conversion reads in process
	gl, err := glue.New(glue.Options{Backend: s.Backend, Now: o.Now, Logger: s.log.With("service", "glue"),
		DefaultAccount: cfg.Account, DefaultRegion: cfg.Region})
	if err != nil {
		return nil, nil, err
	}
	s.Glue = gl

	fo := firehose.Options{
		Catalog: gl,
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
	// the gateway registers fh's metrics (a prometheus.Collector) itself
	return []awsproto.Service{fh, gl}, nil, nil
}
