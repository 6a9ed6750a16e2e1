package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// videoMedia makes an H.264 + AAC test pattern (secs seconds, 1 s
// fragments) with ffmpeg.
func videoMedia(t *testing.T, secs int) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is not installed: run scripts/setup.d/60-video.sh")
	}
	out := filepath.Join(t.TempDir(), "media.mkv")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprint(secs), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-keyint_min", "25",
		"-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
		"-f", "matroska", "-cluster_time_limit", "1000", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	return out
}

type videoAck struct {
	EventType        string
	FragmentTimecode int64
	FragmentNumber   string
	ErrorId          int
}

// putMedia streams body to PutMedia as the producer SDKs do (chunked,
// SigV4 with the empty-body payload hash) and sends each ack to acks.
func putMedia(ctx context.Context, url, stream string, body io.Reader, acks chan<- videoAck) error {
	r, _ := http.NewRequestWithContext(ctx, "POST", url+"/putMedia", io.NopCloser(body))
	r.ContentLength = -1
	r.Header.Set("x-amzn-stream-name", stream)
	r.Header.Set("x-amzn-fragment-timecode-type", "RELATIVE")
	r.Header.Set("x-amzn-producer-start-timestamp", fmt.Sprintf("%.3f", float64(time.Now().UnixMilli())/1000))
	sum := sha256.Sum256(nil)
	err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, r,
		hex.EncodeToString(sum[:]), "kinesisvideo", "us-east-1", time.Now())
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(r)
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
		if l := strings.TrimSpace(sc.Text()); l != "" {
			var a videoAck
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				return fmt.Errorf("ack %q: %w", l, err)
			}
			acks <- a
		}
	}
	return sc.Err()
}

