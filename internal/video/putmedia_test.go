package video_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

type fragList struct {
	Fragments []struct {
		FragmentNumber               string
		FragmentSizeInBytes          int64
		ProducerTimestamp            float64
		ServerTimestamp              float64
		FragmentLengthInMilliseconds int64
	}
	NextToken string
}

// checkAcks asserts BUFFERING, RECEIVED, PERSISTED per fragment, in order,
// with increasing fragment numbers, the same number from BUFFERING on (as
// AWS acknowledges); it returns the persisted numbers.
func checkAcks(t *testing.T, acks []ackEvent) []string {
	t.Helper()
	var nums []string
	want := "BUFFERING"
	var tc int64 = -1
	var cur string
	for _, a := range acks {
		if a.EventType == "IDLE" {
			continue
		}
		if a.EventType != want {
			t.Fatalf("ack %+v, want %s (all: %+v)", a, want, acks)
		}
		if a.FragmentTimecode == nil {
			t.Fatalf("ack without timecode: %+v", a)
		}
		switch want {
		case "BUFFERING":
			if *a.FragmentTimecode <= tc {
				t.Fatalf("timecode %d after %d", *a.FragmentTimecode, tc)
			}
			tc = *a.FragmentTimecode
			want = "RECEIVED"
		case "RECEIVED":
			want = "PERSISTED"
		case "PERSISTED":
			if len(a.FragmentNumber) != 47 || len(nums) > 0 && a.FragmentNumber <= nums[len(nums)-1] {
				t.Fatalf("fragment number %q", a.FragmentNumber)
			}
			nums = append(nums, a.FragmentNumber)
			want = "BUFFERING"
		}
		if *a.FragmentTimecode != tc {
			t.Fatalf("ack for timecode %d inside fragment %d", *a.FragmentTimecode, tc)
		}
		if a.EventType == "BUFFERING" {
			cur = a.FragmentNumber
		}
		if len(a.FragmentNumber) != 47 || a.FragmentNumber != cur {
			t.Fatalf("%s ack with fragment number %q, BUFFERING had %q", a.EventType, a.FragmentNumber, cur)
		}
	}
	if want != "BUFFERING" {
		t.Fatalf("acks end inside a fragment: %+v", acks)
	}
	return nums
}

func TestPutMediaFFmpegAndGStreamer(t *testing.T) {
	ffm, gst := testMedia(t)
	e := start(t, "")
	for _, tc := range []struct {
		name, file string
		minFrags   int
		seconds    float64
	}{{"ffmpeg", ffm, 6, 6}, {"gstreamer", gst, 4, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			e.createStream(tc.name, 2)
			f, err := os.Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			t0 := time.UnixMilli(1_700_000_000_000)
			nums := checkAcks(t, e.putMedia(tc.name, f, t0))
			if len(nums) < tc.minFrags {
				t.Fatalf("%d fragments persisted, want ≥ %d", len(nums), tc.minFrags)
			}
			var fl fragList
			e.postJSON("/listFragments", map[string]any{"StreamName": tc.name}, &fl)
			if len(fl.Fragments) != len(nums) {
				t.Fatalf("ListFragments: %d, acks: %d", len(fl.Fragments), len(nums))
			}
			var total int64
			for i, fr := range fl.Fragments {
				if fr.FragmentNumber != nums[i] || fr.FragmentSizeInBytes <= 0 || fr.ServerTimestamp <= 0 {
					t.Fatalf("fragment %d: %+v", i, fr)
				}
				if fr.ProducerTimestamp < 1_700_000_000 || fr.ProducerTimestamp > 1_700_000_000+tc.seconds {
					t.Fatalf("producer timestamp %f", fr.ProducerTimestamp)
				}
				total += fr.FragmentLengthInMilliseconds
			}
			if d := float64(total) / 1000; d < tc.seconds-0.2 || d > tc.seconds+0.2 {
				t.Fatalf("fragments last %.3f s, want %.1f", d, tc.seconds)
			}
			// a producer-timestamp range and paging
			var part fragList
			e.postJSON("/listFragments", map[string]any{"StreamName": tc.name, "MaxResults": 2, "FragmentSelector": map[string]any{
				"FragmentSelectorType": "PRODUCER_TIMESTAMP",
				"TimestampRange":       map[string]any{"StartTimestamp": fl.Fragments[1].ProducerTimestamp, "EndTimestamp": fl.Fragments[3].ProducerTimestamp}}}, &part)
			if len(part.Fragments) != 2 || part.Fragments[0].FragmentNumber != nums[1] || part.NextToken == "" {
				t.Fatalf("range page 1: %+v", part)
			}
			var part2 fragList
			e.postJSON("/listFragments", map[string]any{"StreamName": tc.name, "MaxResults": 2, "NextToken": part.NextToken, "FragmentSelector": map[string]any{
				"FragmentSelectorType": "PRODUCER_TIMESTAMP",
				"TimestampRange":       map[string]any{"StartTimestamp": fl.Fragments[1].ProducerTimestamp, "EndTimestamp": fl.Fragments[3].ProducerTimestamp}}}, &part2)
			if len(part2.Fragments) != 1 || part2.Fragments[0].FragmentNumber != nums[3] || part2.NextToken != "" {
				t.Fatalf("range page 2: %+v", part2)
			}

			// GetMediaForFragmentList: ffprobe reads it, with the right duration
			resp := e.post("/getMediaForFragmentList", map[string]any{"StreamName": tc.name, "Fragments": nums})
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GetMediaForFragmentList %d %s", resp.StatusCode, body)
			}
			checkTags(t, body, nums, false)
			out := filepath.Join(os.TempDir(), "list-"+tc.name+".mkv")
			os.WriteFile(out, body, 0o644)
			if d := ffprobeDuration(t, out); d < tc.seconds-0.2 || d > tc.seconds+0.2 {
				t.Fatalf("ffprobe duration of GetMediaForFragmentList %.3f, want %.1f", d, tc.seconds)
			}

			// GetMedia from EARLIEST ends after the idle window
			resp = e.post("/getMedia", map[string]any{"StreamName": tc.name, "StartSelector": map[string]any{"StartSelectorType": "EARLIEST"}})
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/h264" {
				t.Fatalf("GetMedia %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			checkTags(t, body, nums, true)
			out = filepath.Join(t.TempDir(), "media.mkv")
			os.WriteFile(out, body, 0o644)
			if d := ffprobeDuration(t, out); d < tc.seconds-0.2 || d > tc.seconds+0.2 {
				t.Fatalf("ffprobe duration of GetMedia %.3f, want %.1f", d, tc.seconds)
			}
			// FRAGMENT_NUMBER and CONTINUATION_TOKEN start where they say
			resp = e.post("/getMedia", map[string]any{"StreamName": tc.name, "StartSelector": map[string]any{"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": nums[2]}})
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			checkTags(t, body, nums[2:], true)
			resp = e.post("/getMedia", map[string]any{"StreamName": tc.name, "StartSelector": map[string]any{"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": nums[2]}})
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			checkTags(t, body, nums[3:], true)
			resp = e.post("/getMedia", map[string]any{"StreamName": tc.name, "StartSelector": map[string]any{"StartSelectorType": "PRODUCER_TIMESTAMP", "StartTimestamp": fl.Fragments[2].ProducerTimestamp - 0.001}})
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			checkTags(t, body, nums[1:], true)
		})
	}
}

