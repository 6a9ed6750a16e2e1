package video_test

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHLSMPEGTS: MPEG_TS sessions over ffmpeg and GStreamer media. The
// playlist lists getTSFragment.ts segments (no init segment) with
// #EXT-X-PROGRAM-DATE-TIME when DisplayFragmentTimestamp is ALWAYS; ffmpeg
// copies the HLS stream end to end without a warning, ffprobe finds H.264
// and AAC and the source's duration, and ffmpeg decodes every frame.
func TestHLSMPEGTS(t *testing.T) {
	ffm, gst := testMedia(t)
	e := start(t, "")
	for name, file := range map[string]string{"ffmpeg": ffm, "gst": gst} {
		stream := "ts-" + name
		e.createStream(stream, 1)
		f, _ := os.Open(file)
		nums := checkAcks(t, e.putMedia(stream, f, time.UnixMilli(1_700_000_000_000)))
		f.Close()
		var out struct{ HLSStreamingSessionURL string }
		e.postJSON("/getHLSStreamingSessionURL", map[string]any{"StreamName": stream, "PlaybackMode": "ON_DEMAND",
			"ContainerFormat": "MPEG_TS", "DisplayFragmentTimestamp": "ALWAYS",
			"HLSFragmentSelector": map[string]any{"FragmentSelectorType": "PRODUCER_TIMESTAMP",
				"TimestampRange": map[string]any{"StartTimestamp": 1_699_999_999.0, "EndTimestamp": 1_700_000_100.0}}}, &out)
		media := strings.Replace(out.HLSStreamingSessionURL, "getHLSMasterPlaylist", "getHLSMediaPlaylist", 1)
		resp, err := http.Get(media)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		pl := string(b)
		if strings.Count(pl, "getTSFragment.ts?FragmentNumber=") != len(nums) || strings.Contains(pl, "EXT-X-MAP") ||
			strings.Count(pl, "#EXT-X-PROGRAM-DATE-TIME:") != len(nums) ||
			!strings.Contains(pl, "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n") {
			t.Fatalf("%s playlist (%d fragments):\n%s", name, len(nums), pl)
		}
		// a segment is whole 188-byte packets served as video/MP2T
		seg := pl[strings.Index(pl, "getTSFragment.ts"):]
		seg = seg[:strings.Index(seg, "\n")]
		resp, err = http.Get(e.url + "/hls/v1/" + seg)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Type") != "video/MP2T" || len(body) == 0 || len(body)%188 != 0 || body[0] != 0x47 {
			t.Fatalf("%s segment: %s, %d bytes", name, resp.Header.Get("Content-Type"), len(body))
		}
		cmd := exec.Command("ffmpeg", "-v", "warning", "-i", out.HLSStreamingSessionURL, "-c", "copy", "-f", "null", "-")
		if b, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
			t.Fatalf("%s: ffmpeg -c copy over HLS MPEG-TS: %v\n%s", name, err, b)
		}
		probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", out.HLSStreamingSessionURL).Output()
		if err != nil || !strings.Contains(string(probe), "h264") || !strings.Contains(string(probe), "aac") {
			t.Fatalf("%s: ffprobe streams %q %v", name, probe, err)
		}
		want, got := ffprobeDuration(t, file), ffprobeDuration(t, out.HLSStreamingSessionURL)
		if math.Abs(want-got) > 0.1 {
			t.Fatalf("%s: HLS MPEG-TS lasts %.3f s, the source %.3f s", name, got, want)
		}
		frames, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", out.HLSStreamingSessionURL).Output()
		srcFrames, err2 := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", file).Output()
		// (over HLS ffprobe lists the stream under its program too)
		if got := strings.Fields(string(frames)); err != nil || err2 != nil || len(got) == 0 || got[0] != strings.TrimSpace(string(srcFrames)) {
			t.Fatalf("%s: decoded %q frames over HLS MPEG-TS, %q in the source (%v %v)", name, frames, srcFrames, err, err2)
		}
	}
}

