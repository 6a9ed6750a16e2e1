package kinesis

import (
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
)

// Wire shapes shared by several operations.

type hashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type seqRange struct {
	StartingSequenceNumber string  `json:"StartingSequenceNumber"`
	EndingSequenceNumber   *string `json:"EndingSequenceNumber,omitempty"`
}

type shardShape struct {
	ShardId               string       `json:"ShardId"`
	ParentShardId         *string      `json:"ParentShardId,omitempty"`
	AdjacentParentShardId *string      `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashKeyRange `json:"HashKeyRange"`
	SequenceNumberRange   seqRange     `json:"SequenceNumberRange"`
}

type childShard struct {
	ShardId      string       `json:"ShardId"`
	ParentShards []string     `json:"ParentShards"`
	HashKeyRange hashKeyRange `json:"HashKeyRange"`
}

type modeShape struct {
	StreamMode string `json:"StreamMode"`
}

type enhancedMetrics struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// startSeq is a shard's StartingSequenceNumber.
func startSeq(sh *shard) string {
	secs := uint64(sh.CreatedMs / 1000)
	return shardmap.EncodeSeq(shardmap.SeqFields{ShardCreateSecs: secs, ShardIndex: sh.Index, Pos: 0, ArrivalSecs: secs})
}

// endSeq is a closed shard's EndingSequenceNumber.
func endSeq(sh *shard) string {
	secs := uint64(sh.CreatedMs / 1000)
	return shardmap.EncodeSeq(shardmap.SeqFields{ShardCreateSecs: secs, ShardIndex: sh.Index, Pos: shardmap.EndPos, ArrivalSecs: uint64(sh.ClosedMs / 1000)})
}

// A record's sequence number carries its log position + 1, so that the
// shard's StartingSequenceNumber (position field 0) sorts before every
// record: AFTER_SEQUENCE_NUMBER with it reads the first record, as on AWS.

// recordSeq is the sequence number of the record at pos.
func recordSeq(sh *shard, pos uint64, arrivalMs int64) string {
	return shardmap.EncodeSeq(recordSeqFields(sh, pos, arrivalMs))
}

func recordSeqFields(sh *shard, pos uint64, arrivalMs int64) shardmap.SeqFields {
	return shardmap.SeqFields{ShardCreateSecs: uint64(sh.CreatedMs / 1000), ShardIndex: sh.Index, Pos: pos + 1, ArrivalSecs: uint64(arrivalMs / 1000)}
}

// seqPosition is the log position AT_ (after=false) or AFTER_SEQUENCE_NUMBER
// (after=true) a sequence number starts reading from.
func seqPosition(f shardmap.SeqFields, after bool) uint64 {
	switch {
	case f.Pos == 0: // the shard's StartingSequenceNumber
		return 0
	case f.Pos >= shardmap.EndPos: // a closed shard's EndingSequenceNumber
		return shardmap.EndPos
	case after:
		return f.Pos
	}
	return f.Pos - 1
}

func (sh *shard) shape() shardShape {
	out := shardShape{
		ShardId:               sh.id,
		ParentShardId:         strp(sh.Parent),
		AdjacentParentShardId: strp(sh.AdjacentParent),
		HashKeyRange:          hashKeyRange{sh.Start, sh.End},
		SequenceNumberRange:   seqRange{StartingSequenceNumber: startSeq(sh)},
	}
	if !sh.open() {
		e := endSeq(sh)
		out.SequenceNumberRange.EndingSequenceNumber = &e
	}
	return out
}

// children lists the shards whose parent (or adjacent parent) is sh.
func (st *stream) children(sh *shard) []childShard {
	var out []childShard
	for _, c := range st.Shards {
		if c.Parent == sh.id || c.AdjacentParent == sh.id {
			parents := []string{c.Parent}
			if c.AdjacentParent != "" {
				parents = append(parents, c.AdjacentParent)
			}
			out = append(out, childShard{ShardId: c.id, ParentShards: parents, HashKeyRange: hashKeyRange{c.Start, c.End}})
		}
	}
	return out
}

func (st *stream) metrics() []enhancedMetrics {
	m := st.ShardMetrics
	if m == nil {
		m = []string{}
	}
	return []enhancedMetrics{{ShardLevelMetrics: m}}
}

func (st *stream) created() *awsproto.Timestamp { return awsproto.TSMillis(st.CreatedMs) }
