package bench

// A minimal HTTP/2 client for the fixed-rate fan-out subscribers, with
// the flow control of the clients the phases stand for rather than Go's.
//
// Go's HTTP/2 transport returns receive window to the server for every
// 4 KiB read (x/net/http2 inflowMinRefresh), so a server streaming events
// to it reads a WINDOW_UPDATE frame, one syscall and a hop through its
// serve loop per 4 KiB. The Node.js SDK's client (nghttp2 with its default
// 65,535-byte windows) updates a window once half of it is consumed, and
// the Java SDK's Netty client likewise at half of a 1 MiB window. h2Conn
// does the same: SETTINGS_INITIAL_WINDOW_SIZE and the connection window
// are its window (Node's 65,535 bytes unless set), and consumed bytes go
// back in one WINDOW_UPDATE per half window (per stream and for the
// connection), counted as the reader consumes them, so a slow reader is
// still flow-controlled.
//
// It speaks h2c with prior knowledge or h2 over TLS (ALPN), sends a
// request's headers and small body, and delivers each stream's response
// status and body; SETTINGS and PING are acknowledged, everything else a
// subscriber never sees (push, trailers, large uploads) is not supported.

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2DefaultWindow is the receive window per stream and per connection
// unless set (Node.js http2's default; the Java SDK's Netty client uses
// 1 MiB).
const h2DefaultWindow = 65535

// h2Conn is one client connection.
type h2Conn struct {
	conn   net.Conn
	scheme string
	host   string
	window int // receive window per stream and for the connection

	wmu    sync.Mutex // guards fr's writes, henc, hbuf, nextID
	fr     *http2.Framer
	henc   *hpack.Encoder
	hbuf   bytes.Buffer
	nextID uint32

	mu       sync.Mutex // guards streams, err, connUnacked
	streams  map[uint32]*h2Stream
	err      error
	unacked  int // connection bytes consumed and not yet returned
	readDone chan struct{}
}

// dialH2 connects to the endpoint URL (http: h2c with prior knowledge,
// https: TLS with ALPN h2, certificate not verified).
func dialH2(ctx context.Context, endpoint string, window int) (*h2Conn, error) {
	if window <= 0 {
		window = h2DefaultWindow
	}
	window = min(window, 1<<31-1)
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", host, err)
	}
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}, ServerName: u.Hostname()}) // the bench's own loopback server
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", host, err)
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			conn.Close()
			return nil, fmt.Errorf("%s negotiated %q, not h2", host, p)
		}
		conn = tc
	}
	c := &h2Conn{conn: conn, scheme: u.Scheme, host: u.Host, window: window, nextID: 1, streams: map[uint32]*h2Stream{}, readDone: make(chan struct{})}
	c.fr = http2.NewFramer(conn, conn)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = 1 << 20
	c.henc = hpack.NewEncoder(&c.hbuf)
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		conn.Close()
		return nil, fmt.Errorf("write preface: %w", err)
	}
	if err := c.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: uint32(window)}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("write settings: %w", err)
	}
	if window > h2DefaultWindow { // the connection window starts at 65,535
		if err := c.fr.WriteWindowUpdate(0, uint32(window-h2DefaultWindow)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("write window update: %w", err)
		}
	}
	go c.readLoop()
	return c, nil
}

// Close ends the connection and every stream on it.
func (c *h2Conn) Close() error {
	err := c.conn.Close()
	<-c.readDone
	return err
}

// do sends req (its body read whole) and returns the response stream once
// the response headers arrived.
func (c *h2Conn) do(req *http.Request) (*h2Stream, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	st := &h2Stream{c: c, status: make(chan int, 1)}
	st.cond.L = &st.mu
	c.wmu.Lock()
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		c.wmu.Unlock()
		return nil, err
	}
	st.id = c.nextID
	c.nextID += 2
	c.streams[st.id] = st
	c.mu.Unlock()
	c.hbuf.Reset()
	field := func(k, v string) { c.henc.WriteField(hpack.HeaderField{Name: k, Value: v}) }
	field(":method", req.Method)
	field(":scheme", c.scheme)
	field(":authority", c.host)
	field(":path", req.URL.RequestURI())
	for k, vs := range req.Header {
		for _, v := range vs {
			field(strings.ToLower(k), v)
		}
	}
	field("content-length", strconv.Itoa(len(body)))
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: st.id, BlockFragment: c.hbuf.Bytes(), EndHeaders: true, EndStream: len(body) == 0})
	if err == nil && len(body) > 0 {
		err = c.fr.WriteData(st.id, true, body)
	}
	c.wmu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("write request: %w", err))
		return nil, err
	}
	ctx := req.Context()
	select {
	case code := <-st.status:
		st.code = code
		return st, nil
	case <-ctx.Done():
		st.cancel()
		return nil, ctx.Err()
	}
}

