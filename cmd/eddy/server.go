package main

import (
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/eddy-streams/eddy/internal/app"
	"github.com/eddy-streams/eddy/internal/config"
)

func init() { register("server", "run every Eddy service on one port", runServer) }

func runServer(args []string) error {
	cfg, err := config.Parse("eddy server", args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	srv, err := app.Start(cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down", "signal", s.String())
	case <-srv.Done():
		if err := srv.Err(); err != nil {
			log.Error("server stopped", "err", err)
		}
	}
	return srv.Close()
}
