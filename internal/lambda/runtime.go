package lambda

// The Lambda Runtime API and the processes behind it. A pool holds one
// function configuration's processes; each process (instance) has its own
// loopback HTTP listener serving
//
//	GET  /2018-06-01/runtime/invocation/next
//	POST /2018-06-01/runtime/invocation/{id}/response
//	POST /2018-06-01/runtime/invocation/{id}/error
//	POST /2018-06-01/runtime/init/error
//
// so an instance runs one invocation at a time. An invocation is handed to
// the runtime's pending /next; the timeout (the function's Timeout, from
// the hand-off including a cold start) kills the process group and the
// instance is dropped; a process that exits mid-invocation fails it with
// Runtime.ExitError. Idle instances are reused (warm starts).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Result is a function's answer. FunctionError is "" or "Unhandled" (the
// X-Amz-Function-Error header); Payload is the response or AWS's error
// object.
type Result struct {
	Payload       []byte
	FunctionError string
	reset         bool // the runtime is reset (not reused) after this result
}

// errThrottled: the pool is at its concurrency limit.
var errThrottled = errors.New("lambda: concurrency limit reached")

// errRetired: the pool was replaced (code, configuration or tags changed)
// or its function deleted; the caller looks the function up again.
var errRetired = errors.New("lambda: function changed")

type pool struct {
	s   *Service
	fn  snapshot
	log io.Writer // the function's log file, shared by its processes

	mu     sync.Mutex
	idle   []*instance
	n      int // live instances: idle, busy and starting
	limit  int
	closed bool
}

// snapshot is what a process needs of its function, fixed at pool creation.
type snapshot struct {
	name, arn, region, runtime, handler, dir string
	timeout                                  time.Duration
	memory                                   int
	env                                      map[string]string
	remote, remoteName                       string
}

func (s *Service) newPool(f *function) *pool {
	c := f.Config
	sn := snapshot{name: c.FunctionName, arn: c.FunctionArn, region: f.Region, runtime: c.Runtime, handler: c.Handler,
		dir: f.CodeDir, timeout: time.Duration(c.Timeout) * time.Second, memory: c.MemorySize,
		remote: f.Tags[tagEndpoint], remoteName: f.Tags[tagRemoteName]}
	if sn.remoteName == "" {
		sn.remoteName = c.FunctionName
	}
	if c.Environment != nil {
		sn.env = c.Environment.Variables
	}
	limit := s.o.MaxConcurrency
	if f.Reserved != nil {
		limit = *f.Reserved
	}
	p := &pool{s: s, fn: sn, limit: limit}
	lf, err := os.OpenFile(filepath.Join(s.o.Dir, "logs", c.FunctionName+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.log.Warn("function log", "function", c.FunctionName, "err", err)
		p.log = io.Discard
	} else {
		p.log = lf
	}
	return p
}

// close kills idle instances; busy ones die when their invocation ends.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, i := range idle {
		i.kill()
	}
	// p.log stays open: invocations in flight (and processes starting for
	// them) still write to it; the os.File finalizer closes it once the
	// retired pool is unreachable
}

func (p *pool) setLimit(n int) {
	p.mu.Lock()
	p.limit = n
	p.mu.Unlock()
}

// invoke runs one invocation with payload on a warm or new process.
func (p *pool) invoke(ctx context.Context, reqID string, payload []byte) (Result, error) {
	if p.fn.remote != "" {
		return p.invokeRemote(ctx, payload)
	}
	inst, err := p.acquire()
	if err != nil {
		return Result{}, err
	}
	warm := inst != nil
	if inst == nil {
		inst, err = p.start()
		if err != nil {
			p.mu.Lock()
			p.n--
			p.mu.Unlock()
			fmt.Fprintf(p.log, "START RequestId: %s Version: $LATEST\n%s\nEND RequestId: %s\n", reqID, err, reqID)
			return errResult(reqID, "Runtime.InvalidEntrypoint", err.Error()), nil
		}
	}
	start := time.Now()
	fmt.Fprintf(p.log, "START RequestId: %s Version: $LATEST\n", reqID)
	res, healthy, handed := inst.run(ctx, reqID, payload, p.fn.timeout)
	for !handed && warm {
		// a warm process that died while idle: not this call's fault
		p.release(inst, false)
		if inst, err = p.acquire(); err != nil {
			return Result{}, err
		}
		if warm = inst != nil; !warm {
			if inst, err = p.start(); err != nil {
				p.mu.Lock()
				p.n--
				p.mu.Unlock()
				return errResult(reqID, "Runtime.InvalidEntrypoint", err.Error()), nil
			}
		}
		res, healthy, handed = inst.run(ctx, reqID, payload, p.fn.timeout)
	}
	d := time.Since(start)
	fmt.Fprintf(p.log, "END RequestId: %s\nREPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\n",
		reqID, reqID, float64(d.Microseconds())/1000, d.Milliseconds()+1, p.fn.memory)
	p.release(inst, healthy)
	return res, nil
}

