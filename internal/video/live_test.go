package video_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/video"
)

// slowReader hands out the file one cluster at a time, releasing the next
// only when told (a live camera).
type gatedReader struct {
	parts [][]byte
	gate  chan struct{}
	cur   []byte
}

func (g *gatedReader) Read(p []byte) (int, error) {
	for len(g.cur) == 0 {
		if len(g.parts) == 0 {
			return 0, io.EOF
		}
		<-g.gate
		g.cur, g.parts = g.parts[0], g.parts[1:]
	}
	n := copy(p, g.cur)
	g.cur = g.cur[n:]
	return n, nil
}

// TestGetMediaLiveTail: a GetMedia NOW started before ingest receives each
// fragment as it is persisted, while PutMedia is still streaming.
func TestGetMediaLiveTail(t *testing.T) {
	ffm, _ := testMedia(t)
	file, _ := os.ReadFile(ffm)
	// the parts arrive faster than real time: PutMedia's 5 fragments a
	// second holds the sixth back up to a second, longer than the tests'
	// usual idle end of GetMedia
	e := start(t, "", func(o *video.Options) { o.GetMediaIdle = 5 * time.Second })
	e.createStream("live", 1)
	// parts: header+cluster0, cluster1, … (split at cluster IDs)
	var parts [][]byte
	rest := file
	first := true
	for {
		i := bytes.Index(rest[4:], []byte{0x1F, 0x43, 0xB6, 0x75})
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		if first {
			j := bytes.Index(rest, []byte{0x1F, 0x43, 0xB6, 0x75})
			i = bytes.Index(rest[j+4:], []byte{0x1F, 0x43, 0xB6, 0x75}) + j
			first = false
		}
		parts = append(parts, rest[:i+4])
		rest = rest[i+4:]
	}
	g := &gatedReader{parts: parts, gate: make(chan struct{}, len(parts))}

	resp := e.post("/getMedia", map[string]any{"StreamName": "live", "StartSelector": map[string]any{"StartSelectorType": "NOW"}})
	defer resp.Body.Close()
	got := make(chan string, 64)
	go func() {
		br := bufio.NewReaderSize(resp.Body, 1<<20)
		var buf []byte
		tmp := make([]byte, 64<<10)
		seen := 0
		for {
			n, err := br.Read(tmp)
			buf = append(buf, tmp[:n]...)
			v := tagValues(buf, "AWS_KINESISVIDEO_CONTINUATION_TOKEN")
			for ; seen < len(v); seen++ {
				got <- v[seen]
			}
			if err != nil {
				close(got)
				return
			}
		}
	}()
	acksc := make(chan []ackEvent, 1)
	go func() { acksc <- e.putMedia("live", g, time.UnixMilli(1_700_000_000_000)) }()
	// release part k; the fragment before it completes and must reach the
	// reader before the next part is released
	g.gate <- struct{}{}
	for k := 1; k < len(parts); k++ {
		g.gate <- struct{}{}
		select {
		case n := <-got:
			if len(n) != 47 {
				t.Fatalf("token %q", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("fragment %d not delivered live", k)
		}
	}
	acks := <-acksc
	if n := len(acksOf(acks, "PERSISTED")); n != len(parts) {
		t.Fatalf("persisted %d of %d", n, len(parts))
	}
}

// TestRestartKeepsPersisted: fragments acknowledged PERSISTED are read back
// by a new service over the same directory.
func TestRestartKeepsPersisted(t *testing.T) {
	ffm, _ := testMedia(t)
	dir := t.TempDir()
	e := start(t, dir)
	e.createStream("durable", 1)
	f, _ := os.Open(ffm)
	defer f.Close()
	nums := checkAcks(t, e.putMedia("durable", f, time.UnixMilli(1_700_000_000_000)))
	e.svc.Close()
	e2 := start(t, dir)
	resp := e2.post("/getMediaForFragmentList", map[string]any{"StreamName": "durable", "Fragments": nums})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	checkTags(t, body, nums, false)
	// the sequence continues after the restart
	f2, _ := os.Open(ffm)
	defer f2.Close()
	more := checkAcks(t, e2.putMedia("durable", f2, time.UnixMilli(1_700_000_100_000)))
	if more[0] <= nums[len(nums)-1] {
		t.Fatalf("fragment numbers restarted: %s after %s", more[0], nums[len(nums)-1])
	}
}
