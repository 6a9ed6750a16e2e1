package runner

import (
	"context"

	"github.com/eddy-streams/eddy/internal/kinesis"
)

// putKinesis writes records with partition keys from a counter (rows have
// no natural key; a counter spreads them over the shards) and returns the
// records still to write when some failed.
func putKinesis(ctx context.Context, s Streams, account, region, name string, recs [][]byte, seq *uint64) ([][]byte, error) {
	for len(recs) > 0 {
		n := min(len(recs), 500)
		entries := make([]kinesis.InprocEntry, n)
		for i := range entries {
			*seq++
			entries[i] = kinesis.InprocEntry{PartitionKey: itoa64(int64(*seq)), Data: recs[i]}
		}
		failed, err := s.Put(ctx, account, region, name, entries)
		if err != nil {
			if len(failed) == 0 {
				return recs, err
			}
			rest := make([][]byte, 0, len(failed)+len(recs)-n)
			for _, i := range failed {
				rest = append(rest, recs[i])
			}
			return append(rest, recs[n:]...), err
		}
		recs = recs[n:]
	}
	return nil, nil
}
