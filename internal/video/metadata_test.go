package video_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

// producerTag is one fragment metadata item the way the producer SDK
// packages it (putKinesisVideoFragmentMetadata): a Tags element holding
// one Tag with one SimpleTag {TagName, TagString}.
func producerTag(name, value string) []byte {
	st := mkv.AppendString(nil, mkv.IDTagName, name)
	st = mkv.AppendString(st, mkv.IDTagString, value)
	tag := mkv.AppendElement(nil, mkv.IDTargets, nil)
	tag = mkv.AppendElement(tag, mkv.IDSimpleTag, st)
	return mkv.AppendElement(nil, mkv.IDTags, mkv.AppendElement(nil, mkv.IDTag, tag))
}

// fragmentTags parses Matroska output (GetMedia, GetMediaForFragmentList)
// with the repo's splitter and returns, per cluster, its fragment number
// and the producer's tags (the AWS_KINESISVIDEO_* tags and ffmpeg's own
// file tags left out) as "name=value".
func fragmentTags(t *testing.T, body []byte) (nums []string, tags [][]string) {
	t.Helper()
	s := mkv.NewSplitter(bytes.NewReader(body), 50<<20)
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			return nums, tags
		}
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		num := ""
		var mine []string
		for _, tg := range c.Tags {
			switch {
			case tg.Name == "AWS_KINESISVIDEO_FRAGMENT_NUMBER":
				num = tg.Value
			case strings.HasPrefix(tg.Name, "AWS_KINESISVIDEO_"), tg.Name == "ENCODER", tg.Name == "DURATION":
			default:
				mine = append(mine, tg.Name+"="+tg.Value)
			}
		}
		nums = append(nums, num)
		tags = append(tags, mine)
	}
}

// TestFragmentMetadata: the producer's fragment metadata (MKV Tags before
// a cluster, as the producer SDK writes it: persistent items before every
// fragment, a non-persistent one before one fragment, late metadata and the
// end-of-fragment marker right after a fragment) is stored with each fragment and returned by
// GetMedia and GetMediaForFragmentList in a Tags element before that
// fragment's Cluster, after a restart too.
func TestFragmentMetadata(t *testing.T) {
	ffm, _ := testMedia(t)
	file, err := os.ReadFile(ffm)
	if err != nil {
		t.Fatal(err)
	}
	parts := splitClusters(file) // header + cluster 0, cluster 1, …
	hdr := header(t, parts[0])
	clusters := append([][]byte{parts[0][len(hdr):]}, parts[1:]...)
	for i, cl := range clusters {
		// unknown-size clusters, as the producer SDK sends them
		n := 1
		for m := byte(0x80); cl[4]&m == 0; m >>= 1 {
			n++
		}
		clusters[i] = append(mkv.AppendUnknownSize(append([]byte(nil), cl[:4]...)), cl[4+n:]...)
	}
	var body []byte
	body = append(body, hdr...)
	want := make([][]string, len(clusters))
	for i, cl := range clusters {
		// persistent: re-sent by the SDK before every fragment
		body = append(body, producerTag("GPS", "47.608013N")...)
		want[i] = append(want[i], "GPS=47.608013N")
		if i == 2 {
			body = append(body, producerTag("Motion", "true")...)
			want[i] = append(want[i], "Motion=true")
		}
		if i >= 4 {
			// a persistent item added from here on
			body = append(body, producerTag("Zone", "B")...)
			want[i] = append(want[i], "Zone=B")
		}
		body = append(body, cl...)
		if i == 3 {
			// explicit end of fragment: the metadata added after the
			// fragment started, then the marker, right after its cluster
			body = append(body, producerTag("Late", "1")...)
			want[i] = append(want[i], "Late=1")
			body = append(body, producerTag(mkv.EndOfFragmentTag, "")...)
		}
	}
	e := start(t, "")
	e.createStream("meta", 1)
	acks := e.putMedia("meta", bytes.NewReader(body), time.UnixMilli(1_700_000_000_000))
	nums := checkAcks(t, acks)
	if len(nums) != len(clusters) {
		t.Fatalf("%d fragments persisted, sent %d", len(nums), len(clusters))
	}

	check := func(what string, out []byte, idx []int) {
		t.Helper()
		gotNums, gotTags := fragmentTags(t, out)
		if len(gotNums) != len(idx) {
			t.Fatalf("%s: %d fragments, want %d", what, len(gotNums), len(idx))
		}
		for k, i := range idx {
			if gotNums[k] != nums[i] {
				t.Fatalf("%s: fragment %d is %s, want %s", what, k, gotNums[k], nums[i])
			}
			if strings.Join(gotTags[k], ",") != strings.Join(want[i], ",") {
				t.Fatalf("%s: fragment %d tags %q, want %q", what, i, gotTags[k], want[i])
			}
		}
		if bytes.Contains(out, []byte(mkv.EndOfFragmentTag)) {
			t.Fatalf("%s: the end-of-fragment marker was returned", what)
		}
	}

	resp := e.post("/getMedia", map[string]any{"StreamName": "meta", "StartSelector": map[string]any{"StartSelectorType": "EARLIEST"}})
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	all := make([]int, len(nums))
	for i := range all {
		all[i] = i
	}
	check("GetMedia", out, all)
	media := filepath.Join(t.TempDir(), "media.mkv")
	os.WriteFile(media, out, 0o644)

	resp = e.post("/getMediaForFragmentList", map[string]any{"StreamName": "meta", "Fragments": []string{nums[4], nums[2], nums[0]}})
	out, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GetMediaForFragmentList %d %s", resp.StatusCode, out)
	}
	check("GetMediaForFragmentList", out, []int{4, 2, 0})
	list := filepath.Join(t.TempDir(), "list.mkv")
	os.WriteFile(list, out, 0o644)

	// the metadata is durable: a restarted service returns it too
	e.svc.Close()
	e = start(t, e.dir)
	resp = e.post("/getMediaForFragmentList", map[string]any{"StreamName": "meta", "Fragments": []string{nums[3], nums[2]}})
	out, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GetMediaForFragmentList after restart %d %s", resp.StatusCode, out)
	}
	check("GetMediaForFragmentList after restart", out, []int{3, 2})

	// ffprobe reads the output without errors, and shows the first
	// fragment's metadata among the format tags
	for _, f := range []string{media, list} {
		cmd := exec.Command("ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "default=noprint_wrappers=1", f)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		o, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("ffprobe %s: %v %s", f, err, stderr.String())
		}
		if !strings.Contains(string(o), "TAG:GPS=47.608013N") {
			t.Fatalf("ffprobe %s format tags:\n%s", f, o)
		}
	}
}