// checkTags finds the AWS tags in GetMedia output: one fragment-number tag
// per fragment, in order, and continuation tokens when cont is set.
func checkTags(t *testing.T, body []byte, nums []string, cont bool) {
	t.Helper()
	got := tagValues(body, "AWS_KINESISVIDEO_FRAGMENT_NUMBER")
	if strings.Join(got, ",") != strings.Join(nums, ",") {
		t.Fatalf("fragment numbers in output %v, want %v", got, nums)
	}
	if len(tagValues(body, "AWS_KINESISVIDEO_SERVER_TIMESTAMP")) != len(nums) || len(tagValues(body, "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP")) != len(nums) {
		t.Fatal("timestamp tags missing")
	}
	ct := tagValues(body, "AWS_KINESISVIDEO_CONTINUATION_TOKEN")
	if cont && strings.Join(ct, ",") != strings.Join(nums, ",") || !cont && len(ct) != 0 {
		t.Fatalf("continuation tokens %v", ct)
	}
}

// tagValues scans for SimpleTag name/value pairs with the given name.
func tagValues(b []byte, name string) []string {
	var out []string
	needle := append(mkv.AppendString(nil, mkv.IDTagName, name), byte(mkv.IDTagString>>8), byte(mkv.IDTagString&0xff))
	for {
		i := bytes.Index(b, needle)
		if i < 0 {
			return out
		}
		b = b[i+len(needle):]
		n := int(b[0] & 0x7f) // 1-byte size: our values are short
		out = append(out, string(b[1:1+n]))
		b = b[1+n:]
	}
}

func TestGetClip(t *testing.T) {
	ffm, gst := testMedia(t)
	e := start(t, "")
	for name, file := range map[string]string{"ffmpeg": ffm, "gst": gst} {
		e.createStream("clip-"+name, 1)
		f, _ := os.Open(file)
		checkAcks(t, e.putMedia("clip-"+name, f, time.UnixMilli(1_700_000_000_000)))
		f.Close()
		resp := e.post("/getClip", map[string]any{"StreamName": "clip-" + name, "ClipFragmentSelector": map[string]any{
			"FragmentSelectorType": "PRODUCER_TIMESTAMP",
			"TimestampRange":       map[string]any{"StartTimestamp": 1_700_000_000.9, "EndTimestamp": 1_700_000_003.5}}})
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp4" {
			t.Fatalf("%s: GetClip %d %s", name, resp.StatusCode, body)
		}
		out := filepath.Join(t.TempDir(), "clip.mp4")
		os.WriteFile(out, body, 0o644)
		// fragments starting at 1, 2 and 3 s: three seconds of video
		if d := ffprobeDuration(t, out); d < 2.8 || d > 3.2 {
			t.Fatalf("%s: clip lasts %.3f s", name, d)
		}
		// ffmpeg decodes every frame without error
		cmd := exec.Command("ffmpeg", "-v", "error", "-i", out, "-f", "null", "-")
		if b, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(b)) > 0 {
			t.Fatalf("%s: ffmpeg decode: %v %s", name, err, b)
		}
	}
	e.createStream("noretention", 0)
	resp := e.post("/getClip", map[string]any{"StreamName": "noretention", "ClipFragmentSelector": map[string]any{
		"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": map[string]any{"StartTimestamp": 1.0, "EndTimestamp": 2.0}}})
	resp.Body.Close()
	if resp.Header.Get("x-amzn-ErrorType") != "NoDataRetentionException" {
		t.Fatalf("no retention: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}
