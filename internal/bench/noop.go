package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Noop is the no-op Kinesis endpoint behind --baseline: an in-process HTTP
// server speaking just enough JSON 1.1 for the SDK to create, describe,
// list, write to and delete a stream. It stores nothing. PutRecords is
// answered by counting the request's records (countRecords) and returning
// that many successful entries with a fixed ShardId and SequenceNumber, so
// its throughput is the ceiling any server could reach on this machine with
// this client: the cost of the SDK, HTTP and the loopback network alone.
type Noop struct {
	// URL is the endpoint, e.g. http://127.0.0.1:34567.
	URL string

	srv *http.Server
	ln  net.Listener

	mu      sync.Mutex
	streams map[string]int // name -> shard count

	respMu sync.Mutex
	resp   map[int][]byte // PutRecords response by record count
}

// NoopServer starts a no-op endpoint on a free loopback port. Close it when
// done.
func NoopServer() (*Noop, error) { return NoopServerAt("127.0.0.1:0") }

// NoopServerAt starts a no-op endpoint listening on addr.
func NoopServerAt(addr string) (*Noop, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for no-op server: %w", err)
	}
	n := &Noop{
		URL:     "http://" + ln.Addr().String(),
		ln:      ln,
		streams: map[string]int{},
		resp:    map[int][]byte{},
	}
	n.srv = &http.Server{Handler: n, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := n.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("no-op server stopped", "err", err)
		}
	}()
	return n, nil
}

// Close stops the server and closes its connections.
func (n *Noop) Close() error { return n.srv.Close() }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const (
	noopShardID = "shardId-000000000000"
	noopSeq     = "49590338271490256608559692538361571095921575989136588898"
)

// ServeHTTP answers one Kinesis JSON 1.1 call.
func (n *Noop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if _, err := io.Copy(buf, r.Body); err != nil {
		noopError(w, http.StatusBadRequest, "SerializationException", "read body: "+err.Error())
		return
	}
	body := buf.Bytes()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "PutRecords":
		count, err := countRecords(body)
		if err != nil {
			noopError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		w.Write(n.putRecordsResponse(count))
	case "PutRecord":
		fmt.Fprintf(w, `{"ShardId":%q,"SequenceNumber":%q}`, noopShardID, noopSeq)
	case "CreateStream":
		var in struct {
			StreamName string
			ShardCount *int
		}
		if err := json.Unmarshal(body, &in); err != nil {
			noopError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		shards := 4
		if in.ShardCount != nil {
			shards = *in.ShardCount
		}
		n.mu.Lock()
		n.streams[in.StreamName] = shards
		n.mu.Unlock()
		w.Write([]byte(`{}`))
	case "DeleteStream":
		var in struct{ StreamName string }
		_ = json.Unmarshal(body, &in)
		n.mu.Lock()
		delete(n.streams, in.StreamName)
		n.mu.Unlock()
		w.Write([]byte(`{}`))
	case "DescribeStreamSummary":
		var in struct{ StreamName string }
		_ = json.Unmarshal(body, &in)
		n.mu.Lock()
		shards, ok := n.streams[in.StreamName]
		n.mu.Unlock()
		if !ok {
			noopError(w, http.StatusBadRequest, "ResourceNotFoundException",
				fmt.Sprintf("Stream %s under account 000000000000 not found.", in.StreamName))
			return
		}
		out := map[string]any{"StreamDescriptionSummary": map[string]any{
			"StreamName":              in.StreamName,
			"StreamARN":               "arn:aws:kinesis:us-east-1:000000000000:stream/" + in.StreamName,
			"StreamStatus":            "ACTIVE",
			"StreamModeDetails":       map[string]string{"StreamMode": "PROVISIONED"},
			"RetentionPeriodHours":    24,
			"StreamCreationTimestamp": 1.7e9,
			"EnhancedMonitoring":      []any{map[string]any{"ShardLevelMetrics": []string{}}},
			"EncryptionType":          "NONE",
			"OpenShardCount":          shards,
			"ConsumerCount":           0,
		}}
		json.NewEncoder(w).Encode(out)
	case "ListShards":
		var in struct{ StreamName string }
		_ = json.Unmarshal(body, &in)
		n.mu.Lock()
		count := n.streams[in.StreamName]
		n.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"Shards": noopShards(count)})
	default:
		noopError(w, http.StatusBadRequest, "UnknownOperationException",
			"the no-op benchmark endpoint does not implement "+op)
	}
}

// noopShards splits the 128-bit hash key space evenly, as CreateStream does.
func noopShards(count int) []map[string]any {
	shards := make([]map[string]any, 0, count)
	if count <= 0 {
		return shards
	}
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	step := new(big.Int).Div(space, big.NewInt(int64(count)))
	for i := range count {
		lo := new(big.Int).Mul(step, big.NewInt(int64(i)))
		hi := new(big.Int).Add(lo, step)
		if i == count-1 {
			hi = space
		}
		hi.Sub(hi, big.NewInt(1))
		shards = append(shards, map[string]any{
			"ShardId": fmt.Sprintf("shardId-%012d", i),
			"HashKeyRange": map[string]string{
				"StartingHashKey": lo.String(),
				"EndingHashKey":   hi.String(),
			},
			"SequenceNumberRange": map[string]string{"StartingSequenceNumber": noopSeq},
		})
	}
	return shards
}

// putRecordsResponse is the cached body answering count records.
func (n *Noop) putRecordsResponse(count int) []byte {
	n.respMu.Lock()
	defer n.respMu.Unlock()
	if b, ok := n.resp[count]; ok {
		return b
	}
	var b bytes.Buffer
	b.WriteString(`{"FailedRecordCount":0,"Records":[`)
	for i := range count {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"SequenceNumber":%q,"ShardId":%q}`, noopSeq, noopShardID)
	}
	b.WriteString(`]}`)
	n.resp[count] = b.Bytes()
	return b.Bytes()
}

func noopError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
