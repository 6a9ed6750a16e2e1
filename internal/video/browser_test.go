package video_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPlayerPageInChromium: headless Chromium loads the player page while
// a producer streams live; the page reports playback (over fMP4 and over
// MPEG-TS segments), the screenshot shows
// the test pattern (not a black or empty frame) and the console logs no
// error.
func TestPlayerPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test runs in the full suite")
	}
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run scripts/setup.d/60-video.sh")
	}
	ffm, _ := testMedia(t)
	file, _ := os.ReadFile(ffm)
	e := start(t, "")
	e.createStream("browser", 1)
	// a live producer: the 6 s pattern again and again, in real time,
	// each session's start timestamp after the previous one's end
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		for i := 0; ctx.Err() == nil && i < 10; i++ {
			e.putMediaPaced(ctx, "browser", file, start.Add(time.Duration(i)*6*time.Second), 6*time.Second)
		}
	}()
	// wait for the first fragment
	deadline := time.Now().Add(20 * time.Second)
	for {
		var fl fragList
		e.postJSON("/listFragments", map[string]any{"StreamName": "browser"}, &fl)
		if len(fl.Fragments) >= 4 { // enough behind the live edge for hls.js to start at once
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no fragments ingested")
		}
		time.Sleep(100 * time.Millisecond)
	}
	dir := t.TempDir()
	shot := filepath.Join(dir, "shot.png")
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=800,600", "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=15000"}
	url := e.url + "/video/play?stream=browser"
	// the page is loaded up to twice: on a loaded machine the producer's
	// real-time fragments can lag Chromium's virtual clock on a first load
	var dom []byte
	var stderr bytes.Buffer
	playing := regexp.MustCompile(`id="status">playing [0-9.]+`)
	for attempt := 0; attempt < 2; attempt++ {
		stderr.Reset()
		cmd := exec.Command(chrome, append(args, "--dump-dom", url)...)
		cmd.Stderr = &stderr
		if dom, err = cmd.Output(); err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.String())
		}
		if playing.Match(dom) {
			break
		}
	}
	if !playing.Match(dom) {
		t.Fatalf("page did not play:\n%s\n%s", dom, stderr.String())
	}
	consoleOK := func(stderr string) {
		t.Helper()
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "CONSOLE") && (strings.Contains(strings.ToLower(l), "error") || strings.Contains(l, "Uncaught")) {
				t.Fatalf("console error: %s", l)
			}
		}
	}
	consoleOK(stderr.String())
	// the same stream over MPEG-TS segments: hls.js demuxes the transport
	// stream (its own TS demuxer) and plays it
	for attempt := 0; attempt < 2; attempt++ {
		stderr.Reset()
		cmd := exec.Command(chrome, append(args, "--dump-dom", url+"&container=MPEG_TS")...)
		cmd.Stderr = &stderr
		if dom, err = cmd.Output(); err != nil {
			t.Fatalf("chromium: %v\n%s", err, stderr.String())
		}
		if playing.Match(dom) {
			break
		}
	}
	if !playing.Match(dom) {
		t.Fatalf("page did not play MPEG-TS:\n%s\n%s", dom, stderr.String())
	}
	consoleOK(stderr.String())
	cmd := exec.Command(chrome, append(args, "--screenshot="+shot, url)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, b)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// the video element (640 px wide, below the heading): count distinct
	// colours; the test pattern has many, a black box has one
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < min(b.Max.X, 680); x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
		}
	}
	if len(colours) < 20 {
		t.Fatalf("screenshot shows %d colours: no video frame", len(colours))
	}
	if os.Getenv("EDDY_KEEP_SCREENSHOT") != "" {
		os.WriteFile(os.Getenv("EDDY_KEEP_SCREENSHOT"), mustRead(shot), 0o644)
	}
	cancel()
	<-done
}

func mustRead(p string) []byte { b, _ := os.ReadFile(p); return b }
