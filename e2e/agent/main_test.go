// Package agent_test drives `eddy agent` end to end: Apache httpd writing a
// combined access log that logrotate rotates, and an agent process killed
// with SIGKILL and restarted, both shipping into an in-process Eddy server.
//
// The agent runs as a separate process by re-executing this test binary:
// TestMain turns it into `eddy agent` when EDDY_AGENT_E2E_ARGS is set, so the
// tests do not depend on building cmd/eddy.
package agent_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

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

// streamReader reads every shard of a stream from TRIM_HORIZON, keeping its
// iterators between calls.
type streamReader struct {
	c      *kinesis.Client
	stream string
	iters  map[string]*string
	got    []string
}

func (r *streamReader) poll(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	if r.iters == nil {
		r.iters = map[string]*string{}
		out, err := r.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(r.stream)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.Shards {
			it, err := r.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(r.stream),
				ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			r.iters[*s.ShardId] = it.ShardIterator
		}
	}
	for id, it := range r.iters {
		for it != nil {
			out, err := r.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it})
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range out.Records {
				r.got = append(r.got, string(rec.Data))
			}
			it = out.NextShardIterator
			if len(out.Records) == 0 {
				break
			}
		}
		r.iters[id] = it
	}
	return r.got
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
