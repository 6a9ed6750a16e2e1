package video_test

import (
	"context"
	"os"
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