// TestVideoAWSCLI: the AWS CLI v1's kinesisvideo, kinesis-video-media and
// kinesis-video-archived-media commands against the binary, with media
// ingested through PutMedia; ffprobe reads what get-media wrote.
func TestVideoAWSCLI(t *testing.T) {
	s := startServer(t, "")
	ep := "--endpoint-url=" + s.URL
	out := run(t, "", "aws", ep, "kinesisvideo", "create-stream", "--stream-name", "cam", "--data-retention-in-hours", "2", "--media-type", "video/h264")
	if !strings.Contains(out, "arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/") {
		t.Fatalf("create-stream: %s", out)
	}
	out = run(t, "", "aws", ep, "kinesisvideo", "describe-stream", "--stream-name", "cam")
	if !strings.Contains(out, `"Status": "ACTIVE"`) || !strings.Contains(out, `"DataRetentionInHours": 2`) {
		t.Fatalf("describe-stream: %s", out)
	}
	var de struct{ DataEndpoint string }
	out = run(t, "", "aws", ep, "kinesisvideo", "get-data-endpoint", "--stream-name", "cam", "--api-name", "PUT_MEDIA")
	if json.Unmarshal([]byte(out), &de); de.DataEndpoint != s.URL {
		t.Fatalf("get-data-endpoint: %s", out)
	}
	run(t, "", "aws", ep, "kinesisvideo", "tag-stream", "--stream-name", "cam", "--tags", "team=video")
	if out = run(t, "", "aws", ep, "kinesisvideo", "list-tags-for-stream", "--stream-name", "cam"); !strings.Contains(out, `"team": "video"`) {
		t.Fatalf("list-tags-for-stream: %s", out)
	}
	if out = run(t, "", "aws", ep, "kinesisvideo", "list-streams"); !strings.Contains(out, `"StreamName": "cam"`) {
		t.Fatalf("list-streams: %s", out)
	}
	if e := runFail(t, "aws", ep, "kinesisvideo", "describe-stream", "--stream-name", "nope"); !strings.Contains(e, "ResourceNotFoundException") {
		t.Fatalf("describe missing: %s", e)
	}

	f, err := os.Open(videoMedia(t, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	acks := make(chan videoAck, 1000)
	if err := putMedia(context.Background(), de.DataEndpoint, "cam", f, acks); err != nil {
		t.Fatal(err)
	}
	close(acks)
	var nums []string
	for a := range acks {
		switch a.EventType {
		case "PERSISTED":
			nums = append(nums, a.FragmentNumber)
		case "ERROR":
			t.Fatalf("error ack %+v", a)
		}
	}
	if len(nums) < 4 {
		t.Fatalf("%d fragments persisted", len(nums))
	}
	var lf struct {
		Fragments []struct{ FragmentNumber string }
	}
	out = run(t, "", "aws", ep, "kinesis-video-archived-media", "list-fragments", "--stream-name", "cam")
	if json.Unmarshal([]byte(out), &lf); len(lf.Fragments) != len(nums) {
		t.Fatalf("list-fragments: %s", out)
	}
	dir := t.TempDir()
	media := filepath.Join(dir, "get-media.mkv")
	out = run(t, "", "aws", ep, "kinesis-video-media", "get-media", "--stream-name", "cam", "--start-selector", "StartSelectorType=EARLIEST", media)
	if !strings.Contains(out, `"ContentType": "video/h264"`) {
		t.Fatalf("get-media: %s", out)
	}
	if d := probeVideoSeconds(t, media); d < 3.8 || d > 4.2 {
		t.Fatalf("get-media output lasts %.3f s", d)
	}
	list := filepath.Join(dir, "list.mkv")
	run(t, "", "aws", ep, "kinesis-video-archived-media", "get-media-for-fragment-list", "--stream-name", "cam", "--fragments", nums[0], nums[1], "--", list)
	if d := probeVideoSeconds(t, list); d < 1.8 || d > 2.2 {
		t.Fatalf("get-media-for-fragment-list output lasts %.3f s", d)
	}
	// HLS through the CLI; ffmpeg reads the stream end to end
	var hls struct{ HLSStreamingSessionURL string }
	rng := fmt.Sprintf("FragmentSelectorType=SERVER_TIMESTAMP,TimestampRange={StartTimestamp=%d,EndTimestamp=%d}", time.Now().Add(-time.Hour).Unix(), time.Now().Add(time.Hour).Unix())
	out = run(t, "", "aws", ep, "kinesis-video-archived-media", "get-hls-streaming-session-url", "--stream-name", "cam",
		"--playback-mode", "ON_DEMAND", "--hls-fragment-selector", rng)
	if json.Unmarshal([]byte(out), &hls); !strings.HasPrefix(hls.HLSStreamingSessionURL, s.URL+"/hls/v1/") {
		t.Fatalf("get-hls-streaming-session-url: %s", out)
	}
	if b, err := exec.Command("ffmpeg", "-v", "error", "-i", hls.HLSStreamingSessionURL, "-c", "copy", "-f", "null", "-").CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
		t.Fatalf("ffmpeg over HLS: %v %s", err, b)
	}
	// and over MPEG-TS segments, with wall-clock times in the playlist
	out = run(t, "", "aws", ep, "kinesis-video-archived-media", "get-hls-streaming-session-url", "--stream-name", "cam",
		"--playback-mode", "ON_DEMAND", "--hls-fragment-selector", rng, "--container-format", "MPEG_TS", "--display-fragment-timestamp", "ALWAYS")
	if json.Unmarshal([]byte(out), &hls); !strings.HasPrefix(hls.HLSStreamingSessionURL, s.URL+"/hls/v1/") {
		t.Fatalf("get-hls-streaming-session-url MPEG_TS: %s", out)
	}
	if b, err := exec.Command("ffmpeg", "-v", "warning", "-i", hls.HLSStreamingSessionURL, "-c", "copy", "-f", "null", "-").CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
		t.Fatalf("ffmpeg over HLS MPEG-TS: %v %s", err, b)
	}
	clip := filepath.Join(dir, "clip.mp4")
	run(t, "", "aws", ep, "kinesis-video-archived-media", "get-clip", "--stream-name", "cam", "--clip-fragment-selector", rng, clip)
	if d := probeVideoSeconds(t, clip); d < 3.8 || d > 4.2 {
		t.Fatalf("get-clip output lasts %.3f s", d)
	}

	var ds struct {
		StreamInfo struct{ StreamARN, Version string }
	}
	json.Unmarshal([]byte(run(t, "", "aws", ep, "kinesisvideo", "describe-stream", "--stream-name", "cam")), &ds)
	run(t, "", "aws", ep, "kinesisvideo", "delete-stream", "--stream-arn", ds.StreamInfo.StreamARN, "--current-version", ds.StreamInfo.Version)
}

