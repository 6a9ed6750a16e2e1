package video

// The player page: GET /video/ lists the streams of the default account
// and region; GET /video/play?stream=NAME plays one in the browser with
// hls.js over a LIVE (or, with &start=<epoch seconds>, LIVE_REPLAY) HLS
// session that the page's server side opens; &container=MPEG_TS asks for
// transport-stream segments instead of fragmented MP4. hls.js is served from an
// npm-installed copy (scripts/setup.d/60-video.sh runs `npm install -g
// hls.js`): $EDDY_HLSJS, else <npm root -g>/hls.js/dist/hls.min.js, else
// ./node_modules/hls.js/dist/hls.min.js; without one the page says so.
// The page creates sessions without a signature: it is meant for local
// development (docs/video.md).

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/internal/awsproto"
)

func hlsJSPath() string {
	for _, p := range []string{os.Getenv("EDDY_HLSJS"), "/usr/lib/node_modules/hls.js/dist/hls.min.js",
		"/usr/local/lib/node_modules/hls.js/dist/hls.min.js", "node_modules/hls.js/dist/hls.min.js"} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

const pageHead = `<!doctype html><html><head><meta charset="utf-8"><title>Eddy video</title>
<style>body{font-family:sans-serif;margin:2em}video{width:640px;background:#000}</style></head><body>`

func (s *Service) servePlayer(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	switch r.URL.Path {
	case "/video/hls.min.js":
		p := hlsJSPath()
		if p == "" {
			http.Error(w, "hls.js is not installed: run `npm install -g hls.js` (scripts/setup.d/60-video.sh) or set EDDY_HLSJS", http.StatusNotFound)
			return
		}
		h.Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, p)
	case "/video/", "/video":
		s.mu.Lock()
		var names []string
		for _, st := range s.streams {
			if st.Account == s.o.DefaultAccount && st.Region == s.o.DefaultRegion {
				names = append(names, st.Name)
			}
		}
		s.mu.Unlock()
		sort.Strings(names)
		var b strings.Builder
		b.WriteString(pageHead + "<h1>Kinesis Video streams</h1><ul>")
		for _, n := range names {
			fmt.Fprintf(&b, `<li><a href="/video/play?stream=%s">%s</a></li>`, url.QueryEscape(n), html.EscapeString(n))
		}
		b.WriteString("</ul></body></html>")
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(b.String()))
	case "/video/play":
		name := r.URL.Query().Get("stream")
		body := fmt.Sprintf(`{"StreamName":%q,"PlaybackMode":"LIVE","Expires":43200}`, name)
		if st := r.URL.Query().Get("start"); st != "" {
			body = fmt.Sprintf(`{"StreamName":%q,"PlaybackMode":"LIVE_REPLAY","Expires":43200,"HLSFragmentSelector":{"FragmentSelectorType":"SERVER_TIMESTAMP","TimestampRange":{"StartTimestamp":%s}}}`, name, st)
		}
		if r.URL.Query().Get("container") == "MPEG_TS" {
			body = strings.Replace(body, `"Expires":43200`, `"Expires":43200,"ContainerFormat":"MPEG_TS"`, 1)
		}
		req := &awsproto.Request{Ctx: r.Context(), Body: []byte(body), Account: s.o.DefaultAccount, Region: s.o.DefaultRegion}
		out, err := opGetHLSStreamingSessionURL(s, &call{req: req, r: r, w: w})
		h.Set("Content-Type", "text/html; charset=utf-8")
		if err != nil {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "%s<p id=\"error\">%s</p></body></html>", pageHead, html.EscapeString(err.Error()))
			return
		}
		u := out.(map[string]string)["HLSStreamingSessionURL"]
		fmt.Fprintf(w, `%s<h1>%s</h1><video id="v" muted autoplay playsinline controls></video><p id="status">loading</p>
<script src="/video/hls.min.js"></script>
<script>
const v = document.getElementById('v'), st = document.getElementById('status');
const src = %q;
if (window.Hls && Hls.isSupported()) {
  const hls = new Hls({liveSyncDurationCount: 2});
  hls.on(Hls.Events.ERROR, (e, d) => { if (d.fatal) { st.textContent = 'error: ' + d.type + ' ' + d.details; } });
  hls.loadSource(src); hls.attachMedia(v);
} else if (v.canPlayType('application/vnd.apple.mpegurl')) { v.src = src; }
else { st.textContent = 'error: hls.js is not available'; }
v.addEventListener('timeupdate', () => { if (v.currentTime > 0) st.textContent = 'playing ' + v.currentTime.toFixed(1); });
</script></body></html>`, pageHead, html.EscapeString(name), u)
	default:
		http.NotFound(w, r)
	}
}
