package kinesis

import (
	"github.com/eddy-streams/eddy/internal/awserr"
	"github.com/eddy-streams/eddy/internal/awsproto"
	"github.com/eddy-streams/eddy/internal/shardmap"
)

// Pagination tokens (ListStreams, ListShards, ListStreamConsumers) are sealed
// like shard iterators, so they are opaque, unforgeable and expire after
// 300 s. A token reuses the iterator layout: StreamName is the stream (or,
// for ListStreams, the last name returned), Pos the last index returned,
// ShardIndex marks the token's kind.
const (
	tokenListStreams   = 0xfffffff1
	tokenListShards    = 0xfffffff2
	tokenListConsumers = 0xfffffff3
	tokenTTLms         = 300_000
)

func (s *Service) makeToken(r *awsproto.Request, kind uint32, name string, created int64, after uint64) string {
	return s.iters.Encode(shardmap.Iterator{Account: r.Account, Region: r.Region, StreamName: name, StreamCreated: created, ShardIndex: kind, Pos: after, IssuedMs: s.nowMs()})
}

func (s *Service) openToken(r *awsproto.Request, kind uint32, tok string) (shardmap.Iterator, error) {
	it, err := s.iters.Decode(tok)
	if err != nil || it.ShardIndex != kind || it.Account != r.Account || it.Region != r.Region {
		return it, awserr.InvalidArgument("Invalid NextToken.")
	}
	if s.nowMs()-it.IssuedMs > tokenTTLms {
		return it, awserr.ExpiredNextToken("The timestamp data in the NextToken is expired.")
	}
	return it, nil
}
