package video_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHLS: ON_DEMAND and LIVE sessions over ingested media; ffmpeg reads
// the HLS stream end to end with -c copy; an unknown token is refused.
func TestHLS(t *testing.T) {
	ffm, gst := testMedia(t)
	e := start(t, "")
	for name, file := range map[string]string{"ffmpeg": ffm, "gst": gst} {
		e.createStream("hls-"+name, 1)
		f, _ := os.Open(file)
		nums := checkAcks(t, e.putMedia("hls-"+name, f, time.UnixMilli(1_700_000_000_000)))
		f.Close()
		var out struct{ HLSStreamingSessionURL string }
		e.postJSON("/getHLSStreamingSessionURL", map[string]any{"StreamName": "hls-" + name, "PlaybackMode": "ON_DEMAND",
			"HLSFragmentSelector": map[string]any{"FragmentSelectorType": "PRODUCER_TIMESTAMP",
				"TimestampRange": map[string]any{"StartTimestamp": 1_699_999_999.0, "EndTimestamp": 1_700_000_100.0}}}, &out)
		if !strings.HasPrefix(out.HLSStreamingSessionURL, e.url+"/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=") {
			t.Fatalf("url %s", out.HLSStreamingSessionURL)
		}
		// the media playlist lists every fragment and ends
		media := strings.Replace(out.HLSStreamingSessionURL, "getHLSMasterPlaylist", "getHLSMediaPlaylist", 1)
		resp, err := http.Get(media)
		if err != nil {
			t.Fatal(err)
		}
		pl, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if c := strings.Count(string(pl), "#EXTINF:"); c != len(nums) || !strings.Contains(string(pl), "#EXT-X-ENDLIST") {
			t.Fatalf("%s playlist (%d fragments):\n%s", name, len(nums), pl)
		}
		cmd := exec.Command("ffmpeg", "-v", "error", "-i", out.HLSStreamingSessionURL, "-c", "copy", "-f", "null", "-")
		if b, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
			t.Fatalf("%s: ffmpeg over HLS: %v\n%s", name, err, b)
		}
		// and decodes it
		cmd = exec.Command("ffmpeg", "-v", "error", "-i", out.HLSStreamingSessionURL, "-f", "null", "-")
		if b, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
			t.Fatalf("%s: ffmpeg decode over HLS: %v\n%s", name, err, b)
		}
	}
	// LIVE lists the newest five
	var live struct{ HLSStreamingSessionURL string }
	e.postJSON("/getHLSStreamingSessionURL", map[string]any{"StreamName": "hls-ffmpeg"}, &live)
	resp, _ := http.Get(strings.Replace(live.HLSStreamingSessionURL, "getHLSMasterPlaylist", "getHLSMediaPlaylist", 1))
	pl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Count(string(pl), "#EXTINF:") != 5 || strings.Contains(string(pl), "ENDLIST") {
		t.Fatalf("live playlist:\n%s", pl)
	}
	resp, _ = http.Get(e.url + "/hls/v1/getHLSMediaPlaylist.m3u8?SessionToken=nope")
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	// no retention, an unknown container
	e.createStream("hls-none", 0)
	r := e.post("/getHLSStreamingSessionURL", map[string]any{"StreamName": "hls-none"})
	r.Body.Close()
	if r.Header.Get("x-amzn-ErrorType") != "NoDataRetentionException" {
		t.Fatalf("no retention: %s", r.Header.Get("x-amzn-ErrorType"))
	}
	r = e.post("/getHLSStreamingSessionURL", map[string]any{"StreamName": "hls-ffmpeg", "ContainerFormat": "MPEG_PS"})
	r.Body.Close()
	if r.Header.Get("x-amzn-ErrorType") != "InvalidArgumentException" {
		t.Fatalf("MPEG_PS: %s", r.Header.Get("x-amzn-ErrorType"))
	}
}

