package producer

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

const requestTimeout = 30 * time.Second

// flusher seals aged aggregates, refreshes the shard map when asked, and
// dispatches batches. It is the only goroutine that starts sends.
func (p *Producer) flusher() {
	defer close(p.done)
	tick := max(p.cfg.MaxBufferedTime/4, time.Millisecond)
	t := time.NewTimer(tick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.kick:
		case <-t.C:
		}
		p.cycle()
		t.Reset(tick)
	}
}

// cycle does one round of flusher work.
func (p *Producer) cycle() {
	p.mu.Lock()
	now := p.cfg.Now()
	if p.needMap || now.Sub(p.lastMap) >= p.cfg.ShardMapRefresh {
		p.refreshing = true
	}
	if p.refreshing {
		if p.inflight > 0 {
			p.mu.Unlock()
			return // a completing send kicks us again
		}
		p.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		infos, err := p.listShards(ctx)
		cancel()
		p.mu.Lock()
		p.c.refreshes.Add(1)
		if err != nil {
			p.log.Warn("producer: shard map refresh failed; keeping the old map", "err", err)
			p.lastMap = now // try again after the refresh interval or a new misprediction
			p.needMap = false
		} else {
			p.installLocked(infos)
		}
		p.refreshing = false
		p.checkSuspectsLocked()
	}
	force := p.flushing > 0 || p.closed
	for _, s := range p.shards {
		if s.agg.Len() > 0 && (force || now.Sub(s.aggFirst) >= p.cfg.MaxBufferedTime) {
			p.sealLocked(s)
		}
	}
	var expired []*krec
	for {
		select {
		case p.sem <- struct{}{}:
		default:
			p.mu.Unlock()
			p.failAll(expired, ErrExpired)
			return
		}
		batch, exp := p.collectLocked(now, force)
		expired = append(expired, exp...)
		if len(batch) == 0 {
			<-p.sem
			break
		}
		p.inflight++
		p.sendWG.Add(1)
		go p.send(batch)
	}
	p.mu.Unlock()
	p.failAll(expired, ErrExpired)
}

func (p *Producer) failAll(ks []*krec, err error) {
	for _, k := range ks {
		p.fail(k, err)
	}
}

// collectLocked takes the next batch from the shard queues if one is worth
// sending now: full, holding a record that has waited MaxBufferedTime, or
// forced. Records past their TTL are removed and returned as expired.
func (p *Producer) collectLocked(now time.Time, force bool) (batch, expired []*krec) {
	type take struct {
		s *shard
		n int
	}
	var takes []take
	count, size := 0, 0
	due := force
	full := false
	for _, s := range p.shards {
		p.refillLocked(s, now)
		// drop expired records at the head
		for len(s.queue) > 0 && !now.Before(s.queue[0].deadline) {
			expired = append(expired, s.queue[0])
			s.queue = s.queue[1:]
		}
		n := 0
		recs, bytes := s.recTokens, s.byteTokens
		for n < len(s.queue) {
			k := s.queue[n]
			if now.Before(k.notBefore) || !now.Before(k.deadline) {
				break // keep order: nothing overtakes a record waiting to retry
			}
			if p.cfg.Ordered && (s.inflight > 0 || n > 0) {
				break
			}
			if p.cfg.RateLimit > 0 && (recs <= 0 || bytes <= 0) {
				break
			}
			if count == p.cfg.CollectionMaxCount || size+k.size() > p.cfg.CollectionMaxSize {
				full = true
				break
			}
			recs--
			bytes -= float64(k.size())
			count++
			size += k.size()
			if !now.Before(k.deadline.Add(-p.cfg.RecordTTL).Add(p.cfg.MaxBufferedTime)) || k.attempts > 0 {
				due = true
			}
			n++
		}
		if n > 0 {
			takes = append(takes, take{s, n})
		}
		if full {
			break
		}
	}
	if count == 0 || !(full || due || count == p.cfg.CollectionMaxCount) {
		return nil, expired
	}
	batch = make([]*krec, 0, count)
	for _, t := range takes {
		for _, k := range t.s.queue[:t.n] {
			if p.cfg.RateLimit > 0 {
				t.s.recTokens--
				t.s.byteTokens -= float64(k.size())
			}
			t.s.inflight++
			batch = append(batch, k)
		}
		t.s.queue = t.s.queue[t.n:]
	}
	return batch, expired
}

