package video_test

import (
	"bytes"
	"net/http"
	"os"
	"strconv"
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

// tags is a Tags element of n fragment metadata items, as a producer
// prepends them to a fragment.
func tags(n int) []byte {
	var tag []byte
	for i := 0; i < n; i++ {
		st := mkv.AppendString(nil, 0x45A3, "KEY_"+strconv.Itoa(i)) // TagName
		st = mkv.AppendString(st, 0x4487, "v")                      // TagString
		tag = mkv.AppendElement(tag, mkv.IDSimpleTag, st)
	}
	return mkv.AppendElement(nil, mkv.IDTags, mkv.AppendElement(nil, mkv.IDTag, tag))
}

// numbered asserts AWS's numbering: every ack of a fragment carries the
// number its BUFFERING ack gave, and numbers only grow, over errors,
// reconnects and restarts (after is the last number seen before); it
// returns the last number.
func numbered(t *testing.T, acks []ackEvent, after string) string {
	t.Helper()
	cur := ""
	for _, a := range acks {
		if a.EventType == "IDLE" || a.FragmentTimecode == nil {
			continue
		}
		if a.EventType == "BUFFERING" {
			if len(a.FragmentNumber) != 47 || a.FragmentNumber <= after {
				t.Fatalf("BUFFERING number %q not after %q (acks %+v)", a.FragmentNumber, after, acks)
			}
			cur, after = a.FragmentNumber, a.FragmentNumber
			continue
		}
		if a.FragmentNumber != cur {
			t.Fatalf("%s ack (ErrorId %d) with number %q, its BUFFERING had %q", a.EventType, a.ErrorId, a.FragmentNumber, cur)
		}
	}
	return after
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
	outer := t
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
		body = append(body, tags(11)...)                                      // over AWS's 10 metadata tags
		body = append(body, cluster(3500, simpleBlock(1, 0, true, frame))...)
		body = append(body, tags(4)...) // 10 in two Tags elements: allowed
		body = append(body, tags(6)...)
		body = append(body, cluster(3600, simpleBlock(1, 0, true, frame))...)
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
		want := []int{0, -4006, -4002, 3000, -4004, -4009, 3600, -4010}
		if len(got) != len(want) {
			t.Fatalf("acks %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("acks %v, want %v", got, want)
			}
		}
		for _, a := range acksOf(acks, "ERROR") {
			if a.ErrorId == 4009 && a.ErrorCode != "FRAGMENT_METADATA_LIMIT_REACHED" {
				t.Fatalf("4009 ack %+v", a)
			}
		}
		last := numbered(t, acks, "")
		// a reconnect and a restart go on after every number shown,
		// refused fragments' included
		last = numbered(t, e.putMedia("faults", bytes.NewReader(append(append([]byte(nil), hdr...), cluster(9000, simpleBlock(1, 0, true, frame))...)), t0), last)
		e.svc.Close()
		e = start(outer, e.dir) // the later subtests use the restarted service
		acks = e.putMedia("faults", bytes.NewReader(append(append([]byte(nil), hdr...), cluster(9500, simpleBlock(1, 0, true, frame))...)), t0)
		if len(acksOf(acks, "PERSISTED")) != 1 {
			t.Fatalf("after restart: %+v", acks)
		}
		numbered(t, acks, last)
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
