// Package agent_test drives `eddy agent` end to end: Apache httpd writing a
// combined access log that logrotate rotates, and an agent process killed
// with SIGKILL and restarted, both shipping into an in-process Eddy server.
//
// The agent runs as a separate process by re-executing this test binary:
// TestMain turns it into `eddy agent` when EDDY_AGENT_E2E_ARGS is set, so the
// tests do not depend on building cmd/eddy.
package agent_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/agent"
)

const childArgsEnv = "EDDY_AGENT_E2E_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgsEnv); args != "" {
		if err := agent.Main(strings.Fields(args)); err != nil {
			fmt.Fprintln(os.Stderr, "eddy agent:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
