package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/eddy-streams/eddy/internal/analytics"
	"github.com/eddy-streams/eddy/internal/analytics/runner"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/cloudwatch"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/dynamodb"
	"github.com/eddy-streams/eddy/internal/firehose"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/gateway"
	"github.com/eddy-streams/eddy/internal/glue"
	"github.com/eddy-streams/eddy/internal/lambda"
	"github.com/eddy-streams/eddy/internal/sigv4"
	"github.com/eddy-streams/eddy/internal/storage/logstore"
	"github.com/eddy-streams/eddy/internal/storage/natsstore"
	"github.com/eddy-streams/eddy/internal/sts"
	"github.com/eddy-streams/eddy/internal/video"
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
// which reads its KinesisStreamAsSource streams in process; Lambda; DynamoDB,
// STS and CloudWatch; and Data Analytics (kinesisanalytics and
// kinesisanalyticsv2), whose runner reads and writes streams and delivery
// streams in process.
func startExtraServices(s *Server, cfg config.Config, o Options, selfURL string) ([]awsproto.Service, []prometheus.Collector, error) {
	// Lambda: functions run as local processes; mappings read streams in
	// process; it is routed by path (REST-JSON)
	// mappings run on the node holding their lease, their checkpoints
	// fenced by it (cluster mode)
	lamBackend, _ := s.fenced("lambda-esm-")
	var lamShared lambda.SharedItems
	if st, ok := s.Backend.(*natsstore.Store); ok {
		lamShared = st // functions, mappings and code shared by every node
	}
	lam, err := lambda.New(lambda.Options{
		Backend: lamBackend, Shared: lamShared, Kinesis: s.Kinesis, Leases: s.leaser(), Dir: filepath.Join(cfg.DataDir, "lambda"), Now: o.Now,
		Logger: s.log.With("service", "lambda"), DefaultAccount: cfg.Account, DefaultRegion: cfg.Region, Endpoint: selfURL,
		S3: s3dest.Endpoint{URL: cfg.S3Endpoint, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, Region: cfg.S3Region},
	})
	if err != nil {
		return nil, nil, err
	}
	if err := lam.Start(); err != nil {
		lam.Close()
		return nil, nil, err
	}
	s.Lambda = lam
	s.closers = append(s.closers, lam.Close)
	s.rest = append(s.rest, lam)

	// Kinesis Video Streams: REST-JSON on exact top-level paths; PutMedia's
	// body streams through the gateway unread
	vid, err := video.New(video.Options{
		Dir: filepath.Join(cfg.DataDir, "video"), Endpoint: selfURL, Now: o.Now,
		Logger: s.log.With("service", "kinesisvideo"), DefaultAccount: cfg.Account, DefaultRegion: cfg.Region,
	})
	if err != nil {
		return nil, nil, err
	}
	vid.Start()
	s.closers = append(s.closers, vid.Close)
	s.rest = append(s.rest, vid)

	// Glue Data Catalog: the schemas Firehose format conversion reads in process
	glo := glue.Options{Backend: s.Backend, Now: o.Now, Logger: s.log.With("service", "glue"),
		DefaultAccount: cfg.Account, DefaultRegion: cfg.Region}
	if st, ok := s.Backend.(*natsstore.Store); ok {
		glo.Shared = st // databases and tables shared by every node
	}
	gl, err := glue.New(glo)
	if err != nil {
		return nil, nil, err
	}
	s.Glue = gl
	s.closers = append(s.closers, gl.Close)

	fo := firehose.Options{
		Catalog: gl,
		Backend: s.Backend, Now: o.Now, Logger: s.log.With("service", "firehose"),
		S3Endpoint: cfg.S3Endpoint, S3AccessKey: cfg.S3AccessKey, S3SecretKey: cfg.S3SecretKey, S3Region: cfg.S3Region,
		DefaultAccount: cfg.Account, DefaultRegion: cfg.Region,
		// Kinesis sources are read in process (kinesis/inproc.go), in the
		// stream ARN's account: no credentials, whatever --auth says
		Streams: s.Kinesis,
		// Lambda processors invoke functions in process
		Lambda: lam,
		// delivery runs on the node holding each stream's lease
		Leases: s.leaser(),
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
	ddb, err := startDynamoDB(s, cfg, o)
	if err != nil {
		return nil, nil, err
	}
	// STS GetCallerIdentity and CloudWatch PutMetricData (exposed at /metrics)
	an, err := startAnalytics(s, cfg, o)
	if err != nil {
		return nil, nil, err
	}
	return []awsproto.Service{fh, ddb, sts.New(), cloudwatch.New(), an.V1(), an.V2(), gl}, nil, nil
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

// AnalyticsClockSpeedEnv accelerates the clock of analytics applications
// (e.g. 300: a 5-minute window passes in one second). For tests only: it
// makes ROWTIME run ahead of wall time.
const AnalyticsClockSpeedEnv = "EDDY_TEST_ANALYTICS_CLOCK_SPEED"

func startAnalytics(s *Server, cfg config.Config, o Options) (*analytics.Service, error) {
	speed := 1.0
	if v := os.Getenv(AnalyticsClockSpeedEnv); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive number", AnalyticsClockSpeedEnv, v)
		}
		speed = f
	}
	runBackend, fm := s.fenced("analytics-ckpt-")
	ro := runner.Options{Streams: s.Kinesis, Firehose: s.Firehose, Backend: runBackend, Now: o.Now, Speed: speed,
		Logger: s.log.With("service", "analytics")}
	if cfg.S3Endpoint != "" || cfg.S3AccessKey != "" {
		ro.Objects = runner.NewS3(cfg.S3Endpoint, cfg.S3AccessKey, cfg.S3SecretKey, cfg.S3Region)
	}
	r := runner.New(ro)
	var launcher analytics.Launcher = r
	if fm != nil {
		// cluster mode: each running application on the node holding its lease
		launcher = &leasedLauncher{inner: r, leases: s.leaser(), fm: fm}
	}
	ao := analytics.Options{Backend: s.Backend, Now: o.Now, Logger: s.log.With("service", "analytics"),
		Launcher: launcher, Sampler: runner.Sampler{R: r}}
	if st, ok := s.Backend.(*natsstore.Store); ok {
		ao.Shared = st // applications shared by every node
	}
	an, err := analytics.New(ao)
	if err != nil {
		return nil, err
	}
	if err := an.Start(); err != nil {
		return nil, err
	}
	s.Analytics = an
	s.closers = append(s.closers, an.Close)
	return an, nil
}
