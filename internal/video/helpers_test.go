package video_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"

	"github.com/eddy-streams/eddy/internal/eddytest"
	"github.com/eddy-streams/eddy/internal/gateway"
	"github.com/eddy-streams/eddy/internal/sigv4"
	"github.com/eddy-streams/eddy/internal/video"
)

// env is an in-process gateway (SigV4 verified) serving the video service.
type env struct {
	t   testing.TB
	url string
	svc *video.Service
	kv  *kinesisvideo.Client
	dir string
}

func start(t testing.TB, dir string, opts ...func(*video.Options)) *env {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	o := video.Options{Dir: dir, GetMediaIdle: 300 * time.Millisecond, IdleAck: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DefaultAccount: "000000000000", DefaultRegion: "us-east-1"}
	for _, f := range opts {
		f(&o)
	}
	svc, err := video.New(o)
	if err != nil {
		t.Fatal(err)
	}
	v := &sigv4.Verifier{Keys: map[string]string{"AKIDEXAMPLE": "secret"}}
	auth := func(r *http.Request, body []byte) (gateway.Identity, error) {
		c, err := v.Verify(r, body)
		if err != nil {
			return gateway.Identity{}, err
		}
		return gateway.Identity{AccessKey: c.AccessKey, Account: "000000000000", Region: c.Region}, nil
	}
	g := gateway.New(gateway.Options{Auth: auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), REST: []gateway.RESTService{svc}})
	g.SetReady(true)
	hs := httptest.NewServer(g)
	t.Cleanup(func() { hs.Close(); svc.Close() })
	e := &env{t: t, url: hs.URL, svc: svc, dir: dir}
	e.kv = kinesisvideo.NewFromConfig(eddytest.AWSConfig(hs.URL, "", ""))
	return e
}

var emptyHash = hex.EncodeToString(func() []byte { s := sha256.Sum256(nil); return s[:] }())

// sign signs r for kinesisvideo with payload hash h.
func sign(t testing.TB, r *http.Request, h string) {
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, h, "kinesisvideo", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
}

// post sends a signed JSON data-plane request and returns the response.
func (e *env) post(path string, body any) *http.Response {
	e.t.Helper()
	b, _ := json.Marshal(body)
	r, _ := http.NewRequest("POST", e.url+path, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	s := sha256.Sum256(b)
	sign(e.t, r, hex.EncodeToString(s[:]))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func (e *env) postJSON(path string, body, out any) {
	e.t.Helper()
	resp := e.post(path, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("%s: %d %s %s", path, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatal(err)
		}
	}
}

type ackEvent struct {
	EventType        string
	FragmentTimecode *int64
	FragmentNumber   string
	ErrorId          int
	ErrorCode        string
}

// putMedia streams body to PutMedia as the producer SDKs do: chunked,
// signed with the empty-body hash; it returns every acknowledgement.
func (e *env) putMedia(stream string, body io.Reader, start time.Time) []ackEvent {
	e.t.Helper()
	r, _ := http.NewRequest("POST", e.url+"/putMedia", io.NopCloser(body))
	r.ContentLength = -1 // chunked
	r.Header.Set("x-amzn-stream-name", stream)
	r.Header.Set("x-amzn-fragment-timecode-type", "RELATIVE")
	r.Header.Set("x-amzn-producer-start-timestamp", fmt.Sprintf("%d.%03d", start.Unix(), start.Nanosecond()/1e6))
	r.Header.Set("x-amzn-fragment-acknowledgment-required", "1")
	sign(e.t, r, emptyHash)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("putMedia: %d %s", resp.StatusCode, b)
	}
	var acks []ackEvent
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var a ackEvent
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			e.t.Fatalf("ack %q: %v", line, err)
		}
		acks = append(acks, a)
	}
	return acks
}

func (e *env) createStream(name string, hours int32) string {
	e.t.Helper()
	out, err := e.kv.CreateStream(context.Background(), &kinesisvideo.CreateStreamInput{StreamName: aws.String(name), DataRetentionInHours: aws.Int32(hours), MediaType: aws.String("video/h264")})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.StreamARN
}

var (
	mediaOnce sync.Once
	mediaDir  string
	mediaErr  error
)

