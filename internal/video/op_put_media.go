package video

// PutMedia: a long-running POST whose body is one Matroska stream (the
// gateway hands it over unread; it is signed with the empty-body hash, as
// the producer SDKs sign it). Headers: x-amzn-stream-name or
// x-amzn-stream-arn, x-amzn-fragment-timecode-type ABSOLUTE|RELATIVE,
// x-amzn-producer-start-timestamp (seconds, fractional). The answer is 200
// at once, then newline-separated JSON acknowledgements while the body
// streams:
//
//   - BUFFERING when a fragment (Cluster) starts (its Timecode read),
//   - RECEIVED when it is complete (the next Cluster or the body's end),
//   - PERSISTED after it is fsynced (only when DataRetentionInHours > 0),
//   - ERROR with an ErrorId, IDLE while no data arrives.
//
// A fragment is numbered when it starts (fragstore.Reserve), so every ack
// of it, BUFFERING on, carries its FragmentNumber, as AWS's do; a refused
// fragment's number stays unused. Each Cluster is one fragment, held in
// memory alone (≤ 50 MB, else ErrorId 4001). Producer timestamp = start + Timecode (RELATIVE) or the
// Timecode (ABSOLUTE); server timestamp = arrival of the cluster's first
// byte. Fragment-level faults drop that fragment and keep the connection:
// 4002 duration over 10 s, 4004 producer timestamp not after the previous
// fragment's in this session, 4006 first video frame not a keyframe, 4009
// more than 10 fragment metadata tags (SimpleTags in the Tags before the
// Cluster, and in a run of Tags right after an unknown-size Cluster that
// ends with the producer SDK's AWS_KINESISVIDEO_END_OF_FRAGMENT marker).
// The metadata is stored with the fragment (name and value of each
// SimpleTag, in order; the marker left out) and returned by
// GetMedia and GetMediaForFragmentList (media.go); more than 4 MiB of it
// before one Cluster is malformed MKV (4006). A
// producer that reconnects and re-sends from its last acknowledged fragment
// (what the producer SDKs do after an error or an ack timeout) starts a new
// session: its fragments are taken again, so the stream holds both copies,
// as AWS's does. A stream that cannot be parsed (truncated, malformed EBML) gets
// 4006 (4010 for a block naming an unknown track) and the response ends;
// fragments persisted before stay. ERROR acks carry ErrorCode, the name AWS
// gives the ErrorId (MAX_FRAGMENT_DURATION_REACHED, …).
//
// A fragment that begins 45 minutes or more after the session began gets
// ERROR 4003 (MAX_CONNECTION_DURATION_REACHED) and ends the session, as AWS
// closes a PutMedia connection after 45 minutes.
//
// Both x-amzn-stream-name and x-amzn-stream-arn is InvalidArgumentException.
// Per-stream quotas (limits.go): a second concurrent session is
// ConnectionLimitExceededException, a sixth call within a second
// ClientLimitExceededException (HTTP 400, before the 200); the body is read
// at most at 12.5 MB/s and at most 5 fragments a second are taken (faster
// producers are slowed, as AWS slows them, never refused).

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

const (
	maxFragmentBytes    = 50 << 20
	maxFragmentDuration = 10 * time.Second
	// maxFragmentMetadata is AWS's "Maximum fragment metadata limit: 10
	// tags" (every SimpleTag counts, AWS_KINESISVIDEO_IMAGE_* ones too)
	maxFragmentMetadata = 10
	// maxConnection is how long AWS keeps a PutMedia connection (the
	// producer SDKs reconnect before it, when they rotate the token)
	maxConnection = 45 * time.Minute
)

// ack is one acknowledgement event.
type ack struct {
	EventType        string
	FragmentTimecode *int64 `json:",omitempty"`
	FragmentNumber   string `json:",omitempty"`
	ErrorId          int    `json:",omitempty"`
	ErrorCode        string `json:",omitempty"`
}

// errorCodes name the ErrorIds as AWS's acknowledgements do.
var errorCodes = map[int]string{
	4000: "STREAM_READ_ERROR", 4001: "MAX_FRAGMENT_SIZE_REACHED", 4002: "MAX_FRAGMENT_DURATION_REACHED",
	4003: "MAX_CONNECTION_DURATION_REACHED", 4004: "FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS",
	4005: "MORE_THAN_ALLOWED_TRACKS_FOUND", 4006: "INVALID_MKV_DATA", 4007: "INVALID_PRODUCER_TIMESTAMP",
	4008: "STREAM_NOT_ACTIVE", 4009: "FRAGMENT_METADATA_LIMIT_REACHED", 4010: "TRACK_NUMBER_MISMATCH",
	4011: "FRAMES_MISSING_FOR_TRACK", 4012: "MORE_THAN_ALLOWED_TRACKS_FOUND", 5000: "INTERNAL_ERROR", 5001: "ARCHIVAL_ERROR",
}

