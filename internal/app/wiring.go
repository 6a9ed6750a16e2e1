package app

import (
	"fmt"
	"net/http"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/gateway"
	"github.com/eddy-streams/eddy/internal/sigv4"
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

// startExtraServices starts the services beyond Data Streams (Firehose…).
func startExtraServices(s *Server, cfg config.Config, o Options) ([]awsproto.Service, error) {
	return nil, nil
}
