package bench

// Video mode (--mode video): concurrent live Kinesis Video producers.
// Each of --video-streams streams gets its own PutMedia session that sends
// a synthetic H.264-shaped Matroska stream in real time: 25 frames/s of
// --video-bitrate bits/s, one sized Cluster (fragment) per second starting
// with a keyframe, signed with the empty-body SigV4 hash as the producer
// SDKs sign it. Per fragment it measures the time from writing the
// fragment's last byte to receiving its PERSISTED acknowledgement (the
// server has fsynced it), and reports how many arrived within 1 s.
//
// The HLS phase then opens LIVE sessions on one stream while it keeps
// streaming and measures, per fragment, PERSISTED acknowledgement → the
// fragment listed in the LIVE media playlist (polled every 20 ms, in turn
// over 10 sessions to stay within the 5 requests/s a session serves, so the
// figure includes up to 20 ms of polling).

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

// VideoOptions configure --mode video.
type VideoOptions struct {
	Endpoint string
	Region   string
	Streams  int           // concurrent streams (100)
	Bitrate  int           // bits/s per stream (2,000,000)
	Duration time.Duration // ingest length (10s)
	Keep     bool
}

// VideoReport is what --mode video measured.
type VideoReport struct {
	Streams         int     `json:"streams"`
	BitrateBps      int     `json:"bitrate_bps"`
	Seconds         float64 `json:"seconds"`
	Fragments       int64   `json:"fragments_persisted"`
	Errors          int64   `json:"errors"`
	WithinOneSecond float64 `json:"persisted_within_1s_fraction"`
	Persist         Latency `json:"persist_latency"`
	HLS             Latency `json:"hls_live_latency"`
	MBPerSec        float64 `json:"mb_per_sec"`
	ClientCPU       float64 `json:"client_cpu_seconds"`
	Host            Host    `json:"host"`
}

const videoFPS = 25

// videoHeader is an EBML header, Segment (unknown size), Info and Tracks
// with one H.264 track.
func videoHeader() []byte {
	var b []byte
	b = mkv.AppendElement(b, mkv.IDEBML, mkv.AppendString(nil, 0x4282, "matroska"))
	b = mkv.AppendID(b, mkv.IDSegment)
	b = mkv.AppendUnknownSize(b)
	b = mkv.AppendElement(b, mkv.IDInfo, mkv.AppendUint(nil, mkv.IDTimecodeScale, 1000000))
	var te []byte
	te = mkv.AppendUint(te, mkv.IDTrackNumber, 1)
	te = mkv.AppendUint(te, mkv.IDTrackType, 1)
	te = mkv.AppendString(te, mkv.IDCodecID, "V_MPEG4/ISO/AVC")
	te = mkv.AppendUint(te, mkv.IDDefaultDur, 40000000)
	te = mkv.AppendElement(te, mkv.IDCodecPrivate, []byte{1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1, 0, 4, 0x67, 0x42, 0xC0, 0x1E, 1, 0, 4, 0x68, 0xCE, 0x3C, 0x80})
	te = mkv.AppendElement(te, mkv.IDVideo, mkv.AppendUint(mkv.AppendUint(nil, mkv.IDPixelWidth, 1280), mkv.IDPixelHeight, 720))
	return mkv.AppendElement(b, mkv.IDTracks, mkv.AppendElement(nil, mkv.IDTrackEntry, te))
}

// clusterParts returns one second's Cluster as its head (ID, size,
// Timecode) and one SimpleBlock per frame, to be written in real time.
func clusterParts(tc uint64, frameBytes int, payload []byte) (head []byte, frames [][]byte) {
	tcEl := mkv.AppendUint(nil, mkv.IDTimecode, tc)
	for i := 0; i < videoFPS; i++ {
		flags := byte(0)
		if i == 0 {
			flags = 0x80
		}
		rel := i * 1000 / videoFPS
		p := append([]byte{0x81, byte(rel >> 8), byte(rel), flags}, payload[:frameBytes]...)
		frames = append(frames, mkv.AppendElement(nil, mkv.IDSimpleBlock, p))
	}
	size := len(tcEl)
	for _, f := range frames {
		size += len(f)
	}
	head = mkv.AppendID(nil, mkv.IDCluster)
	head = mkv.AppendSize8(head, uint64(size))
	head = append(head, tcEl...)
	return head, frames
}

type videoAck struct {
	EventType        string
	FragmentTimecode int64
	FragmentNumber   string
	ErrorId          int
}

