package video_test

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/video/mkv"
)

// header returns the bytes of f before its first Cluster.
func header(t *testing.T, f []byte) []byte {
	i := bytes.Index(f, []byte{0x1F, 0x43, 0xB6, 0x75})
	if i < 0 {
		t.Fatal("no cluster")
	}
	return f[:i]
}

func simpleBlock(track byte, rel int16, key bool, data []byte) []byte {
	p := []byte{0x80 | track, byte(uint16(rel) >> 8), byte(rel)}
	if key {
		p = append(p, 0x80)
	} else {
		p = append(p, 0)
	}
	return mkv.AppendElement(nil, mkv.IDSimpleBlock, append(p, data...))
}

func cluster(tc uint64, blocks ...[]byte) []byte {
	p := mkv.AppendUint(nil, mkv.IDTimecode, tc)
	for _, b := range blocks {
		p = append(p, b...)
	}
	return mkv.AppendElement(nil, mkv.IDCluster, p)
}

func acksOf(acks []ackEvent, typ string) []ackEvent {
	var out []ackEvent
	for _, a := range acks {
		if a.EventType == typ {
			out = append(out, a)
		}
	}
	return out
}

func TestPutMediaBadInput(t *testing.T) {
	ffm, _ := testMedia(t)
	file, err := os.ReadFile(ffm)
	if err != nil {
		t.Fatal(err)
	}
	hdr := header(t, file)
	e := start(t, "")
	t0 := time.UnixMilli(1_700_000_000_000)
	frame := bytes.Repeat([]byte{0, 0, 0, 1, 0x65}, 4)

	t.Run("truncated", func(t *testing.T) {
		e.createStream("trunc", 1)
		// cut inside the fourth cluster
		idx, off := 0, 0
		for k := 0; k < 4; k++ {
			i := bytes.Index(file[off:], []byte{0x1F, 0x43, 0xB6, 0x75})
			idx = off + i
			off = idx + 4
		}
		acks := e.putMedia("trunc", bytes.NewReader(file[:idx+2000]), t0)
		if p := acksOf(acks, "PERSISTED"); len(p) != 3 {
			t.Fatalf("persisted %d: %+v", len(p), acks)
		}
		last := acks[len(acks)-1]
		if last.EventType != "ERROR" || last.ErrorId != 4006 {
			t.Fatalf("last ack %+v", last)
		}
		var fl fragList
		e.postJSON("/listFragments", map[string]any{"StreamName": "trunc"}, &fl)
		if len(fl.Fragments) != 3 {
			t.Fatalf("kept %d fragments", len(fl.Fragments))
		}
		// the producer reconnects and re-sends from the start, as the
		// producer SDKs do: a new session takes every fragment again (the
		// stream holds both copies of the first three, as AWS's does)
		acks = e.putMedia("trunc", bytes.NewReader(file), t0)
		if len(acksOf(acks, "ERROR")) != 0 || len(acksOf(acks, "PERSISTED")) != 7 {
			t.Fatalf("re-send acks: %+v", acks)
		}
		e.postJSON("/listFragments", map[string]any{"StreamName": "trunc"}, &fl)
		if len(fl.Fragments) != 10 {
			t.Fatalf("after re-send %d fragments", len(fl.Fragments))
		}
	})

	t.Run("fragment faults keep the connection", func(t *testing.T) {
		e.createStream("faults", 1)
		var body []byte
		body = append(body, hdr...)
		body = append(body, cluster(0, simpleBlock(1, 0, true, frame), simpleBlock(1, 40, false, frame))...)
		body = append(body, cluster(1000, simpleBlock(1, 0, false, frame))...)                                     // no keyframe
		body = append(body, cluster(2000, simpleBlock(1, 0, true, frame), simpleBlock(1, 11000, false, frame))...) // 11 s
		body = append(body, cluster(3000, simpleBlock(1, 0, true, frame))...)
		body = append(body, cluster(2500, simpleBlock(1, 0, true, frame))...) // backwards
		body = append(body, cluster(4000, simpleBlock(9, 0, true, frame))...) // unknown track: ends the stream
		body = append(body, cluster(5000, simpleBlock(1, 0, true, frame))...)
		acks := e.putMedia("faults", bytes.NewReader(body), t0)
		var got []int
		for _, a := range acks {
			switch a.EventType {
			case "PERSISTED":
				got = append(got, int(*a.FragmentTimecode))
			case "ERROR":
				got = append(got, -a.ErrorId)
			}
		}
		want := []int{0, -4006, -4002, 3000, -4004, -4010}
		if len(got) != len(want) {
			t.Fatalf("acks %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("acks %v, want %v", got, want)
			}
		}
	})

	t.Run("garbage", func(t *testing.T) {
		e.createStream("garbage", 1)
		acks := e.putMedia("garbage", bytes.NewReader(append(append([]byte(nil), hdr...), 0x00, 0x01, 0x02)), t0)
		if len(acks) != 1 || acks[0].EventType != "ERROR" || acks[0].ErrorId != 4006 {
			t.Fatalf("acks %+v", acks)
		}
	})

	t.Run("headers", func(t *testing.T) {
		r, _ := http.NewRequest("POST", e.url+"/putMedia", strings.NewReader(""))
		sign(t, r, emptyHash)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("x-amzn-ErrorType") != "InvalidArgumentException" {
			t.Fatalf("no stream: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
		}
	})
}
