package natsstore

import (
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// Failover. When the node leading a shard's Raft group dies (kill -9), the
// surviving replicas elect a new leader only when one of their election
// timers fires: a uniformly random 4-9 s after they last heard from the old
// leader (nats-server server/raft.go, minElectionTimeoutDefault and
// maxElectionTimeoutDefault, unexported and not configurable; nothing short
// of a fork starts an election sooner, and a stream leader step-down request
// is answered only by the live leader). Until then a publish to the shard's
// subject goes unanswered: the followers hold the subject but drop what they
// are not leader for.
//
// What Eddy can do is not add to that: the new leader announces itself on
// $JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.<stream>, and leaderWatch turns
// that advisory into a wake-up for the appends waiting on that stream, which
// abandon their unanswered publish and try the new leader at once instead of
// waiting out their attempt timeout.

const leaderElectedSubject = "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED."

// leaderWatch hands out channels closed at the next leader election of a
// stream. mu is a leaf lock.
type leaderWatch struct {
	sub *nats.Subscription

	mu      sync.Mutex
	waiting map[string]chan struct{} // stream name -> closed at its next election
}

func newLeaderWatch(nc *nats.Conn) *leaderWatch {
	lw := &leaderWatch{waiting: map[string]chan struct{}{}}
	// A failed subscribe leaves appends to their attempt timeout.
	lw.sub, _ = nc.Subscribe(leaderElectedSubject+"*", func(m *nats.Msg) {
		if name := strings.TrimPrefix(m.Subject, leaderElectedSubject); strings.HasPrefix(name, "KIN_") {
			lw.elected(name)
		}
	})
	return lw
}

// next returns a channel closed when stream next elects a leader.
func (lw *leaderWatch) next(stream string) <-chan struct{} {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	ch := lw.waiting[stream]
	if ch == nil {
		ch = make(chan struct{})
		lw.waiting[stream] = ch
	}
	return ch
}

func (lw *leaderWatch) elected(stream string) {
	lw.mu.Lock()
	ch := lw.waiting[stream]
	delete(lw.waiting, stream)
	lw.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

func (lw *leaderWatch) close() {
	if lw.sub != nil {
		lw.sub.Unsubscribe()
	}
}