// RunVideo runs the video mode.
func RunVideo(ctx context.Context, o VideoOptions) (VideoReport, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Streams <= 0 {
		o.Streams = 100
	}
	if o.Bitrate <= 0 {
		o.Bitrate = 2000000
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	rep := VideoReport{Streams: o.Streams, BitrateBps: o.Bitrate, Host: hostInfo()}
	cfg := aws.Config{Region: o.Region, Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), BaseEndpoint: aws.String(o.Endpoint)}
	kv := kinesisvideo.NewFromConfig(cfg)
	names := make([]string, o.Streams)
	for i := range names {
		names[i] = fmt.Sprintf("eddy-bench-video-%03d", i)
		if _, err := kv.CreateStream(ctx, &kinesisvideo.CreateStreamInput{StreamName: aws.String(names[i]), DataRetentionInHours: aws.Int32(1)}); err != nil && !strings.Contains(err.Error(), "ResourceInUse") {
			return rep, fmt.Errorf("bench: create video stream: %w", err)
		}
	}
	if !o.Keep {
		defer func() {
			for _, n := range names {
				d, err := kv.DescribeStream(context.WithoutCancel(ctx), &kinesisvideo.DescribeStreamInput{StreamName: aws.String(n)})
				if err == nil {
					kv.DeleteStream(context.WithoutCancel(ctx), &kinesisvideo.DeleteStreamInput{StreamARN: d.StreamInfo.StreamARN})
				}
			}
		}()
	}
	frameBytes := o.Bitrate / 8 / videoFPS
	payload := make([]byte, frameBytes)
	rand.Read(payload)
	hdr := videoHeader()
	var persist, hlsLat hist
	var mu sync.Mutex
	var frags, errs, bytesSent atomic.Int64
	var within atomic.Int64
	cpu0 := processCPU()
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, o.Duration+30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	// the HLS observer follows stream 0: persisted → listed in LIVE playlist
	persistedAt := make(chan [2]any, 1024)
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var observe chan<- [2]any
			if i == 0 {
				observe = persistedAt
			}
			err := videoProducer(runCtx, o, name, hdr, payload, frameBytes, start, func(lat time.Duration, num string) {
				mu.Lock()
				persist.add(lat)
				mu.Unlock()
				frags.Add(1)
				if lat <= time.Second {
					within.Add(1)
				}
				if observe != nil {
					select {
					case observe <- [2]any{num, time.Now()}:
					default:
					}
				}
			}, &errs, &bytesSent)
			if err != nil && runCtx.Err() == nil {
				errs.Add(1)
			}
			if i == 0 {
				close(persistedAt)
			}
		}()
	}
	hlsDone := make(chan struct{})
	go func() {
		defer close(hlsDone)
		observeHLS(runCtx, o, names[0], persistedAt, func(d time.Duration) { mu.Lock(); hlsLat.add(d); mu.Unlock() })
	}()
	wg.Wait()
	<-hlsDone
	rep.Seconds = time.Since(start).Seconds()
	rep.ClientCPU = (processCPU() - cpu0).Seconds()
	rep.Fragments = frags.Load()
	rep.Errors = errs.Load()
	if rep.Fragments > 0 {
		rep.WithinOneSecond = float64(within.Load()) / float64(rep.Fragments)
	}
	rep.Persist = persist.summary()
	rep.HLS = hlsLat.summary()
	rep.MBPerSec = float64(bytesSent.Load()) / 1e6 / rep.Seconds
	return rep, nil
}

func videoProducer(ctx context.Context, o VideoOptions, name string, hdr, payload []byte, frameBytes int, t0 time.Time,
	onPersist func(time.Duration, string), errs, sent *atomic.Int64) error {
	pr, pw := io.Pipe()
	// lastByte[tc] is when the fragment with timecode tc was fully written
	var lmu sync.Mutex
	lastByte := map[int64]time.Time{}
	go func() {
		if _, err := pw.Write(hdr); err != nil {
			return
		}
		seconds := int(o.Duration / time.Second)
		for s := 0; s < seconds; s++ {
			head, frames := clusterParts(uint64(s*1000), frameBytes, payload)
			if _, err := pw.Write(head); err != nil {
				return
			}
			for f, fr := range frames {
				due := t0.Add(time.Duration(s)*time.Second + time.Duration(f)*time.Second/videoFPS)
				select {
				case <-ctx.Done():
					pw.CloseWithError(ctx.Err())
					return
				case <-time.After(time.Until(due)):
				}
				if _, err := pw.Write(fr); err != nil {
					return
				}
				sent.Add(int64(len(fr)))
			}
			lmu.Lock()
			lastByte[int64(s*1000)] = time.Now()
			lmu.Unlock()
		}
		pw.Close()
	}()
	r, _ := http.NewRequestWithContext(ctx, "POST", o.Endpoint+"/putMedia", pr)
	r.ContentLength = -1
	r.Header.Set("x-amzn-stream-name", name)
	r.Header.Set("x-amzn-fragment-timecode-type", "RELATIVE")
	r.Header.Set("x-amzn-producer-start-timestamp", fmt.Sprintf("%.3f", float64(t0.UnixMilli())/1000))
	sum := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, r, hex.EncodeToString(sum[:]), "kinesisvideo", o.Region, time.Now()); err != nil {
		return err
	}
	resp, err := videoHTTP.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("putMedia %d: %s", resp.StatusCode, b)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var a videoAck
		if json.Unmarshal(sc.Bytes(), &a) != nil {
			continue
		}
		switch a.EventType {
		case "PERSISTED":
			now := time.Now()
			lmu.Lock()
			lb, ok := lastByte[a.FragmentTimecode]
			lmu.Unlock()
			if ok {
				onPersist(now.Sub(lb), a.FragmentNumber)
			}
		case "ERROR":
			errs.Add(1)
		}
	}
	return sc.Err()
}

var videoHTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}}

// hlsPollSessions is how many LIVE sessions observeHLS polls in turn: AWS
// (and Eddy) serve a session's media playlist at most 5 times a second, so
// a 20 ms poll needs 10 sessions (AWS has no limit on their number).
const hlsPollSessions = 10

// observeHLS opens LIVE HLS sessions on stream and, for each persisted
// fragment number, polls their media playlists in turn until it is listed.
func observeHLS(ctx context.Context, o VideoOptions, stream string, persisted <-chan [2]any, add func(time.Duration)) {
	var urls []string
	k := 0
	for p := range persisted {
		num, at := p[0].(string), p[1].(time.Time)
		for len(urls) < hlsPollSessions && ctx.Err() == nil {
			body := fmt.Sprintf(`{"StreamName":%q,"PlaybackMode":"LIVE"}`, stream)
			req, _ := http.NewRequestWithContext(ctx, "POST", o.Endpoint+"/getHLSStreamingSessionURL", strings.NewReader(body))
			sum := sha256.Sum256([]byte(body))
			v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, req, hex.EncodeToString(sum[:]), "kinesisvideo", o.Region, time.Now())
			resp, err := videoHTTP.Do(req)
			if err != nil {
				break
			}
			var out struct{ HLSStreamingSessionURL string }
			json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if out.HLSStreamingSessionURL == "" {
				break
			}
			urls = append(urls, strings.Replace(out.HLSStreamingSessionURL, "getHLSMasterPlaylist", "getHLSMediaPlaylist", 1))
		}
		if len(urls) < hlsPollSessions {
			continue
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			resp, err := videoHTTP.Get(urls[k%len(urls)])
			k++
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(b), num) {
					add(time.Since(at))
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// hist keeps latencies for percentiles.
type hist struct{ d []time.Duration }

func (h *hist) add(d time.Duration) { h.d = append(h.d, d) }

func (h *hist) summary() Latency {
	if len(h.d) == 0 {
		return Latency{}
	}
	sort.Slice(h.d, func(i, j int) bool { return h.d[i] < h.d[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var sum time.Duration
	for _, d := range h.d {
		sum += d
	}
	q := func(p float64) float64 { return ms(h.d[min(len(h.d)-1, int(p*float64(len(h.d))))]) }
	return Latency{Count: uint64(len(h.d)), Mean: ms(sum / time.Duration(len(h.d))), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: ms(h.d[len(h.d)-1])}
}

// WriteVideo prints the video report.
func WriteVideo(w io.Writer, r VideoReport, asJSON bool) error {
	if asJSON {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(r)
	}
	_, err := fmt.Fprintf(w, "video: %d streams × %.1f Mbit/s for %.1f s (%.1f MB/s sent), host %d CPUs load %s\n"+
		"  fragments persisted %d, errors %d, persisted within 1 s: %.2f%%\n"+
		"  last byte → PERSISTED ms: mean %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f\n"+
		"  PERSISTED → in LIVE HLS playlist ms (20 ms polling): n %d mean %.1f p50 %.1f p99 %.1f max %.1f\n"+
		"  client CPU %.1f s\n",
		r.Streams, float64(r.BitrateBps)/1e6, r.Seconds, r.MBPerSec, r.Host.CPUs, r.Host.LoadAvg,
		r.Fragments, r.Errors, 100*r.WithinOneSecond,
		r.Persist.Mean, r.Persist.P50, r.Persist.P90, r.Persist.P99, r.Persist.Max,
		r.HLS.Count, r.HLS.Mean, r.HLS.P50, r.HLS.P99, r.HLS.Max, r.ClientCPU)
	return err
}