func TestGetImages(t *testing.T) {
	ffm, _ := testMedia(t)
	e := start(t, "")
	e.createStream("img", 1)
	f, _ := os.Open(ffm)
	checkAcks(t, e.putMedia("img", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	var out struct {
		Images []struct {
			TimeStamp    float64
			Error        string
			ImageContent []byte
		}
		NextToken string
	}
	e.postJSON("/getImages", map[string]any{"StreamName": "img", "ImageSelectorType": "PRODUCER_TIMESTAMP",
		"StartTimestamp": 1_700_000_000.5, "EndTimestamp": 1_700_000_010.0, "SamplingInterval": 1000,
		"Format": "JPEG", "WidthPixels": 160, "MaxResults": 8}, &out)
	if len(out.Images) != 8 || out.NextToken == "" {
		t.Fatalf("%d images, token %q", len(out.Images), out.NextToken)
	}
	for i, im := range out.Images {
		inMedia := i < 6 // 0.5 … 5.5 s lie in the 6 s of media
		if inMedia && (im.Error != "" || !bytes.HasPrefix(im.ImageContent, []byte{0xFF, 0xD8})) {
			t.Fatalf("image %d: %q %d bytes", i, im.Error, len(im.ImageContent))
		}
		if !inMedia && im.Error != "NO_MEDIA" {
			t.Fatalf("image %d at %.1f: %q", i, im.TimeStamp, im.Error)
		}
	}
	// the next page continues at 8.5 s
	tok := out.NextToken
	out.Images, out.NextToken = nil, ""
	e.postJSON("/getImages", map[string]any{"StreamName": "img", "ImageSelectorType": "PRODUCER_TIMESTAMP",
		"StartTimestamp": 1_700_000_000.5, "EndTimestamp": 1_700_000_010.0, "SamplingInterval": 1000,
		"Format": "PNG", "MaxResults": 8, "NextToken": tok}, &out)
	if len(out.Images) != 2 || out.Images[0].TimeStamp != 1_700_000_008.5 || out.NextToken != "" {
		t.Fatalf("page 2: %+v", out)
	}
}

// TestDASH: ffmpeg's DASH demuxer reads an ON_DEMAND manifest end to end
// and decodes it.
func TestDASH(t *testing.T) {
	ffm, _ := testMedia(t)
	e := start(t, "")
	e.createStream("dash", 1)
	f, _ := os.Open(ffm)
	nums := checkAcks(t, e.putMedia("dash", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	var out struct{ DASHStreamingSessionURL string }
	e.postJSON("/getDASHStreamingSessionURL", map[string]any{"StreamName": "dash", "PlaybackMode": "ON_DEMAND",
		"DisplayFragmentNumber": "ALWAYS", "DisplayFragmentTimestamp": "ALWAYS",
		"DASHFragmentSelector": map[string]any{"FragmentSelectorType": "PRODUCER_TIMESTAMP",
			"TimestampRange": map[string]any{"StartTimestamp": 1_699_999_999.0, "EndTimestamp": 1_700_000_100.0}}}, &out)
	if !strings.Contains(out.DASHStreamingSessionURL, "/dash/v1/getDASHManifest.mpd?SessionToken=") {
		t.Fatalf("url %q", out.DASHStreamingSessionURL)
	}
	resp, err := http.Get(out.DASHStreamingSessionURL)
	if err != nil {
		t.Fatal(err)
	}
	mpd, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Count(string(mpd), "<S t=") != 2*len(nums) || !strings.Contains(string(mpd), `type="static"`) {
		t.Fatalf("manifest:\n%s", mpd)
	}
	// DisplayFragmentNumber / DisplayFragmentTimestamp: kvs:fn and kvs:ts
	// (the producer timestamps, as the selector says) on every S element
	for _, n := range nums {
		if strings.Count(string(mpd), `kvs:fn="`+n+`"`) != 2 {
			t.Fatalf("fragment %s not shown twice (video, audio):\n%s", n, mpd)
		}
	}
	if strings.Count(string(mpd), `kvs:ts="`) != 2*len(nums) || !strings.Contains(string(mpd), `<S t="1700000000000" d="1000" kvs:fn="`+nums[0]+`" kvs:ts="1700000000000"/>`) ||
		!strings.Contains(string(mpd), `xmlns:kvs=`) {
		t.Fatalf("kvs:ts attributes:\n%s", mpd)
	}
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", out.DASHStreamingSessionURL, "-f", "null", "-")
	if b, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
		t.Fatalf("ffmpeg over DASH: %v\n%s\n%s", err, b, mpd)
	}
	// the dynamic (LIVE) manifest
	e.postJSON("/getDASHStreamingSessionURL", map[string]any{"StreamName": "dash"}, &out)
	resp, _ = http.Get(out.DASHStreamingSessionURL)
	mpd, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(mpd), `type="dynamic"`) || strings.Count(string(mpd), "<S t=") != 10 || strings.Contains(string(mpd), "kvs:") {
		t.Fatalf("live manifest:\n%s", mpd)
	}
}
