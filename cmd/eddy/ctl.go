package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/eddy-streams/eddy/internal/storage/logstore"
)

func init() { register("ctl", "operator tools: verify a data directory", runCtl) }

const ctlUsage = `usage: eddy ctl <command> [flags]

commands:
  verify --data-dir DIR   check every shard log (frames, checksums, continuity,
                          indexes) and the metadata offline; names every damaged
                          shard (the server quarantines those) and exits 1 on
                          corruption. The server must be stopped (the directory
                          is locked). See docs/format/segment.md, Recovery.`

func runCtl(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(os.Stderr, ctlUsage)
		return nil
	}
	switch args[0] {
	case "verify":
		return ctlVerify(args[1:])
	}
	fmt.Fprintln(os.Stderr, ctlUsage)
	return fmt.Errorf("unknown ctl command %q", args[0])
}

func ctlVerify(args []string) error {
	fs := flag.NewFlagSet("eddy ctl verify", flag.ContinueOnError)
	def := "./eddy-data"
	if v := os.Getenv("EDDY_DATA_DIR"); v != "" {
		def = v
	}
	dir := fs.String("data-dir", def, "data directory to check (env EDDY_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	rep, err := logstore.Verify(*dir)
	if err != nil {
		return err
	}
	fmt.Print(rep.String())
	if !rep.OK() {
		return fmt.Errorf("%d problems in %s", len(rep.Problems), *dir)
	}
	return nil
}