// testMedia makes the fixtures once: an H.264 + AAC test pattern from
// ffmpeg (6 s, 1 s GOPs and clusters, sized elements) and from GStreamer
// (4 s, matroskamux streamable: unknown-size Segment and Clusters).
func testMedia(t testing.TB) (ffmpegMKV, gstMKV string) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe", "gst-launch-1.0"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run scripts/setup.d/60-video.sh", tool)
		}
	}
	mediaOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eddy-video-media-")
		if err != nil {
			mediaErr = err
			return
		}
		mediaDir = dir
		ff := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
			"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
			"-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-keyint_min", "25",
			"-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
			"-f", "matroska", "-cluster_time_limit", "1000", filepath.Join(dir, "ffmpeg.mkv"))
		if out, err := ff.CombinedOutput(); err != nil {
			mediaErr = fmt.Errorf("ffmpeg: %v\n%s", err, out)
			return
		}
		gst := exec.Command("gst-launch-1.0", "-q",
			"videotestsrc", "num-buffers=100", "!", "video/x-raw,width=320,height=240,framerate=25/1", "!",
			"x264enc", "key-int-max=25", "speed-preset=ultrafast", "tune=zerolatency", "!", "h264parse", "!", "mux.",
			"audiotestsrc", "num-buffers=150", "!", "audioconvert", "!", "voaacenc", "!", "aacparse", "!", "mux.",
			"matroskamux", "name=mux", "streamable=true", "!", "filesink", "location="+filepath.Join(dir, "gst.mkv"))
		if out, err := gst.CombinedOutput(); err != nil {
			mediaErr = fmt.Errorf("gst-launch-1.0: %v\n%s", err, out)
		}
	})
	if mediaErr != nil {
		t.Fatal(mediaErr)
	}
	return filepath.Join(mediaDir, "ffmpeg.mkv"), filepath.Join(mediaDir, "gst.mkv")
}

// ffprobeDuration returns the container duration ffprobe reads from f
// (format duration, else the last packet's end), failing on any error
// output.
func ffprobeDuration(t testing.TB, f string) float64 {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=pts_time,duration_time,stream_index", "-of", "csv=p=0", f)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// GetMedia's layout is AWS's: every fragment repeats the EBML header and
	// an unknown-size Segment. ffmpeg reads on through them (its packets and
	// timestamps are checked below) but logs each repeated Segment; that
	// one line is expected, any other is a failure.
	var bad []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !strings.Contains(l, "Found unknown-length element with ID 0x18538067") {
			bad = append(bad, l)
		}
	}
	if err != nil || len(bad) > 0 {
		t.Fatalf("ffprobe %s: %v\n%s", f, err, strings.Join(bad, "\n"))
	}
	var lo, hi float64 = 1e18, 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		p := strings.Split(line, ",")
		if len(p) < 3 || p[0] != "0" {
			continue
		}
		pts, err1 := strconv.ParseFloat(p[1], 64)
		d, err2 := strconv.ParseFloat(p[2], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		lo = min(lo, pts)
		hi = max(hi, pts+d)
	}
	return hi - lo
}

// putMediaPaced streams file as a live camera would: clusters released at
// their timecodes (speed: the file's length in real time).
func (e *env) putMediaPaced(ctx context.Context, stream string, file []byte, start time.Time, length time.Duration) []ackEvent {
	pr, pw := io.Pipe()
	go func() {
		t0 := time.Now()
		n := len(file)
		step := 16 << 10
		for off := 0; off < n; off += step {
			due := t0.Add(time.Duration(int64(length) * int64(off) / int64(n)))
			select {
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			case <-time.After(time.Until(due)):
			}
			if _, err := pw.Write(file[off:min(off+step, n)]); err != nil {
				return
			}
		}
		pw.Close()
	}()
	r, _ := http.NewRequestWithContext(ctx, "POST", e.url+"/putMedia", pr)
	r.ContentLength = -1
	r.Header.Set("x-amzn-stream-name", stream)
	r.Header.Set("x-amzn-fragment-timecode-type", "RELATIVE")
	r.Header.Set("x-amzn-producer-start-timestamp", fmt.Sprintf("%d.%03d", start.Unix(), start.Nanosecond()/1e6))
	sign(e.t, r, emptyHash)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var acks []ackEvent
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var a ackEvent
		if json.Unmarshal(sc.Bytes(), &a) == nil {
			acks = append(acks, a)
		}
	}
	return acks
}

// putMediaLive starts PutMedia on body and delivers acks as they arrive.
func (e *env) putMediaLive(stream string, body io.Reader, start time.Time) <-chan ackEvent {
	r, _ := http.NewRequest("POST", e.url+"/putMedia", io.NopCloser(body))
	r.ContentLength = -1
	r.Header.Set("x-amzn-stream-name", stream)
	r.Header.Set("x-amzn-fragment-timecode-type", "RELATIVE")
	r.Header.Set("x-amzn-producer-start-timestamp", fmt.Sprintf("%d.%03d", start.Unix(), start.Nanosecond()/1e6))
	sign(e.t, r, emptyHash)
	ch := make(chan ackEvent, 100)
	go func() {
		defer close(ch)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var a ackEvent
			if json.Unmarshal(sc.Bytes(), &a) == nil {
				ch <- a
			}
		}
	}()
	return ch
}

// splitClusters cuts a Matroska file into the header plus first cluster,
// then one part per further cluster.
func splitClusters(file []byte) [][]byte {
	id := []byte{0x1F, 0x43, 0xB6, 0x75}
	var idx []int
	for off := 0; ; {
		i := bytes.Index(file[off:], id)
		if i < 0 {
			break
		}
		idx = append(idx, off+i)
		off += i + 4
	}
	var parts [][]byte
	prev := 0
	for _, i := range idx[1:] {
		parts = append(parts, file[prev:i])
		prev = i
	}
	return append(parts, file[prev:])
}
