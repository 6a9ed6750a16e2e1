package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/eddy-streams/eddy/internal/storage"
)

// directReq is JetStream's direct-get request (JSApiMsgGetRequest in
// nats-server): a batch from a sequence, bounded by count and bytes.
type directReq struct {
	Seq      uint64 `json:"seq,omitempty"`
	Batch    int    `json:"batch,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// directGet asks any replica of the shard's stream for up to n messages from
// sequence seq on and calls fn for each (until it returns false). The batch
// ends with a 204 EOB status message; 404 means nothing at or after seq.
// data is only valid during fn.
func (s *Store) directGet(ctx context.Context, id storage.ShardID, seq uint64, n, maxBytes int, fn func(seq uint64, data []byte) bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
	}
	body, _ := json.Marshal(directReq{Seq: seq, Batch: n, MaxBytes: maxBytes})
	inbox := s.nc.NewRespInbox()
	sub, err := s.nc.SubscribeSync(inbox)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	if err := s.nc.PublishRequest("$JS.API.DIRECT.GET."+streamName(id), inbox, body); err != nil {
		return err
	}
	want := true
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if errors.Is(err, nats.ErrNoResponders) {
			// no replica answers: either no such stream or no leader
			if _, err := s.js.Stream(ctx, streamName(id)); err != nil {
				return err
			}
			return nats.ErrNoResponders
		}
		if err != nil {
			return err
		}
		switch status := m.Header.Get("Status"); status {
		case "":
		case "204": // end of batch
			return nil
		case "404", "408":
			return nil
		case "503":
			// no replica answers: either no such stream or no leader
			if _, err := s.js.Stream(ctx, streamName(id)); err != nil {
				return err
			}
			return nats.ErrNoResponders
		default:
			return fmt.Errorf("direct get %s: status %s %s", streamName(id), status, m.Header.Get("Description"))
		}
		if len(m.Data) == 0 && m.Header.Get("Nats-Sequence") == "" {
			// no-responders arrives as an empty message with status 503
			return nats.ErrNoResponders
		}
		mseq, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
		if err != nil {
			return fmt.Errorf("direct get %s: bad Nats-Sequence %q", streamName(id), m.Header.Get("Nats-Sequence"))
		}
		if want && !fn(mseq, m.Data) {
			want = false
			return nil
		}
	}
}
