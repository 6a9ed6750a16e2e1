package video

// Per-stream quotas of the media APIs, as AWS documents them ("Kinesis
// Video Streams service quotas", data plane table):
//
//	PutMedia                 5 calls/s, 1 connection, 12.5 MB/s read, 5 fragments/s
//	GetMedia                 5 calls/s, 3 connections
//	GetMediaForFragmentList  5 connections
//
// A call over the call rate is ClientLimitExceededException, a connection
// over the connection limit ConnectionLimitExceededException (both HTTP
// 400, before the 200). The PutMedia byte and fragment rates are applied
// as AWS applies them, by reading no faster: the body is read at most at
// 12.5 MB/s and a sixth fragment within one second waits before it is
// taken (its acknowledgements come later); nothing is refused or dropped.
// Time comes from Options.Now and waits go through Options.Sleep, so tests
// drive both.

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/eddy-streams/eddy/internal/awserr"
)

const (
	tConnectionLimit = "ConnectionLimitExceededException"

	putMediaTPS       = 5
	putMediaConns     = 1
	putMediaBytesPerS = 12_500_000
	putMediaFragsPerS = 5
	getMediaTPS       = 5
	getMediaConns     = 3
	fragListConns     = 5
)

// admission counts one operation's calls and open connections on one
// stream; guarded by Service.mu.
type admission struct {
	calls []time.Time // within the last second
	conns int
}

// admit applies an operation's per-stream call rate (tps, 0 for none) and
// connection limit to a new call on the stream with ARN arn; release ends
// the connection.
func (s *Service) admit(op, arn string, tps, conns int) (release func(), err error) {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admissions == nil {
		s.admissions = map[string]*admission{}
	}
	k := op + " " + arn
	a := s.admissions[k]
	if a == nil {
		a = &admission{}
		s.admissions[k] = a
	}
	keep := a.calls[:0]
	for _, t := range a.calls {
		if now.Sub(t) < time.Second {
			keep = append(keep, t)
		}
	}
	a.calls = keep
	if tps > 0 && len(a.calls) >= tps {
		return nil, awserr.New(tClientLimit, http.StatusBadRequest,
			"Kinesis Video Streams has throttled the request because you have exceeded the limit of %d %s calls per second on this stream.", tps, op)
	}
	a.calls = append(a.calls, now)
	if a.conns >= conns {
		return nil, awserr.New(tConnectionLimit, http.StatusBadRequest,
			"Kinesis Video Streams has throttled the request because you have exceeded the limit of %d concurrent %s connections on this stream.", conns, op)
	}
	a.conns++
	return func() {
		s.mu.Lock()
		a.conns--
		if a.conns == 0 && len(a.calls) == 0 {
			delete(s.admissions, k)
		}
		s.mu.Unlock()
	}, nil
}

// sleep waits d through Options.Sleep (a timer by default).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rateReader reads no faster than perSec bytes per second on average,
// with one second's worth as burst.
type rateReader struct {
	ctx    context.Context
	r      io.Reader
	perSec int64
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	start  time.Time
	n      int64         // bytes read since start
	slept  time.Duration // waited since start
}

// elapsed is the time since the first read: by the clock, or by the waits
// when the clock moved less (a test clock that stands still).
func (rr *rateReader) elapsed() time.Duration {
	return max(rr.now().Sub(rr.start), rr.slept)
}

func (rr *rateReader) Read(p []byte) (int, error) {
	if rr.start.IsZero() {
		rr.start = rr.now()
	}
	for {
		// bytes allowed so far: one second's burst plus the elapsed
		// time's share
		allowed := rr.perSec + int64(rr.elapsed().Seconds()*float64(rr.perSec))
		room := allowed - rr.n
		if room > 0 {
			if int64(len(p)) > room {
				p = p[:room]
			}
			break
		}
		// wait for a useful chunk (up to 20 ms worth), not for one byte
		need := min(int64(len(p)), max(rr.perSec/50, 1))
		wait := time.Duration(float64(need-room) / float64(rr.perSec) * float64(time.Second))
		if err := rr.sleep(rr.ctx, wait); err != nil {
			return 0, err
		}
		rr.slept += wait
	}
	n, err := rr.r.Read(p)
	rr.n += int64(n)
	return n, err
}

// fragmentGate lets at most perSec fragments through in any second.
type fragmentGate struct {
	perSec int
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	last   []time.Time
}

// wait returns when one more fragment may be taken.
func (g *fragmentGate) wait(ctx context.Context) error {
	for {
		now := g.now()
		keep := g.last[:0]
		for _, t := range g.last {
			if now.Sub(t) < time.Second {
				keep = append(keep, t)
			}
		}
		g.last = keep
		if len(g.last) < g.perSec {
			g.last = append(g.last, now)
			return nil
		}
		if err := g.sleep(ctx, g.last[0].Add(time.Second).Sub(now)); err != nil {
			return err
		}
		// the wait made room, whether or not the clock moved with it (a
		// test clock that stands still)
		g.last = g.last[1:]
	}
}