// acquire returns an idle instance, or nil with a slot reserved for a new
// one, or errThrottled.
func (p *pool) acquire() (*instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.idle) > 0 {
		i := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if i.alive() && p.n <= p.limit {
			return i, nil
		}
		p.n-- // dead, or over a lowered concurrency limit
		go i.kill()
	}
	if p.closed {
		return nil, errRetired
	}
	if p.n >= p.limit {
		return nil, errThrottled
	}
	p.n++
	return nil, nil
}

func (p *pool) release(i *instance, healthy bool) {
	p.mu.Lock()
	if healthy && !p.closed && i.alive() && p.n <= p.limit {
		p.idle = append(p.idle, i)
		p.mu.Unlock()
		return
	}
	p.n--
	p.mu.Unlock()
	i.kill()
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan Result // buffered 1
}

type instance struct {
	p      *pool
	ln     net.Listener
	srv    *http.Server
	cmd    *exec.Cmd
	next   chan *invocation
	exited chan struct{}

	mu      sync.Mutex
	cur     *invocation
	initErr []byte
	exitErr error
}

// command chooses how to run the function's code.
func (sn *snapshot) command() (*exec.Cmd, error) {
	boot := filepath.Join(sn.dir, "bootstrap")
	if st, err := os.Stat(boot); err == nil && !st.IsDir() {
		return exec.Command(boot), nil
	}
	if strings.HasPrefix(sn.runtime, "nodejs") {
		ric := os.Getenv("EDDY_LAMBDA_NODE_RIC")
		if ric == "" {
			ric = filepath.Join(sn.dir, "node_modules", ".bin", "aws-lambda-ric")
		}
		if _, err := os.Stat(ric); err != nil {
			return nil, fmt.Errorf("Couldn't find valid bootstrap(s): [%s]; for %s put aws-lambda-ric in node_modules or set EDDY_LAMBDA_NODE_RIC", boot, sn.runtime)
		}
		return exec.Command(ric, sn.handler), nil
	}
	return nil, fmt.Errorf("Couldn't find valid bootstrap(s): [%s]", boot)
}

func (p *pool) start() (*instance, error) {
	cmd, err := p.fn.command()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API listener: %w", err)
	}
	i := &instance{p: p, ln: ln, cmd: cmd, next: make(chan *invocation), exited: make(chan struct{})}
	i.srv = &http.Server{Handler: i, ReadHeaderTimeout: 10 * time.Second}
	go i.srv.Serve(ln)
	cmd.Dir = p.fn.dir
	cmd.Env = p.environ(ln.Addr().String())
	cmd.Stdout, cmd.Stderr = p.log, p.log
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		i.srv.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() {
		err := cmd.Wait()
		i.mu.Lock()
		i.exitErr = err
		i.mu.Unlock()
		close(i.exited)
		i.srv.Close()
	}()
	return i, nil
}

// environ is the environment Lambda gives a function process.
func (p *pool) environ(api string) []string {
	fn := p.fn
	env := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          api,
		"_HANDLER":                        fn.handler,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.memory),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "eddy/" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_" + fn.runtime,
		"AWS_REGION":                      fn.region,
		"AWS_DEFAULT_REGION":              fn.region,
		"LAMBDA_TASK_ROOT":                fn.dir,
		"LAMBDA_RUNTIME_DIR":              fn.dir,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            os.Getenv("PATH"),
		"HOME":                            os.Getenv("HOME"),
		"AWS_ACCESS_KEY_ID":               envOr("AWS_ACCESS_KEY_ID", "eddy"),
		"AWS_SECRET_ACCESS_KEY":           envOr("AWS_SECRET_ACCESS_KEY", "eddy"),
	}
	if t := os.Getenv("AWS_SESSION_TOKEN"); t != "" {
		env["AWS_SESSION_TOKEN"] = t
	}
	if p.s.o.Endpoint != "" {
		env["AWS_ENDPOINT_URL"] = p.s.o.Endpoint
	}
	for k, v := range fn.env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (i *instance) alive() bool {
	select {
	case <-i.exited:
		return false
	default:
		return true
	}
}

func (i *instance) kill() {
	killProcessGroup(i.cmd)
	i.srv.Close()
}

// run hands one invocation to the runtime and waits for its result.
// healthy is false when the process must not be reused.
// handed is false when the process exited before taking the invocation.
func (i *instance) run(ctx context.Context, id string, payload []byte, timeout time.Duration) (res Result, healthy, handed bool) {
	inv := &invocation{id: id, payload: payload, deadline: time.Now().Add(timeout), done: make(chan Result, 1)}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case i.next <- inv:
	case <-i.exited:
		return i.exitResult(id), false, false
	case <-t.C:
		i.kill()
		return timeoutResult(id, timeout), false, true
	case <-ctx.Done():
		i.kill()
		return errResult(id, "Sandbox.Canceled", ctx.Err().Error()), false, true
	}
	select {
	case r := <-inv.done:
		return r, !r.reset, true
	case <-i.exited:
		select {
		case r := <-inv.done:
			return r, false, true
		default:
		}
		return i.exitResult(id), false, true
	case <-t.C:
		i.kill()
		return timeoutResult(id, timeout), false, true
	case <-ctx.Done():
		i.kill()
		return errResult(id, "Sandbox.Canceled", ctx.Err().Error()), false, true
	}
}

