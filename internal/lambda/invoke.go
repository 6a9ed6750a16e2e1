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
	return s.invokePool(ctx, p, newUUID(), payload)
}

func (s *Service) invokePool(ctx context.Context, p *pool, reqID string, payload []byte) (Result, error) {
	res, err := p.invoke(ctx, reqID, payload)
	if err == errThrottled {
		return Result{}, awserr.New(tTooManyRequests, http.StatusTooManyRequests, "Rate Exceeded.")
	}
	if err != nil {
		return Result{}, awserr.New(tService, http.StatusInternalServerError, "%s", err.Error())
	}
	return res, nil
}