// readLoop dispatches the server's frames until the connection fails.
func (c *h2Conn) readLoop() {
	defer close(c.readDone)
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.fail(fmt.Errorf("read frame: %w", err))
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				c.write(func() error { return c.fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				c.write(func() error { return c.fr.WritePing(true, f.Data) })
			}
		case *http2.MetaHeadersFrame:
			st := c.stream(f.StreamID)
			if st == nil {
				continue
			}
			if s := f.PseudoValue("status"); s != "" {
				code, _ := strconv.Atoi(s)
				select {
				case st.status <- code:
				default: // trailers
				}
			}
			if f.StreamEnded() {
				c.forget(st.id)
				st.end(io.EOF)
			}
		case *http2.DataFrame:
			st := c.stream(f.StreamID)
			if st == nil {
				// A cancelled stream's data still counts for the connection.
				c.consumed(nil, len(f.Data()))
				continue
			}
			st.push(f.Data())
			if f.StreamEnded() {
				c.forget(st.id)
				st.end(io.EOF)
			}
		case *http2.RSTStreamFrame:
			if st := c.stream(f.StreamID); st != nil {
				c.forget(st.id)
				st.end(fmt.Errorf("stream reset by server: %v", f.ErrCode))
			}
		case *http2.GoAwayFrame:
			c.mu.Lock()
			for id, st := range c.streams {
				if id > f.LastStreamID {
					st.end(fmt.Errorf("GOAWAY %v", f.ErrCode))
				}
			}
			c.mu.Unlock()
		}
	}
}

// forget drops a stream the server ended: its remaining body stays
// readable, and closing it sends no RST_STREAM.
func (c *h2Conn) forget(id uint32) {
	c.mu.Lock()
	delete(c.streams, id)
	c.mu.Unlock()
}

func (c *h2Conn) stream(id uint32) *h2Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// write runs one framer write under the write lock, failing the
// connection on error.
func (c *h2Conn) write(f func() error) {
	c.wmu.Lock()
	err := f()
	c.wmu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("write frame: %w", err))
	}
}

// fail ends every stream with err and closes the connection.
func (c *h2Conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	streams := c.streams
	c.streams = map[uint32]*h2Stream{}
	c.mu.Unlock()
	for _, st := range streams {
		st.end(err)
	}
	c.conn.Close()
}

// consumed returns n bytes of window for st (nil: the connection only),
// in one WINDOW_UPDATE per half window.
func (c *h2Conn) consumed(st *h2Stream, n int) {
	var connInc, streamInc int
	c.mu.Lock()
	c.unacked += n
	if c.unacked >= c.window/2 {
		connInc, c.unacked = c.unacked, 0
	}
	c.mu.Unlock()
	if st != nil {
		st.mu.Lock()
		st.unacked += n
		if st.unacked >= c.window/2 && !st.done {
			streamInc, st.unacked = st.unacked, 0
		}
		st.mu.Unlock()
	}
	if connInc == 0 && streamInc == 0 {
		return
	}
	c.write(func() error {
		if connInc > 0 {
			if err := c.fr.WriteWindowUpdate(0, uint32(connInc)); err != nil {
				return err
			}
		}
		if streamInc > 0 {
			return c.fr.WriteWindowUpdate(st.id, uint32(streamInc))
		}
		return nil
	})
}

// h2Stream is one response: its status and a body buffer the read loop
// fills and Read drains.
type h2Stream struct {
	c      *h2Conn
	id     uint32
	status chan int
	code   int

	mu      sync.Mutex
	cond    sync.Cond
	buf     []byte
	off     int
	err     error // set once the stream ended (io.EOF when cleanly)
	done    bool  // err set
	unacked int
}

func (st *h2Stream) push(p []byte) {
	st.mu.Lock()
	if st.off > 0 && st.off == len(st.buf) {
		st.buf, st.off = st.buf[:0], 0
	}
	st.buf = append(st.buf, p...)
	st.mu.Unlock()
	st.cond.Signal()
}

func (st *h2Stream) end(err error) {
	st.mu.Lock()
	if !st.done {
		st.done, st.err = true, err
	}
	st.mu.Unlock()
	st.cond.Broadcast()
	select {
	case st.status <- 0: // a stream that ends before its headers
	default:
	}
}

// Read implements io.Reader over the stream's body.
func (st *h2Stream) Read(p []byte) (int, error) {
	st.mu.Lock()
	for st.off == len(st.buf) && !st.done {
		st.cond.Wait()
	}
	if st.off == len(st.buf) {
		err := st.err
		st.mu.Unlock()
		return 0, err
	}
	n := copy(p, st.buf[st.off:])
	st.off += n
	st.mu.Unlock()
	st.c.consumed(st, n)
	return n, nil
}

// cancel resets the stream and forgets it.
func (st *h2Stream) cancel() {
	c := st.c
	c.mu.Lock()
	_, open := c.streams[st.id]
	delete(c.streams, st.id)
	c.mu.Unlock()
	st.end(errors.New("stream cancelled"))
	if open {
		c.write(func() error { return c.fr.WriteRSTStream(st.id, http2.ErrCodeCancel) })
	}
}

// Close implements io.Closer: it resets a stream still open.
func (st *h2Stream) Close() error {
	st.cancel()
	return nil
}