func (i *instance) exitResult(id string) Result {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.initErr != nil {
		return Result{Payload: i.initErr, FunctionError: "Unhandled"}
	}
	msg := "Runtime exited without providing a reason"
	if i.exitErr != nil {
		msg = "Runtime exited with error: " + i.exitErr.Error()
	}
	return errResult(id, "Runtime.ExitError", msg)
}

func timeoutResult(id string, d time.Duration) Result {
	return errResult(id, "Sandbox.Timedout", fmt.Sprintf("Task timed out after %.2f seconds", d.Seconds()))
}

func errResult(id, typ, msg string) Result {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": "RequestId: " + id + " Error: " + msg})
	return Result{Payload: b, FunctionError: "Unhandled"}
}

const runtimePrefix = "/2018-06-01/runtime/"

// ServeHTTP is the Runtime API of one instance.
func (i *instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, runtimePrefix)
	if !ok {
		runtimeErr(w, http.StatusNotFound, "InvalidRequest", "unknown path")
		return
	}
	switch {
	case path == "invocation/next" && r.Method == http.MethodGet:
		select {
		case inv := <-i.next:
			i.mu.Lock()
			i.cur = inv
			i.mu.Unlock()
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", i.p.fn.arn)
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24]+";Parent=0000000000000000;Sampled=0")
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
			w.WriteHeader(http.StatusOK)
			w.Write(inv.payload)
		case <-r.Context().Done():
		case <-i.exited:
		}
	case path == "init/error" && r.Method == http.MethodPost:
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		i.mu.Lock()
		i.initErr = normalizeError(b, r.Header.Get("Lambda-Runtime-Function-Error-Type"), "Runtime.InitError")
		i.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"OK"}`)
	case strings.HasPrefix(path, "invocation/") && r.Method == http.MethodPost:
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		i.mu.Lock()
		inv := i.cur
		if inv == nil || inv.id != id || (kind != "response" && kind != "error") {
			i.mu.Unlock()
			runtimeErr(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
			return
		}
		i.cur = nil
		i.mu.Unlock()
		b, err := io.ReadAll(io.LimitReader(r.Body, maxRespPayload+1))
		var res Result
		switch {
		case err != nil:
			res = errResult(id, "Runtime.ExitError", "reading the response: "+err.Error())
		case kind == "error":
			res = Result{Payload: normalizeError(b, r.Header.Get("Lambda-Runtime-Function-Error-Type"), "Unhandled"), FunctionError: "Unhandled"}
		case len(b) > maxRespPayload:
			res = Result{Payload: []byte(fmt.Sprintf(`{"errorMessage":"Response payload size exceeded maximum allowed payload size (%d bytes).","errorType":"Function.ResponseSizeTooLarge"}`, maxRespPayload)), FunctionError: "Unhandled", reset: true}
			inv.done <- res
			runtimeErr(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload too large")
			return
		default:
			res = Result{Payload: b}
		}
		inv.done <- res
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"OK"}`)
	default:
		runtimeErr(w, http.StatusNotFound, "InvalidRequest", "unknown path")
	}
}

// normalizeError keeps a runtime's error object when it is JSON, else
// wraps the text as Lambda does.
func normalizeError(b []byte, hdrType, def string) []byte {
	if json.Valid(bytes.TrimSpace(b)) && len(bytes.TrimSpace(b)) > 0 {
		return b
	}
	typ := hdrType
	if typ == "" {
		typ = def
	}
	out, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": string(b)})
	return out
}

func runtimeErr(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// invokeRemote forwards to an endpoint that speaks the Invoke API.
func (p *pool) invokeRemote(ctx context.Context, payload []byte) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.fn.timeout+5*time.Second)
	defer cancel()
	u := strings.TrimRight(p.fn.remote, "/") + "/2015-03-31/functions/" + p.fn.remoteName + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return Result{}, fmt.Errorf("remote function %s: %w", p.fn.name, err)
	}
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("remote function %s at %s: %w", p.fn.name, p.fn.remote, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRespPayload+1))
	if err != nil {
		return Result{}, fmt.Errorf("remote function %s: read: %w", p.fn.name, err)
	}
	if resp.StatusCode/100 != 2 {
		return Result{}, fmt.Errorf("remote function %s: HTTP %d: %s", p.fn.name, resp.StatusCode, bytes.TrimSpace(b))
	}
	return Result{Payload: b, FunctionError: resp.Header.Get("X-Amz-Function-Error")}, nil
}