// refillLocked adds the tokens earned since the last refill (at most one
// second's worth are kept).
func (p *Producer) refillLocked(s *shard, now time.Time) {
	if p.cfg.RateLimit <= 0 {
		return
	}
	dt := now.Sub(s.refill).Seconds()
	if dt <= 0 {
		return
	}
	s.refill = now
	s.recTokens = min(s.recTokens+dt*p.recRate(), p.recRate())
	s.byteTokens = min(s.byteTokens+dt*p.byteRate(), p.byteRate())
}

// send makes one PutRecords call and sorts its entries into put, retry and
// failed.
func (p *Producer) send(batch []*krec) {
	defer p.sendWG.Done()
	defer p.wake()
	defer func() { <-p.sem }()
	name, arn := p.streamRef()
	in := &kinesis.PutRecordsInput{StreamName: name, StreamARN: arn, Records: make([]types.PutRecordsRequestEntry, len(batch))}
	for i, k := range batch {
		e := &in.Records[i]
		e.Data = k.data
		e.PartitionKey = aws.String(k.pk)
		if k.ehk != "" {
			e.ExplicitHashKey = aws.String(k.ehk)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	out, err := p.cfg.Client.PutRecords(ctx, in)
	cancel()
	p.c.calls.Add(1)
	now := p.cfg.Now()

	var retry, failed []*krec
	var failErr error
	putUsers, putKRecs, putBytes := 0, 0, 0
	if err == nil && len(out.Records) != len(batch) {
		err = errors.New("producer: PutRecords answered a different number of entries")
	}
	p.mu.Lock()
	p.inflight--
	for _, k := range batch {
		k.shard.inflight--
	}
	if err != nil {
		code := errorCode(err)
		permanent := isPermanent(code)
		for _, k := range batch {
			k.lastCode = code
			if permanent {
				failed = append(failed, k)
			} else {
				retry = append(retry, k)
			}
		}
		failErr = err
		p.log.Debug("producer: PutRecords failed", "err", err, "records", len(batch))
	} else {
		for i, k := range batch {
			r := out.Records[i]
			if r.ErrorCode != nil {
				k.lastCode = aws.ToString(r.ErrorCode)
				if k.lastCode == "ProvisionedThroughputExceededException" {
					p.c.throttled.Add(1)
				}
				retry = append(retry, k)
				continue
			}
			if got := aws.ToString(r.ShardId); got != k.shard.id {
				// landed elsewhere: the map is stale; decide after a refresh
				p.needMap = true
				p.suspects = append(p.suspects, suspect{k, got})
				continue
			}
			putUsers += k.users
			putKRecs++
			putBytes += k.size()
			p.releaseLocked(k.users, k.userBytes)
		}
	}
	var live []*krec
	var expired []*krec
	for _, k := range retry {
		k.attempts++
		if !now.Before(k.deadline) {
			expired = append(expired, k)
			continue
		}
		k.notBefore = now.Add(p.backoff(k.attempts))
		live = append(live, k)
	}
	p.c.retried.Add(int64(len(live)))
	p.requeueLocked(live, true)
	p.mu.Unlock()
	p.c.put.Add(int64(putUsers))
	p.c.kput.Add(int64(putKRecs))
	p.c.bytes.Add(int64(putBytes))
	for _, k := range failed {
		p.fail(k, failErr)
	}
	for _, k := range expired {
		p.fail(k, ErrExpired)
	}
}

// suspect is a Kinesis record stored on a shard other than predicted.
type suspect struct {
	k     *krec
	shard string
}

// checkSuspectsLocked runs after a refresh: a suspect stored on a shard
// whose range holds all its user records is done; otherwise it is split by
// the new map and sent again (a KCL reading that shard drops it whole).
func (p *Producer) checkSuspectsLocked() {
	sus := p.suspects
	p.suspects = nil
	var again []*krec
	for _, sp := range sus {
		k := sp.k
		ok := !k.aggregated
		for _, s := range p.shards {
			if s.id == sp.shard && s.rng.Contains(k.lo) && s.rng.Contains(k.hi) {
				ok = true
			}
		}
		if ok {
			p.c.put.Add(int64(k.users))
			p.c.kput.Add(1)
			p.c.bytes.Add(int64(k.size()))
			p.releaseLocked(k.users, k.userBytes)
			continue
		}
		again = append(again, k)
	}
	p.requeueLocked(again, true)
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isPermanent reports whole-call errors that retrying cannot cure.
func isPermanent(code string) bool {
	switch code {
	case "ResourceNotFoundException", "ValidationException", "InvalidArgumentException",
		"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException":
		return true
	}
	return false
}
