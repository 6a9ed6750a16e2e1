package video_test

import (
	"context"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"

	"github.com/eddy-streams/eddy/internal/video"
)

// next returns the next non-IDLE ack (or IDLE when idle is set).
func next(t *testing.T, ch <-chan ackEvent, idle bool) ackEvent {
	t.Helper()
	for {
		select {
		case a, ok := <-ch:
			if !ok {
				t.Fatal("acks ended")
			}
			if a.EventType == "IDLE" && !idle {
				continue
			}
			return a
		case <-time.After(20 * time.Second):
			t.Fatal("no ack")
		}
	}
}

// TestPutMediaIdleAndDeletedStream: a producer that pauses gets IDLE
// acknowledgements and can go on; deleting the stream mid-session ends it
// with ErrorId 4008 after the fragments already persisted.
func TestPutMediaIdleAndDeletedStream(t *testing.T) {
	ffm, _ := testMedia(t)
	file, _ := os.ReadFile(ffm)
	parts := splitClusters(file)
	e := start(t, "", func(o *video.Options) { o.IdleAck = 20 * time.Millisecond })
	arn := e.createStream("pause", 1)
	g := &gatedReader{parts: parts, gate: make(chan struct{}, len(parts))}
	release := func() {
		for {
			select {
			case g.gate <- struct{}{}:
			default:
				return
			}
		}
	}
	t.Cleanup(release) // a failed test must not leave the body blocked
	acks := e.putMediaLive("pause", g, time.UnixMilli(1_700_000_000_000))
	expect := func(want ...string) {
		t.Helper()
		for _, w := range want {
			if a := next(t, acks, w == "IDLE"); a.EventType != w {
				t.Fatalf("%+v, want %s", a, w)
			}
		}
	}
	g.gate <- struct{}{} // header + cluster 0 (sized), then silence
	expect("BUFFERING", "RECEIVED", "PERSISTED", "IDLE")
	g.gate <- struct{}{} // cluster 1 after the pause
	expect("BUFFERING", "RECEIVED", "PERSISTED")
	if _, err := e.kv.DeleteStream(context.Background(), &kinesisvideo.DeleteStreamInput{StreamARN: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	g.gate <- struct{}{} // cluster 2: the stream is gone
	expect("BUFFERING", "RECEIVED")
	if a := next(t, acks, false); a.EventType != "ERROR" || a.ErrorId != 4008 {
		t.Fatalf("%+v, want ERROR 4008", a)
	}
	release()
}

// TestRetention: with an injected clock, fragments older than the stream's
// retention disappear from ListFragments and GetMedia after a sweep;
// younger ones stay.
func TestRetention(t *testing.T) {
	ffm, _ := testMedia(t)
	var mu sync.Mutex
	now := time.UnixMilli(1_800_000_000_000)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := start(t, "", func(o *video.Options) { o.Now = clock })
	e.createStream("keep1h", 1)
	f, _ := os.Open(ffm)
	old := checkAcks(t, e.putMedia("keep1h", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	mu.Lock()
	now = now.Add(50 * time.Minute)
	mu.Unlock()
	f, _ = os.Open(ffm)
	young := checkAcks(t, e.putMedia("keep1h", f, time.UnixMilli(1_700_001_000_000)))
	f.Close()
	mu.Lock()
	now = now.Add(20 * time.Minute) // the first batch is 70 min old, the second 20
	mu.Unlock()
	e.svc.Sweep()
	var fl fragList
	e.postJSON("/listFragments", map[string]any{"StreamName": "keep1h"}, &fl)
	if len(fl.Fragments) != len(young) || fl.Fragments[0].FragmentNumber != young[0] {
		t.Fatalf("after retention %d fragments (old %d, young %d)", len(fl.Fragments), len(old), len(young))
	}
	resp := e.post("/getMedia", map[string]any{"StreamName": "keep1h", "StartSelector": map[string]any{"StartSelectorType": "EARLIEST"}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkTags(t, body, young, true)
}
