package lambda

import (
	"context"
	"net/http"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// Invoker runs a function synchronously in process: other services
// (Firehose's transformation, event source mappings) call it. function is
// a name or ARN. Errors are *awserr.Error (ResourceNotFoundException,
// TooManyRequestsException, …); a function's own failure is a Result with
// FunctionError set.
type Invoker interface {
	Invoke(ctx context.Context, account, region, function string, payload []byte) (Result, error)
}

var _ Invoker = (*Service)(nil)

// Invoke implements Invoker.
func (s *Service) Invoke(ctx context.Context, account, region, function string, payload []byte) (Result, error) {
	return s.invokeFn(ctx, account, region, function, newUUID(), payload)
}

// invokeFn looks the function up and runs it; a pool retired meanwhile
// (the function was updated) is looked up again.
func (s *Service) invokeFn(ctx context.Context, account, region, function, reqID string, payload []byte) (Result, error) {
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		f, err := s.lookupLocked(account, region, function, "")
		var p *pool
		if err == nil {
			p = f.pool
		}
		s.mu.Unlock()
		if err != nil {
			return Result{}, err
		}
		res, err := s.invokePool(ctx, p, reqID, payload)
		if err == errRetired && attempt < 3 {
			continue
		}
		if err == errRetired {
			err = awserr.New(tService, http.StatusInternalServerError, "The function changed during the invocation.")
		}
		return res, err
	}
}

func (s *Service) invokePool(ctx context.Context, p *pool, reqID string, payload []byte) (Result, error) {
	res, err := p.invoke(ctx, reqID, payload)
	if err == errRetired {
		return Result{}, err
	}
	if err == errThrottled {
		return Result{}, awserr.New(tTooManyRequests, http.StatusTooManyRequests, "Rate Exceeded.")
	}
	if err != nil {
		return Result{}, awserr.New(tService, http.StatusInternalServerError, "%s", err.Error())
	}
	return res, nil
}
