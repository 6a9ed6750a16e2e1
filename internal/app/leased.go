package app

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/internal/analytics"
	"github.com/eddy-streams/eddy/internal/lease"
)

// leasedLauncher runs analytics applications in cluster mode on the node
// holding each application's lease ("analytics.<app id>"). Launch answers
// at once; the application starts when this node acquires the lease (after
// claiming its fenced checkpoint, which the runner then resumes from) and
// stops when the node loses it. A start after a takeover resumes from the
// last checkpoint (LAST_STOPPED_POINT).
type leasedLauncher struct {
	inner  analytics.Launcher
	leases lease.Leaser
	fm     *lease.FencedMeta
}

func (l *leasedLauncher) Check(spec analytics.RunSpec) error { return l.inner.Check(spec) }

// Forget fences the deleted application's checkpoint off for good, then
// lets the runner mark it forgotten.
func (l *leasedLauncher) Forget(appID string) error {
	if _, err := l.fm.Claim("analytics-ckpt-"+appID, math.MaxUint64); err != nil {
		return err
	}
	defer l.fm.Drop("analytics-ckpt-" + appID)
	return l.inner.Forget(appID)
}

func (l *leasedLauncher) Launch(spec analytics.RunSpec) (analytics.Run, error) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &leasedRun{cancel: cancel, done: make(chan struct{})}
	ns := "analytics-ckpt-" + spec.AppID
	// a node that ran the application after this call holds a newer
	// checkpoint: a takeover resumes from it, not from spec.Position
	// (with spec.Mark: than when another node started it)
	var e0 uint64
	if spec.Mark != nil {
		e0 = *spec.Mark
	} else {
		var err error
		if e0, err = lease.CheckpointEpoch(l.fm.Store, ns); err != nil {
			cancel()
			return nil, err
		}
	}
	r.mark = e0
	go func() {
		defer close(r.done)
		l.leases.Run(ctx, "analytics."+spec.AppID, func(ctx context.Context, epoch uint64) {
			for {
				prev, err := lease.CheckpointEpoch(l.fm.Store, ns)
				if err == nil {
					if _, err = l.fm.Claim(ns, epoch); err == nil {
						if prev > e0 {
							spec.Position = "LAST_STOPPED_POINT"
						}
						break
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			defer l.fm.Drop(ns)
			run, err := l.inner.Launch(spec)
			spec.Position = "LAST_STOPPED_POINT" // any later start resumes
			if err != nil {
				r.fail(err)
				return
			}
			select {
			case <-ctx.Done():
				if err := run.Stop(); err != nil {
					r.fail(err)
				}
			case <-run.Done():
				r.fail(run.Err())
			}
		})
	}()
	return r, nil
}

// leasedRun is an application under its lease: it ends when stopped, or
// when a start or a run on the holding node fails.
type leasedRun struct {
	mark   uint64 // checkpoint epoch at launch (analytics.Marked)
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

func (r *leasedRun) fail(err error) {
	if err == nil {
		err = errors.New("analytics application stopped")
	}
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

func (r *leasedRun) Stop() error {
	r.cancel()
	<-r.done
	return nil
}

func (r *leasedRun) Done() <-chan struct{} { return r.done }

// StartMark is the checkpoint epoch this run's start is measured against.
func (r *leasedRun) StartMark() uint64 { return r.mark }

func (r *leasedRun) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