// acker writes acknowledgements; IDLE comes from another goroutine.
type acker struct {
	mu  sync.Mutex
	w   http.ResponseWriter
	rc  *http.ResponseController
	err error
}

func (a *acker) send(e ack) error {
	if e.ErrorId != 0 {
		e.ErrorCode = errorCodes[e.ErrorId]
	}
	b, _ := json.Marshal(e)
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	if _, err := a.w.Write(b); err != nil {
		a.err = err
		return err
	}
	if err := a.rc.Flush(); err != nil {
		a.err = err
	}
	return a.err
}

// countingReader notes when bytes arrive (for IDLE).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func opPutMedia(s *Service, c *call) (any, error) {
	r := c.r
	name, arn := r.Header.Get("x-amzn-stream-name"), r.Header.Get("x-amzn-stream-arn")
	if name != "" && arn != "" {
		return nil, errInvalidArg("Specify either x-amzn-stream-name or x-amzn-stream-arn, not both.")
	}
	st, fs, err := s.lookup(c.req, name, arn)
	if err != nil {
		return nil, err
	}
	tct := r.Header.Get("x-amzn-fragment-timecode-type")
	if tct != "ABSOLUTE" && tct != "RELATIVE" {
		return nil, errInvalidArg("x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE.")
	}
	var start time.Time
	if v := r.Header.Get("x-amzn-producer-start-timestamp"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return nil, errInvalidArg("x-amzn-producer-start-timestamp is not a valid timestamp.")
		}
		start = time.UnixMilli(int64(f*1000 + 0.5))
	} else if tct == "RELATIVE" {
		return nil, errInvalidArg("x-amzn-producer-start-timestamp is required.")
	}
	release, err := s.admit("PutMedia", st.ARN, putMediaTPS, putMediaConns)
	if err != nil {
		return nil, err
	}
	// Close the body before returning (after the slot is released: the
	// close drains up to 256 kB of what the producer still sends). When a
	// session ends early and net/http's own close after the handler finds
	// the body's end, its background read races the next request read and
	// panics ("invalid concurrent Body.Read call"); closing here lets the
	// server cancel that read properly.
	defer r.Body.Close()
	defer release()
	rc := http.NewResponseController(c.w)
	rc.EnableFullDuplex() // HTTP/1.1: answer while the body still streams
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(http.StatusOK)
	rc.Flush()
	a := &acker{w: c.w, rc: rc}

	ctx := r.Context()
	body := &countingReader{r: &rateReader{ctx: ctx, r: r.Body, byteRate: byteRate{perSec: putMediaBytesPerS, now: s.o.Now, sleep: s.o.Sleep}}}
	gate := &fragmentGate{perSec: putMediaFragsPerS, now: s.o.Now, sleep: s.o.Sleep}
	// the IDLE ticker writes acks too: it must be gone before the handler
	// returns (a write after that is a use of a finished ResponseWriter)
	done := make(chan struct{})
	var idleWG sync.WaitGroup
	defer func() {
		close(done)
		idleWG.Wait()
	}()
	idleWG.Add(1)
	go func() {
		defer idleWG.Done()
		t := time.NewTicker(s.o.IdleAck)
		defer t.Stop()
		last := int64(-1)
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if n := body.n.Load(); n == last {
					if a.send(ack{EventType: "IDLE"}) != nil {
						return
					}
				} else {
					last = n
				}
			}
		}
	}()

	sp := mkv.NewSplitter(body, maxFragmentBytes)
	var arrival time.Time
	// the fragment's number is taken when it starts, so that BUFFERING,
	// RECEIVED, PERSISTED and ERROR all carry it; a refused fragment
	// leaves its number unused
	var seq uint64
	var seqErr error
	num := func() string {
		if seq == 0 {
			return ""
		}
		return fragNumber(seq)
	}
	sp.OnClusterStart = func(tc int64) {
		arrival = s.o.Now()
		seq, seqErr = fs.Reserve()
		if seqErr != nil {
			seq = 0
		}
		a.send(ack{EventType: "BUFFERING", FragmentTimecode: &tc, FragmentNumber: num()})
	}
	persist := st.RetentionHrs > 0
	last := int64(-1 << 62) // this session's last accepted producer ms
	began := s.o.Now()
	for {
		seq, seqErr = 0, nil
		cl, err := sp.Next()
		if err == nil && seqErr != nil && !fs.Closed() {
			// the reservation could not be recorded (a deleted stream's
			// fragment goes on to ERROR 4008 below)
			s.log.Error("video: number fragment", "stream", st.Name, "err", seqErr)
			a.send(ack{EventType: "ERROR", FragmentTimecode: &cl.Timecode, ErrorId: 5001})
			return nil, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			code := mkv.CodeStreamRead
			var pe *mkv.ParseError
			if errors.As(err, &pe) {
				code = pe.Code
			}
			if code == mkv.CodeStreamRead && r.Context().Err() != nil {
				return nil, nil // the producer went away
			}
			e := ack{EventType: "ERROR", ErrorId: code}
			if cl != nil {
				e.FragmentTimecode = &cl.Timecode
				e.FragmentNumber = num()
			}
			a.send(e)
			return nil, nil
		}
		tc := cl.Timecode
		if arrival.Sub(began) >= maxConnection {
			// a fragment begun after 45 minutes: 4003 ends the session
			// (the producer sends it again on a new connection)
			a.send(ack{EventType: "ERROR", FragmentTimecode: &tc, FragmentNumber: num(), ErrorId: 4003})
			return nil, nil
		}
		scale := int64(cl.Header.TimecodeScale)
		prodNs := tc * scale
		var producer time.Time
		if tct == "RELATIVE" {
			producer = start.Add(time.Duration(prodNs))
		} else {
			producer = time.Unix(0, prodNs)
		}
		dur := fragmentDuration(cl)
		if code := checkFragment(&last, cl, producer, dur); code != 0 {
			if a.send(ack{EventType: "ERROR", FragmentTimecode: &tc, FragmentNumber: num(), ErrorId: code}) != nil {
				return nil, nil
			}
			continue
		}
		if gate.wait(ctx) != nil {
			return nil, nil // the producer went away while throttled
		}
		if a.send(ack{EventType: "RECEIVED", FragmentTimecode: &tc, FragmentNumber: num()}) != nil {
			return nil, nil
		}
		if fs.Closed() {
			a.send(ack{EventType: "ERROR", FragmentTimecode: &tc, FragmentNumber: num(), ErrorId: 4008})
			return nil, nil
		}
		m, err := fs.AppendSeq(seq, cl.Header, producer, arrival, dur, cl.Raw, cl.Tags...)
		if err != nil {
			s.log.Error("video: persist fragment", "stream", st.Name, "err", err)
			code := 5001
			if fs.Closed() {
				code = 4008
			}
			a.send(ack{EventType: "ERROR", FragmentTimecode: &tc, FragmentNumber: num(), ErrorId: code})
			return nil, nil
		}
		if persist {
			if a.send(ack{EventType: "PERSISTED", FragmentTimecode: &tc, FragmentNumber: fragNumber(m.Seq)}) != nil {
				return nil, nil
			}
		}
	}
}

