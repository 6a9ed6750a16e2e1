package firehose

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/eddy-streams/eddy/internal/firehose/convert"
)

// convertPartition converts a partition's records with the Glue schema.
// Records that do not fit come back as failures; a missing table or an
// unusable schema fails every record of the partition the same way.
//
// Records are converted at delivery, not on arrival: buffered records then
// hold no rows (a row is 24 bytes and a pointer per value, which the
// garbage collector would rescan for as long as the partition buffers),
// and the rows of a partition live only while its object is written. The
// conversion is spread over the cores in contiguous slices.
func (s *Service) convertPartition(ctx context.Context, st *stream, p *lakePipeline, pt *partition) ([]byte, int, []failedRec, error) {
	n := pt.recs.len()
	recs := make([]*lakeRec, 0, n)
	for _, r := range pt.recs.all() {
		recs = append(recs, r)
	}
	if p.convErr != "" {
		out := make([]failedRec, n)
		for i, r := range recs {
			out[i] = failedRec{rec: *r, errType: errTypeConversion, code: "DataFormatConversion.InvalidSchema", msg: p.convErr}
		}
		return nil, 0, out, nil
	}
	rows := make([]parquet.Row, n)
	errs := make([]*convert.RecordError, n)
	const slice = 2048
	workers := min(runtime.GOMAXPROCS(0), (n+slice-1)/slice)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				row, err := p.converter.Row(recs[i].data)
				if err != nil {
					re := &convert.RecordError{Code: convert.CodeMalformedData, Message: err.Error()}
					errors.As(err, &re)
					errs[i] = re
					continue
				}
				rows[i] = row
			}
		}()
	}
	wg.Wait()
	good := rows[:0]
	sizes := make([]int, 0, n)
	var out []failedRec
	for i, r := range recs {
		if e := errs[i]; e != nil {
			out = append(out, failedRec{rec: *r, errType: errTypeConversion, code: e.Code, msg: e.Message})
			continue
		}
		good = append(good, rows[i])
		sizes = append(sizes, len(r.data))
	}
	var data []byte
	if len(good) > 0 {
		var err error
		if data, err = p.converter.Write(good, sizes); err != nil {
			return nil, 0, nil, err
		}
	}
	st.m.conversionFailed.Add(int64(len(out)))
	return data, len(good), out, nil
}
