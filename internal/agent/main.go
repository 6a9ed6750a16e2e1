package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Main is `eddy agent`: it parses flags, loads agent.json and runs until
// SIGINT or SIGTERM.
func Main(args []string) error {
	fs := flag.NewFlagSet("eddy agent", flag.ContinueOnError)
	cfgPath := fs.String("config", envOr("EDDY_AGENT_CONFIG", "/etc/aws-kinesis/agent.json"), "agent.json to load (env EDDY_AGENT_CONFIG)")
	cfgDir := fs.String("config-dir", os.Getenv("EDDY_AGENT_CONFIG_DIR"), "directory whose *.json files add flows, like /etc/aws-kinesis/agent.d (env EDDY_AGENT_CONFIG_DIR)")
	level := fs.String("log-level", envOr("EDDY_LOG_LEVEL", "info"), "debug, info, warn or error (env EDDY_LOG_LEVEL)")
	check := fs.Bool("check", false, "validate the configuration and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg, err := LoadConfig(*cfgPath, *cfgDir)
	if err != nil {
		return err
	}
	if *check {
		fmt.Printf("%s: %d flows, configuration OK\n", *cfgPath, len(cfg.Flows))
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := New(ctx, cfg, Options{Logger: log})
	if err != nil {
		return err
	}
	log.Info("eddy agent started", "config", *cfgPath, "flows", len(cfg.Flows), "checkpoints", cfg.CheckpointFile)
	err = a.Run(ctx)
	log.Info("eddy agent stopped")
	return err
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
