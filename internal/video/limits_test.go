package video_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/video"
)

// fakeClock is a clock that moves only when Sleep is called; it records
// the waits.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// rawPutMedia sends a PutMedia request with the given stream headers and
// body and returns the response.
func (e *env) rawPutMedia(name, arn string, body io.Reader) *http.Response {
	e.t.Helper()
	r, _ := http.NewRequest("POST", e.url+"/putMedia", io.NopCloser(body))
	r.ContentLength = -1
	if name != "" {
		r.Header.Set("x-amzn-stream-name", name)
	}
	if arn != "" {
		r.Header.Set("x-amzn-stream-arn", arn)
	}
	r.Header.Set("x-amzn-fragment-timecode-type", "RELATIVE")
	r.Header.Set("x-amzn-producer-start-timestamp", "1700000000.000")
	sign(e.t, r, emptyHash)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func errType(resp *http.Response) (int, string) {
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType")
}

// TestPutMediaStreamHeadersAndConnections: both stream headers are
// refused; a second concurrent PutMedia on a stream is
// ConnectionLimitExceededException while the first keeps ingesting, and a
// new session is taken once the first ends.
func TestPutMediaStreamHeadersAndConnections(t *testing.T) {
	ffm, _ := testMedia(t)
	file, _ := os.ReadFile(ffm)
	parts := splitClusters(file)
	e := start(t, "")
	arn := e.createStream("one", 1)
	if code, typ := errType(e.rawPutMedia("one", arn, strings.NewReader(""))); code != 400 || typ != "InvalidArgumentException" {
		t.Fatalf("both headers: %d %s", code, typ)
	}
	pr, pw := io.Pipe()
	acks := e.putMediaLive("one", pr, time.UnixMilli(1_700_000_000_000))
	go pw.Write(parts[0])
	if a := <-acks; a.EventType != "BUFFERING" {
		t.Fatalf("first ack %+v", a)
	}
	if code, typ := errType(e.rawPutMedia("one", "", strings.NewReader(""))); code != 400 || typ != "ConnectionLimitExceededException" {
		t.Fatalf("second connection: %d %s", code, typ)
	}
	// the first session goes on and persists everything
	go func() {
		for _, p := range parts[1:] {
			pw.Write(p)
		}
		pw.Close()
	}()
	persisted := 0
	for a := range acks {
		if a.EventType == "PERSISTED" {
			persisted++
		}
		if a.EventType == "ERROR" {
			t.Fatalf("error ack %+v", a)
		}
	}
	if persisted != len(parts) {
		t.Fatalf("%d of %d fragments persisted", persisted, len(parts))
	}
	// now a new session is taken (by ARN alone)
	resp := e.rawPutMedia("", arn, strings.NewReader(""))
	if code, typ := errType(resp); code != 200 {
		t.Fatalf("after the first ended: %d %s", code, typ)
	}
}

// TestPutMediaRates: a sixth PutMedia call within a second is
// ClientLimitExceededException; fragments sent faster than 5 a second are
// slowed (the sixth waits until a second has passed since the first), all
// persisted. The clock moves only when the service waits.
func TestPutMediaRates(t *testing.T) {
	ffm, _ := testMedia(t)
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	e := start(t, "", func(o *video.Options) { o.Now = clk.Now; o.Sleep = clk.Sleep })
	e.createStream("rate", 1)
	for i := 0; i < 5; i++ {
		if code, typ := errType(e.rawPutMedia("rate", "", strings.NewReader(""))); code != 200 {
			t.Fatalf("call %d: %d %s", i+1, code, typ)
		}
	}
	if code, typ := errType(e.rawPutMedia("rate", "", strings.NewReader(""))); code != 400 || typ != "ClientLimitExceededException" {
		t.Fatalf("sixth call in a second: %d %s", code, typ)
	}
	clk.Advance(time.Second)
	f, _ := os.Open(ffm)
	acks := checkAcks(t, e.putMedia("rate", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	if len(acks) != 7 {
		t.Fatalf("%d fragments persisted, want 7", len(acks))
	}
	clk.mu.Lock()
	slept := append([]time.Duration(nil), clk.slept...)
	clk.mu.Unlock()
	// fragments 1-5 at t, 6 and 7 after one second (the file is far below
	// 12.5 MB, so the byte rate never waits)
	if len(slept) != 1 || slept[0] != time.Second {
		t.Fatalf("waits %v, want one of 1s", slept)
	}
}

// TestGetMediaOutputRate: GetMedia sends at most 5 fragments in any
// second on a connection (AWS's quota), with the injected clock: a reader
// from EARLIEST over a 7-fragment backlog gets all seven, the sixth after
// one second's wait. The byte rate (25 MB/s) is TestRateWriter's.
func TestGetMediaOutputRate(t *testing.T) {
	ffm, _ := testMedia(t)
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	e := start(t, "", func(o *video.Options) { o.Now = clk.Now; o.Sleep = clk.Sleep; o.GetMediaIdle = 200 * time.Millisecond })
	e.createStream("out", 1)
	f, _ := os.Open(ffm)
	nums := checkAcks(t, e.putMedia("out", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	if len(nums) != 7 {
		t.Fatalf("%d fragments persisted, want 7", len(nums))
	}
	clk.Advance(time.Minute)
	clk.mu.Lock()
	clk.slept = nil // PutMedia's own fragment rate waited too
	clk.mu.Unlock()
	resp := e.post("/getMedia", map[string]any{"StreamName": "out", "StartSelector": map[string]any{"StartSelectorType": "EARLIEST"}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := tagValues(body, "AWS_KINESISVIDEO_FRAGMENT_NUMBER"); len(got) != 7 || got[6] != nums[6] {
		t.Fatalf("GetMedia sent fragments %v, want %v", got, nums)
	}
	clk.mu.Lock()
	slept := append([]time.Duration(nil), clk.slept...)
	clk.mu.Unlock()
	// fragments 1-5 at once, 6 and 7 after one second (far below 25 MB)
	if len(slept) != 1 || slept[0] != time.Second {
		t.Fatalf("waits %v, want one of 1s", slept)
	}
}

// TestGetMediaFragmentGoneWhileSending: the 4000 path, deterministically.
// A GetMedia from EARLIEST sends five fragments and waits for the sixth
// (5 fragments a second); during that wait (the injected Sleep) the clock
// passes the stream's retention and a sweep removes every fragment, so the
// sixth, listed before, is gone when its turn comes: the response ends
// with AWS_KINESISVIDEO_ERROR_ID 4000 after the five.
func TestGetMediaFragmentGoneWhileSending(t *testing.T) {
	ffm, _ := testMedia(t)
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	var mu sync.Mutex
	var onSleep func()
	sleep := func(ctx context.Context, d time.Duration) error {
		clk.Sleep(ctx, d)
		mu.Lock()
		f := onSleep
		onSleep = nil
		mu.Unlock()
		if f != nil {
			f()
		}
		return nil
	}
	e := start(t, "", func(o *video.Options) { o.Now = clk.Now; o.Sleep = sleep; o.GetMediaIdle = 2 * time.Second })
	e.createStream("expiring", 1)
	f, _ := os.Open(ffm)
	nums := checkAcks(t, e.putMedia("expiring", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	if len(nums) != 7 {
		t.Fatalf("%d fragments persisted, want 7", len(nums))
	}
	clk.Advance(time.Minute)
	mu.Lock()
	onSleep = func() {
		clk.Advance(2 * time.Hour) // past the 1-hour retention
		e.svc.Sweep()
	}
	mu.Unlock()
	resp := e.post("/getMedia", map[string]any{"StreamName": "expiring", "StartSelector": map[string]any{"StartSelectorType": "EARLIEST"}})
	body, _ := io.ReadAll(resp.Body) // ends with the error tags, not the idle timeout
	resp.Body.Close()
	if got := tagValues(body, "AWS_KINESISVIDEO_FRAGMENT_NUMBER"); len(got) != 5 || got[4] != nums[4] {
		t.Fatalf("sent fragments %v, want the first five of %v", got, nums)
	}
	if id := tagValues(body, "AWS_KINESISVIDEO_ERROR_ID"); len(id) != 1 || id[0] != "4000" || len(tagValues(body, "AWS_KINESISVIDEO_ERROR_CODE")) != 1 {
		t.Fatalf("error tags %v", id)
	}
	var fl fragList
	e.postJSON("/listFragments", map[string]any{"StreamName": "expiring"}, &fl)
	if len(fl.Fragments) != 0 {
		t.Fatalf("%d fragments listed after the sweep", len(fl.Fragments))
	}
}

// TestPlaybackSessionRates: AWS's per-session request rates of the HLS
// resources (5/s for playlists, 20/s for media fragments), with the
// injected clock: within the rate nothing waits; the request over it waits
// until the second has room (one 1 s wait), and is then served; another
// session has its own budget.
func TestPlaybackSessionRates(t *testing.T) {
	ffm, _ := testMedia(t)
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	e := start(t, "", func(o *video.Options) { o.Now = clk.Now; o.Sleep = clk.Sleep })
	e.createStream("play", 1)
	f, _ := os.Open(ffm)
	nums := checkAcks(t, e.putMedia("play", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	session := func() string {
		var out struct{ HLSStreamingSessionURL string }
		e.postJSON("/getHLSStreamingSessionURL", map[string]any{"StreamName": "play", "PlaybackMode": "ON_DEMAND",
			"HLSFragmentSelector": map[string]any{"FragmentSelectorType": "PRODUCER_TIMESTAMP",
				"TimestampRange": map[string]any{"StartTimestamp": 1_699_999_999.0, "EndTimestamp": 1_700_000_100.0}}}, &out)
		return out.HLSStreamingSessionURL
	}
	waits := func() []time.Duration {
		clk.mu.Lock()
		defer clk.mu.Unlock()
		w := clk.slept
		clk.slept = nil
		return w
	}
	get := func(url string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", url, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
		}
	}
	a := session()
	clk.Advance(time.Minute)
	waits() // PutMedia's
	playlist := strings.Replace(a, "getHLSMasterPlaylist", "getHLSMediaPlaylist", 1)
	for i := 0; i < 5; i++ {
		get(playlist)
	}
	if w := waits(); len(w) != 0 {
		t.Fatalf("5 playlist requests in a second waited %v", w)
	}
	get(playlist)
	if w := waits(); len(w) != 1 || w[0] != time.Second {
		t.Fatalf("the sixth playlist request waited %v, want 1s", w)
	}
	frag := strings.Replace(a, "getHLSMasterPlaylist.m3u8?", "getMP4MediaFragment.mp4?FragmentNumber="+nums[0]+"&", 1)
	for i := 0; i < 20; i++ {
		get(frag)
	}
	if w := waits(); len(w) != 0 {
		t.Fatalf("20 fragment requests in a second waited %v", w)
	}
	get(frag)
	if w := waits(); len(w) != 1 || w[0] != time.Second {
		t.Fatalf("the 21st fragment request waited %v, want 1s", w)
	}
	// another session: its own budget
	b := strings.Replace(session(), "getHLSMasterPlaylist", "getHLSMediaPlaylist", 1)
	for i := 0; i < 5; i++ {
		get(b)
	}
	if w := waits(); len(w) != 0 {
		t.Fatalf("a new session's playlist requests waited %v", w)
	}
}

// TestGetMediaLimitsAndErrorTags: a fourth concurrent GetMedia is
// ConnectionLimitExceededException; a fragment that cannot be read ends
// the response with AWS_KINESISVIDEO_ERROR_CODE / _ERROR_ID tags.
func TestGetMediaLimitsAndErrorTags(t *testing.T) {
	ffm, _ := testMedia(t)
	e := start(t, "", func(o *video.Options) { o.GetMediaIdle = time.Hour })
	arn := e.createStream("gm", 1)
	f, _ := os.Open(ffm)
	checkAcks(t, e.putMedia("gm", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	if code, typ := errType(e.post("/getMedia", map[string]any{"StreamName": "gm", "StreamARN": arn,
		"StartSelector": map[string]any{"StartSelectorType": "NOW"}})); code != 400 || typ != "InvalidArgumentException" {
		t.Fatalf("name and ARN: %d %s", code, typ)
	}
	var open []*http.Response
	for i := 0; i < 3; i++ {
		resp := e.post("/getMedia", map[string]any{"StreamName": "gm", "StartSelector": map[string]any{"StartSelectorType": "NOW"}})
		if resp.StatusCode != 200 {
			t.Fatalf("GetMedia %d: %d", i+1, resp.StatusCode)
		}
		open = append(open, resp)
	}
	if code, typ := errType(e.post("/getMedia", map[string]any{"StreamName": "gm", "StartSelector": map[string]any{"StartSelectorType": "NOW"}})); code != 400 || typ != "ConnectionLimitExceededException" {
		t.Fatalf("fourth connection: %d %s", code, typ)
	}
	for _, r := range open {
		r.Body.Close()
	}
	// in another service: the fragments' segment files vanish (a disk
	// fault); GetMedia answers 200, then the error tags end it
	e2 := start(t, "")
	e2.createStream("gone", 1)
	f, _ = os.Open(ffm)
	nums := checkAcks(t, e2.putMedia("gone", f, time.UnixMilli(1_700_000_000_000)))
	f.Close()
	segs, _ := filepath.Glob(filepath.Join(e2.dir, "streams", "*", "*.seg"))
	if len(segs) == 0 {
		t.Fatal("no segment files")
	}
	for _, s := range segs {
		os.Remove(s)
	}
	resp := e2.post("/getMedia", map[string]any{"StreamName": "gone", "StartSelector": map[string]any{"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": nums[0]}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GetMedia: %d", resp.StatusCode)
	}
	if id := tagValues(body, "AWS_KINESISVIDEO_ERROR_ID"); len(id) != 1 || id[0] != "5000" || len(tagValues(body, "AWS_KINESISVIDEO_ERROR_CODE")) != 1 {
		t.Fatalf("error tags %v in %q", id, body)
	}
}

// TestPutMediaConnectionDuration: a fragment that begins 45 minutes after
// the session began gets ERROR 4003 and ends the session; the fragments
// before it stay persisted.
func TestPutMediaConnectionDuration(t *testing.T) {
	ffm, _ := testMedia(t)
	file, _ := os.ReadFile(ffm)
	parts := splitClusters(file)
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	e := start(t, "", func(o *video.Options) { o.Now = clk.Now; o.Sleep = clk.Sleep })
	e.createStream("long", 1)
	pr, pw := io.Pipe()
	acks := e.putMediaLive("long", pr, time.UnixMilli(1_700_000_000_000))
	// three fragments (ffmpeg's clusters are sized: each completes with its
	// last byte), then 45 minutes pass
	go pw.Write(bytes.Join(parts[:3], nil))
	persisted := 0
	for persisted < 3 {
		a := <-acks
		if a.EventType == "PERSISTED" {
			persisted++
		}
		if a.EventType == "ERROR" {
			t.Fatalf("early error %+v", a)
		}
	}
	clk.Advance(45 * time.Minute)
	go func() {
		pw.Write(bytes.Join(parts[3:], nil))
		pw.Close()
	}()
	var last ackEvent
	n := 0
	for a := range acks {
		last = a
		if a.EventType == "PERSISTED" {
			n++
		}
	}
	// the fourth fragment began after 45 minutes
	if n != 0 || last.EventType != "ERROR" || last.ErrorId != 4003 || last.ErrorCode != "MAX_CONNECTION_DURATION_REACHED" {
		t.Fatalf("after 45 minutes: %d more persisted, last ack %+v", n, last)
	}
	var fl fragList
	e.postJSON("/listFragments", map[string]any{"StreamName": "long"}, &fl)
	if len(fl.Fragments) != 3 {
		t.Fatalf("%d fragments listed, want 3", len(fl.Fragments))
	}
}