// checkFragment applies AWS's per-fragment rules; 0 accepts the fragment
// and records its producer timestamp in last (the session's; a new
// session may overlap an earlier one, as producers re-sending after a
// reconnect do).
func checkFragment(last *int64, cl *mkv.Cluster, producer time.Time, dur time.Duration) int {
	if cl.MetaTags > maxFragmentMetadata {
		return 4009
	}
	if dur > maxFragmentDuration {
		return 4002
	}
	if !cl.Keyframe {
		return mkv.CodeInvalidMKV
	}
	if cl.Blocks == 0 {
		return 4011
	}
	ms := producer.UnixMilli()
	if ms <= *last {
		return 4004
	}
	*last = ms
	return 0
}

// fragmentDuration is the span of the first video track's blocks plus one
// frame (its DefaultDuration, else the mean spacing); without video, the
// span of all blocks.
func fragmentDuration(cl *mkv.Cluster) time.Duration {
	if cl.Blocks == 0 {
		return 0
	}
	scale := time.Duration(cl.Header.TimecodeScale)
	if cl.VideoBlocks == 0 {
		return time.Duration(cl.MaxRel-cl.MinRel) * scale
	}
	span := time.Duration(cl.VideoMax-cl.VideoMin) * scale
	var frame time.Duration
	for _, t := range cl.Header.TrackList {
		if t.Type == 1 {
			if t.DefaultDuration > 0 {
				frame = time.Duration(t.DefaultDuration)
			} else if cl.VideoBlocks > 1 {
				frame = span / time.Duration(cl.VideoBlocks-1)
			}
			break
		}
	}
	return span + frame
}
