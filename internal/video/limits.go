package video

// Per-stream quotas of the media APIs, as AWS documents them ("Kinesis
// Video Streams service quotas", data plane table):
//
//	PutMedia                 5 calls/s, 1 connection, 12.5 MB/s read, 5 fragments/s
//	GetMedia                 5 calls/s, 3 connections, 25 MB/s and 5 fragments/s sent
//	GetMediaForFragmentList  5 connections
//
// A call over the call rate is ClientLimitExceededException, a connection
// over the connection limit ConnectionLimitExceededException (both HTTP
// 400, before the 200). The PutMedia byte and fragment rates are applied
// as AWS applies them, by reading no faster: the body is read at most at
// 12.5 MB/s and a sixth fragment within one second waits before it is
// taken (its acknowledgements come later); nothing is refused or dropped.
// GetMedia's output rates are applied the same way on each connection: it
// writes at most 25 MB/s and at most 5 fragments in any second.
// The playback resources of one HLS or DASH session ("Video playback
// protocol API service quotas", session-level):
//
//	getHLSMasterPlaylist, getHLSMediaPlaylist, getMP4InitFragment,
//	getDASHManifest          5 requests/s
//	getMP4MediaFragment, getTSFragment   20 requests/s
//
// AWS refuses a request over these with ClientLimitExceededException;
// Eddy delays it until the second has room instead (a deliberate
// difference: ffmpeg reads an ON_DEMAND playlist's fragments as fast as it
// can and does not retry a refused one, and AWS's burst allowance is not
// documented), so a player gets at most AWS's rate and no errors.
//
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
	getMediaBytesPerS = 25_000_000
	getMediaFragsPerS = 5
	fragListConns     = 5
)

// playbackTPS is the per-session request rate of each playback resource.
var playbackTPS = map[string]int{
	"getHLSMasterPlaylist.m3u8": 5, "getHLSMediaPlaylist.m3u8": 5, "getMP4InitFragment.mp4": 5,
	"getDASHManifest.mpd": 5, "getMP4MediaFragment.mp4": 20, "getTSFragment.ts": 20,
}

// playbackWait returns when the session may serve one more request for
// resource (at once when within its rate). Requests of one session over
// the rate wait in turn.
func (s *Service) playbackWait(ctx context.Context, sess *session, resource string) error {
	tps := playbackTPS[resource]
	if tps == 0 {
		return nil
	}
	sess.rateMu.Lock()
	defer sess.rateMu.Unlock()
	if sess.rates == nil {
		sess.rates = map[string]*fragmentGate{}
	}
	g := sess.rates[resource]
	if g == nil {
		g = &fragmentGate{perSec: tps, now: s.o.Now, sleep: s.o.Sleep}
		sess.rates[resource] = g
	}
	return g.wait(ctx)
}

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

// byteRate lets perSec bytes a second through on average, with one
// second's worth as burst; rateReader and rateWriter apply it.
type byteRate struct {
	perSec int64
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	start  time.Time
	n      int64         // bytes through since start
	slept  time.Duration // waited since start
}

// elapsed is the time since the first use: by the clock, or by the waits
// when the clock moved less (a test clock that stands still).
func (b *byteRate) elapsed() time.Duration {
	return max(b.now().Sub(b.start), b.slept)
}

// room waits until bytes may pass and returns how many of want may pass
// now (at least one); the caller adds what it moved to b.n.
func (b *byteRate) room(ctx context.Context, want int) (int, error) {
	if b.start.IsZero() {
		b.start = b.now()
	}
	for {
		// bytes allowed so far: one second's burst plus the elapsed
		// time's share
		allowed := b.perSec + int64(b.elapsed().Seconds()*float64(b.perSec))
		room := allowed - b.n
		if room > 0 {
			return int(min(int64(want), room)), nil
		}
		// wait for a useful chunk (up to 20 ms worth), not for one byte
		need := min(int64(want), max(b.perSec/50, 1))
		wait := time.Duration(float64(need-room) / float64(b.perSec) * float64(time.Second))
		if err := b.sleep(ctx, wait); err != nil {
			return 0, err
		}
		b.slept += wait
	}
}

// rateReader reads no faster than its byteRate.
type rateReader struct {
	ctx context.Context
	r   io.Reader
	byteRate
}

func (rr *rateReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return rr.r.Read(p)
	}
	k, err := rr.room(rr.ctx, len(p))
	if err != nil {
		return 0, err
	}
	n, err := rr.r.Read(p[:k])
	rr.n += int64(n)
	return n, err
}

// rateWriter writes no faster than its byteRate (GetMedia's output).
type rateWriter struct {
	ctx context.Context
	w   io.Writer
	byteRate
}

func (rw *rateWriter) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		k, err := rw.room(rw.ctx, len(p)-done)
		if err != nil {
			return done, err
		}
		n, err := rw.w.Write(p[done : done+k])
		rw.n += int64(n)
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
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