// probeVideoSeconds is the span of the first stream's packets as ffprobe
// reads them. GetMedia repeats the EBML header and an unknown-size Segment
// per fragment, as AWS does; ffmpeg logs each repeated Segment and reads on
// (that one message is tolerated, any other fails the test).
func probeVideoSeconds(t *testing.T, f string) float64 {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", f)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !strings.Contains(l, "Found unknown-length element with ID 0x18538067") {
			t.Fatalf("ffprobe %s: %s", f, stderr.String())
		}
	}
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	lo, hi := 1e18, 0.0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var pts, d float64
		if _, err := fmt.Sscanf(strings.ReplaceAll(l, ",", " "), "%g %g", &pts, &d); err == nil {
			lo, hi = min(lo, pts), max(hi, pts+d)
		}
	}
	return hi - lo
}

// TestVideoKill9KeepsPersisted: the server is killed with SIGKILL while a
// producer streams; after a restart every fragment acknowledged PERSISTED
// is listed and readable.
func TestVideoKill9KeepsPersisted(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	ep := "--endpoint-url=" + s.URL
	run(t, "", "aws", ep, "kinesisvideo", "create-stream", "--stream-name", "crash", "--data-retention-in-hours", "1")
	file, err := os.ReadFile(videoMedia(t, 20))
	if err != nil {
		t.Fatal(err)
	}
	// stream slowly enough that the kill lands mid-ingest
	pr, pw := io.Pipe()
	go func() {
		for off := 0; off < len(file); off += 16 << 10 {
			if _, err := pw.Write(file[off:min(off+16<<10, len(file))]); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		pw.Close()
	}()
	acks := make(chan videoAck, 1000)
	done := make(chan error, 1)
	go func() { done <- putMedia(context.Background(), s.URL, "crash", pr, acks) }()
	var persisted []string
	for len(persisted) < 5 {
		select {
		case a := <-acks:
			if a.EventType == "PERSISTED" {
				persisted = append(persisted, a.FragmentNumber)
			}
		case err := <-done:
			t.Fatalf("ingest ended before the kill: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("no acks")
		}
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
	pw.CloseWithError(io.ErrClosedPipe)
	<-done
	close(acks)
	for a := range acks {
		if a.EventType == "PERSISTED" {
			persisted = append(persisted, a.FragmentNumber)
		}
	}
	s2 := startServer(t, dir)
	ep = "--endpoint-url=" + s2.URL
	var lf struct {
		Fragments []struct{ FragmentNumber string }
	}
	json.Unmarshal([]byte(run(t, "", "aws", ep, "kinesis-video-archived-media", "list-fragments", "--stream-name", "crash")), &lf)
	have := map[string]bool{}
	for _, f := range lf.Fragments {
		have[f.FragmentNumber] = true
	}
	for _, n := range persisted {
		if !have[n] {
			t.Fatalf("PERSISTED fragment %s lost (have %d)", n, len(have))
		}
	}
	out := filepath.Join(t.TempDir(), "after.mkv")
	args := append([]string{ep, "kinesis-video-archived-media", "get-media-for-fragment-list", "--stream-name", "crash", "--fragments"}, persisted...)
	run(t, "", "aws", append(args, "--", out)...)
	if d := probeVideoSeconds(t, out); d < float64(len(persisted))-0.3 {
		t.Fatalf("%d persisted fragments read back as %.3f s", len(persisted), d)
	}
}
