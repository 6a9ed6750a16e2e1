package bench

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// retryCounter wraps the SDK's standard retryer and counts the retries it
// grants, by cause. Retries are invisible in the call results but matter to
// a benchmark: each costs latency, and a retried PutRecords whose first
// attempt was in fact stored writes its records twice.
type retryCounter struct {
	aws.RetryerV2
	log *slog.Logger

	mu     sync.Mutex
	causes map[string]int64
}

func newRetryCounter(log *slog.Logger) *retryCounter {
	return &retryCounter{RetryerV2: retry.NewStandard(), log: log, causes: map[string]int64{}}
}

// GetRetryToken is called by the SDK's retry middleware once it has decided
// an attempt's error is retryable; a nil error means the retry happens.
func (r *retryCounter) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	release, err := r.RetryerV2.GetRetryToken(ctx, opErr)
	if err == nil {
		cause := retryCause(opErr)
		r.mu.Lock()
		r.causes[cause]++
		first := r.causes[cause] == 1
		r.mu.Unlock()
		if first {
			r.log.Warn("SDK retry", "cause", cause, "err", opErr)
		}
	}
	return release, err
}

// take returns the counts since the last take and resets them.
func (r *retryCounter) take() (total int64, causes map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	causes = maps.Clone(r.causes)
	clear(r.causes)
	for _, n := range causes {
		total += n
	}
	return total, causes
}

// retryCause is a short stable name for err: the AWS error code, or the
// last clause of a transport error ("connection reset by peer").
func retryCause(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}