// TestHLSDiscontinuityMode: two recordings 20 s apart on the producer
// timeline. ON_DISCONTINUITY marks only the gap between them, NEVER (the
// default with PRODUCER_TIMESTAMP) nothing, ALWAYS (the default with
// SERVER_TIMESTAMP) every boundary.
func TestHLSDiscontinuityMode(t *testing.T) {
	ffm, _ := testMedia(t)
	e := start(t, "")
	e.createStream("disc", 1)
	var n int
	for _, at := range []int64{1_700_000_000_000, 1_700_000_020_000} {
		f, _ := os.Open(ffm)
		n += len(checkAcks(t, e.putMedia("disc", f, time.UnixMilli(at))))
		f.Close()
	}
	count := func(sel, mode string) int {
		t.Helper()
		in := map[string]any{"StreamName": "disc", "PlaybackMode": "ON_DEMAND",
			"HLSFragmentSelector": map[string]any{"FragmentSelectorType": sel,
				"TimestampRange": map[string]any{"StartTimestamp": 1_600_000_000.0, "EndTimestamp": 1_900_000_000.0}}}
		if mode != "" {
			in["DiscontinuityMode"] = mode
		}
		var out struct{ HLSStreamingSessionURL string }
		e.postJSON("/getHLSStreamingSessionURL", in, &out)
		resp, err := http.Get(strings.Replace(out.HLSStreamingSessionURL, "getHLSMasterPlaylist", "getHLSMediaPlaylist", 1))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if c := strings.Count(string(b), "#EXTINF:"); c != n {
			t.Fatalf("%s %s: %d of %d fragments listed", sel, mode, c, n)
		}
		return strings.Count(string(b), "#EXT-X-DISCONTINUITY\n")
	}
	for _, c := range []struct {
		sel, mode string
		want      int
	}{
		{"PRODUCER_TIMESTAMP", "", 0},
		{"PRODUCER_TIMESTAMP", "NEVER", 0},
		{"PRODUCER_TIMESTAMP", "ON_DISCONTINUITY", 1},
		{"PRODUCER_TIMESTAMP", "ALWAYS", n - 1},
		{"SERVER_TIMESTAMP", "", n - 1},
	} {
		if got := count(c.sel, c.mode); got != c.want {
			t.Errorf("%s %q: %d discontinuities, want %d", c.sel, c.mode, got, c.want)
		}
	}
	r := e.post("/getHLSStreamingSessionURL", map[string]any{"StreamName": "disc", "DiscontinuityMode": "SOMETIMES"})
	if code, typ := errType(r); code != 400 || typ != "InvalidArgumentException" {
		t.Fatalf("bad mode: %d %s", code, typ)
	}
}

// TestHLSH265BFrames: H.265 with B-frames (3, closed GOPs of 1 s; ffmpeg's
// default clusters of up to 5 s, each starting at a keyframe) and AAC over
// MPEG-TS: ffmpeg copies the stream without a warning,
// ffprobe sees HEVC, and every frame decodes.
func TestHLSH265BFrames(t *testing.T) {
	testMedia(t) // the tools are there
	file := filepath.Join(t.TempDir(), "hevc.mkv")
	ff := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "8", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=25:min-keyint=25:scenecut=0:open-gop=0:bframes=3:log-level=error",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "matroska", file)
	if out, err := ff.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg libx265: %v\n%s", err, out)
	}
	e := start(t, "")
	e.createStream("hevc", 1)
	f, _ := os.Open(file)
	if n := len(checkAcks(t, e.putMedia("hevc", f, time.UnixMilli(1_700_000_000_000)))); n < 2 {
		t.Fatalf("%d fragments: want several segments", n)
	}
	f.Close()
	var out struct{ HLSStreamingSessionURL string }
	e.postJSON("/getHLSStreamingSessionURL", map[string]any{"StreamName": "hevc", "PlaybackMode": "ON_DEMAND", "ContainerFormat": "MPEG_TS",
		"HLSFragmentSelector": map[string]any{"FragmentSelectorType": "PRODUCER_TIMESTAMP",
			"TimestampRange": map[string]any{"StartTimestamp": 1_699_999_999.0, "EndTimestamp": 1_700_000_100.0}}}, &out)
	if b, err := exec.Command("ffmpeg", "-v", "warning", "-i", out.HLSStreamingSessionURL, "-c", "copy", "-f", "null", "-").CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
		t.Fatalf("ffmpeg -c copy over HLS MPEG-TS (H.265): %v\n%s", err, b)
	}
	count := func(src string) (string, string) {
		b, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", src).Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v", src, err)
		}
		f := strings.FieldsFunc(string(b), func(r rune) bool { return r == ',' || r == '\n' })
		if len(f) < 2 {
			t.Fatalf("ffprobe %s: %q", src, b)
		}
		return f[0], f[1]
	}
	codec, frames := count(out.HLSStreamingSessionURL)
	_, srcFrames := count(file)
	if codec != "hevc" || frames != srcFrames {
		t.Fatalf("HLS MPEG-TS: %s with %s frames, the source %s frames", codec, frames, srcFrames)
	}
	// the same media over fragmented MP4
	e.postJSON("/getHLSStreamingSessionURL", map[string]any{"StreamName": "hevc", "PlaybackMode": "ON_DEMAND",
		"HLSFragmentSelector": map[string]any{"FragmentSelectorType": "PRODUCER_TIMESTAMP",
			"TimestampRange": map[string]any{"StartTimestamp": 1_699_999_999.0, "EndTimestamp": 1_700_000_100.0}}}, &out)
	if codec, frames = count(out.HLSStreamingSessionURL); codec != "hevc" || frames != srcFrames {
		t.Fatalf("HLS fMP4: %s with %s frames, the source %s frames", codec, frames, srcFrames)
	}
}
