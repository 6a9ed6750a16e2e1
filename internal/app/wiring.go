package app

import (
	"errors"

	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/config"
	"github.com/eddy-streams/eddy/internal/gateway"
)

// sigv4Authenticator verifies signatures against --credentials.
func sigv4Authenticator(cfg config.Config) (gateway.Authenticator, error) {
	return nil, errors.New("auth sigv4: not wired yet")
}

// startExtraServices starts the services beyond Data Streams (Firehose…).
func startExtraServices(s *Server, cfg config.Config, o Options) ([]awsproto.Service, error) {
	return nil, nil
}
