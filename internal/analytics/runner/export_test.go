package runner

import "github.com/eddy-streams/eddy/internal/analytics"

// Abort ends a run the way kill -9 would: no final checkpoint.
func Abort(r analytics.Run) {
	a := r.(*app)
	a.stopMu.Lock()
	a.stopReq = true
	a.noFinal = true
	a.stopMu.Unlock()
	a.cancel()
	<-a.stopped
}
