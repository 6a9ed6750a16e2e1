package kinesis

import (
	"math"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/internal/shardmap"
)

// Stream states as AWS names them.
const (
	stateCreating = "CREATING"
	stateActive   = "ACTIVE"
	stateUpdating = "UPDATING"
	stateDeleting = "DELETING"
)

// stream is one Data Stream. Exported fields are persisted (JSON) in the
// service metadata; the rest is derived on load.
type stream struct {
	ID             string            `json:"id"` // internal id, names the shard logs
	Name           string            `json:"name"`
	Account        string            `json:"account"`
	Region         string            `json:"region"`
	CreatedMs      int64             `json:"createdMs"`
	Status         string            `json:"status"`
	Mode           string            `json:"mode"` // PROVISIONED | ON_DEMAND
	RetentionHours int               `json:"retentionHours"`
	Encryption     string            `json:"encryption"` // NONE | KMS
	KeyID          string            `json:"keyId,omitempty"`
	ShardMetrics   []string          `json:"shardMetrics,omitempty"`
	MaxRecordKiB   int               `json:"maxRecordKiB"`
	WarmMiBps      int               `json:"warmMiBps,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	Shards         []*shard          `json:"shards"`
	NextShardIx    uint32            `json:"nextShardIx"`
	Consumers      []*consumer       `json:"consumers,omitempty"`
	Policy         string            `json:"policy,omitempty"`
	ScalingsMs     []int64           `json:"scalingsMs,omitempty"` // UpdateShardCount history (24 h quota)
	ModeSwitchesMs []int64           `json:"modeSwitchesMs,omitempty"`

	// pending is the status to move to when the current transition ends.
	routes []*shard // open shards sorted by Start (rebuilt by reroute)
}

// shard is one shard of a stream.
type shard struct {
	Index          uint32 `json:"index"`
	Start          string `json:"start"` // decimal hash keys, as on the wire
	End            string `json:"end"`
	Parent         string `json:"parent,omitempty"`
	AdjacentParent string `json:"adjacentParent,omitempty"`
	CreatedMs      int64  `json:"createdMs"`
	ClosedMs       int64  `json:"closedMs,omitempty"`

	start, end shardmap.HashKey
	id         string
}

// consumer is a registered enhanced fan-out consumer.
type consumer struct {
	Name      string            `json:"name"`
	CreatedMs int64             `json:"createdMs"`
	Status    string            `json:"status"` // CREATING | ACTIVE | DELETING
	Tags      map[string]string `json:"tags,omitempty"`
	Policy    string            `json:"policy,omitempty"`
}

func shardID(ix uint32) string {
	const digits = "0123456789"
	b := []byte("shardId-000000000000")
	v := ix
	for i := len(b) - 1; v > 0; i-- {
		b[i] = digits[v%10]
		v /= 10
	}
	return string(b)
}

// parseShardID reads a shard id as AWS does: the number after the last
// hyphen ("shardId-000000000007", "anything-7", "-0007"), or the whole id
// when it has no hyphen ("7"). Leading zeros are allowed; the number must be
// decimal digits only and at most 2147483647. ok is false otherwise.
func parseShardID(s string) (uint32, bool) {
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + uint64(s[i]-'0')
		if v > math.MaxInt32 {
			return 0, false
		}
	}
	return uint32(v), true
}

// derive fills the unexported fields after load or change.
func (sh *shard) derive() {
	sh.start, _ = shardmap.ParseHashKey(sh.Start)
	sh.end, _ = shardmap.ParseHashKey(sh.End)
	sh.id = shardID(sh.Index)
}

func (sh *shard) open() bool { return sh.ClosedMs == 0 }

// reroute rebuilds the routing table of open shards.
func (st *stream) reroute() {
	st.routes = st.routes[:0]
	for _, sh := range st.Shards {
		if sh.id == "" {
			sh.derive()
		}
		if sh.open() {
			st.routes = append(st.routes, sh)
		}
	}
	sort.Slice(st.routes, func(i, j int) bool { return st.routes[i].start.Cmp(st.routes[j].start) < 0 })
	// copy so that readers holding the old slice are unaffected
	st.routes = append([]*shard(nil), st.routes...)
}

// route finds the open shard owning k in a routing table.
func route(routes []*shard, k shardmap.HashKey) *shard {
	i := sort.Search(len(routes), func(i int) bool { return routes[i].end.Cmp(k) >= 0 })
	if i < len(routes) && routes[i].start.Cmp(k) <= 0 {
		return routes[i]
	}
	return nil
}

func (st *stream) shard(ix uint32) *shard {
	for _, sh := range st.Shards {
		if sh.Index == ix {
			return sh
		}
	}
	return nil
}

func (st *stream) openShardCount() int {
	n := 0
	for _, sh := range st.Shards {
		if sh.open() {
			n++
		}
	}
	return n
}

func (st *stream) consumer(name string) *consumer {
	for _, c := range st.Consumers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// rangeMid is the split key halving the shard's range.
func (sh *shard) rangeMid() shardmap.HashKey {
	return shardmap.Range{Start: sh.start, End: sh.end}.Midpoint()
}
