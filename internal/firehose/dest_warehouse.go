package firehose

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
	"github.com/eddy-streams/eddy/internal/firehose/warehouse"
)

// redshiftConfig is RedshiftDestinationConfiguration's delivery members.
type redshiftConfig struct {
	ClusterJDBCURL *string `json:"ClusterJDBCURL"`
	CopyCommand    *struct {
		DataTableName    *string `json:"DataTableName"`
		DataTableColumns *string `json:"DataTableColumns"`
		CopyOptions      *string `json:"CopyOptions"`
	} `json:"CopyCommand"`
	Username              *string   `json:"Username"`
	Password              *string   `json:"Password"`
	S3BackupMode          *string   `json:"S3BackupMode"`
	S3BackupConfiguration *S3Config `json:"S3BackupConfiguration"`
}

func init() {
	registerDest(&destSpec{
		kind: "Redshift", path: "redshiftDestinationConfiguration", metric: "Redshift",
		sizeMax: 128, intervalMax: 900, defSize: defaultSizeMB, defInterval: defaultInterval, defRetry: 3600,
		backupModes: [2]string{backupDisabled, backupEnabled},
		hidden:      []string{"Password"},
		needsRole:   true,
		check:       checkRedshift,
		build: func(s *Service, raw json.RawMessage) (fhdest.Destination, error) {
			c, cfg, err := redshiftLoader(raw)
			if err != nil {
				return nil, err
			}
			_ = c
			return warehouse.New(cfg), nil
		},
	})
}

func redshiftLoader(raw json.RawMessage) (*redshiftConfig, warehouse.Config, error) {
	var c redshiftConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, warehouse.Config{}, fmt.Errorf("redshift configuration: %w", err)
	}
	if c.CopyCommand == nil {
		return nil, warehouse.Config{}, fmt.Errorf("CopyCommand is required")
	}
	dsn, err := warehouse.DSN(deref(c.ClusterJDBCURL), deref(c.Username), deref(c.Password))
	if err != nil {
		return nil, warehouse.Config{}, err
	}
	opts, err := warehouse.ParseCopyOptions(deref(c.CopyCommand.CopyOptions))
	if err != nil {
		return nil, warehouse.Config{}, err
	}
	cfg := warehouse.Config{DSN: dsn, Table: deref(c.CopyCommand.DataTableName), Options: opts}
	for _, col := range strings.Split(deref(c.CopyCommand.DataTableColumns), ",") {
		if col = strings.TrimSpace(col); col != "" {
			cfg.Columns = append(cfg.Columns, col)
		}
	}
	return &c, cfg, nil
}

// redshiftBackup is the source-record backup bucket of a Redshift stream.
func redshiftBackup(o *otherDest) *S3Config {
	var c redshiftConfig
	if json.Unmarshal(o.Config, &c) != nil || c.S3BackupConfiguration == nil {
		return nil
	}
	b := c.S3BackupConfiguration.clone()
	withDefaults(b)
	return b
}

func checkRedshift(_ *Service, members map[string]json.RawMessage, dest *S3Config) error {
	const path = "redshiftDestinationConfiguration"
	var c redshiftConfig
	b, _ := json.Marshal(members)
	if err := json.Unmarshal(b, &c); err != nil {
		return awserr.InvalidArgument("%s: %v", path, err)
	}
	var v awserr.Validation
	if c.ClusterJDBCURL == nil {
		v.Add(nil, path+".clusterJDBCURL", "Member must not be null")
	}
	if c.CopyCommand == nil {
		v.Add(nil, path+".copyCommand", "Member must not be null")
	} else if c.CopyCommand.DataTableName == nil {
		v.Add(nil, path+".copyCommand.dataTableName", "Member must not be null")
	} else if n := len(*c.CopyCommand.DataTableName); n < 1 || n > 512 {
		v.Add(*c.CopyCommand.DataTableName, path+".copyCommand.dataTableName", "Member must have length between 1 and 512")
	}
	if c.CopyCommand != nil && c.CopyCommand.CopyOptions != nil && len(*c.CopyCommand.CopyOptions) > 204800 {
		v.Add(len(*c.CopyCommand.CopyOptions), path+".copyCommand.copyOptions", "Member must have length less than or equal to 204800")
	}
	if c.Username != nil && (len(*c.Username) < 1 || len(*c.Username) > 512) {
		v.Add("*** Sensitive Data Redacted ***", path+".username", "Member must have length between 1 and 512")
	}
	if c.Password != nil && (len(*c.Password) < 6 || len(*c.Password) > 512) {
		v.Add("*** Sensitive Data Redacted ***", path+".password", "Member must have length between 6 and 512")
	}
	validateS3Shape(&v, c.S3BackupConfiguration, path+".s3BackupConfiguration", true)
	if err := v.Err(); err != nil {
		return err
	}
	if c.Username == nil || c.Password == nil {
		return awserr.InvalidArgument("Username and Password are required (Eddy does not read SecretsManagerConfiguration).")
	}
	switch deref(dest.CompressionFormat) {
	case s3dest.Uncompressed, s3dest.GZIP:
	default:
		return awserr.InvalidArgument("Compression format %s is not supported for Redshift destinations: COPY cannot read it. Use UNCOMPRESSED or GZIP.", deref(dest.CompressionFormat))
	}
	if p, err := s3dest.ParsePrefix(deref(dest.Prefix)); err != nil || p.HasExpressions() {
		return awserr.InvalidArgument("The S3 Prefix of a Redshift destination cannot contain expressions.")
	}
	if dest.ErrorOutputPrefix != nil && *dest.ErrorOutputPrefix != "" {
		return awserr.InvalidArgument("ErrorOutputPrefix is not supported for Redshift destinations.")
	}
	_, cfg, err := redshiftLoader(b)
	if err != nil {
		return awserr.InvalidArgument("%s", err.Error())
	}
	if cfg.Options.GZIP != (deref(dest.CompressionFormat) == s3dest.GZIP) {
		return awserr.InvalidArgument("CopyOptions must contain GZIP exactly when the S3 CompressionFormat is GZIP.")
	}
	if deref(c.S3BackupMode) == backupEnabled && c.S3BackupConfiguration == nil {
		return awserr.InvalidArgument("S3BackupConfiguration is required when S3BackupMode is Enabled.")
	}
	return nil
}
