package tail

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/agent/convert"
)

// benchFile writes n combined-format access-log lines and returns the path
// and size.
func benchFile(b *testing.B, n int) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "access.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, `10.%d.%d.%d - - [25/Nov/2026:19:%02d:%02d +0000] "GET /shop/item/%d?ref=home HTTP/1.1" 200 %d "https://example.com/shop" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"`+"\n",
			i%200, (i/200)%250, i%250, (i/60)%60, i%60, i, 512+i%4096)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Close()
	return path, fi.Size()
}

// benchTail reads the whole file through a tailer and the converter chain,
// as the agent's reader goroutine does (without batching or sending).
func benchTail(b *testing.B, opts ...string) {
	const lines = 200000
	path, size := benchFile(b, lines)
	var convs []convert.Converter
	for _, o := range opts {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(o), &raw); err != nil {
			b.Fatal(err)
		}
		c, err := convert.Parse(raw, convert.Options{})
		if err != nil {
			b.Fatal(err)
		}
		convs = append(convs, c)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var out int64
	for i := 0; i < b.N; i++ {
		chain := convert.NewChain(convs...)
		tl := New(Options{Pattern: path, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
		n := 0
		for n < lines {
			if _, err := tl.Poll(func(r Record) error {
				if r.Skip {
					return nil
				}
				d, err := chain.Convert(r.Data)
				if err != nil {
					b.Fatal(err)
				}
				out += int64(len(d))
				n++
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		tl.Close()
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkTailPlainLines(b *testing.B) { benchTail(b) }

func BenchmarkTailSingleLine(b *testing.B) { benchTail(b, `{"optionName":"SINGLELINE"}`) }

func BenchmarkTailLogToJSONCombined(b *testing.B) {
	benchTail(b, `{"optionName":"LOGTOJSON","logFormat":"COMBINEDAPACHELOG"}`)
}
