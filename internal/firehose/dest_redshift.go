package firehose

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/internal/firehose/fhdest"
	"github.com/eddy-streams/eddy/internal/firehose/s3dest"
)

// writeIntermediate uploads the intermediate S3 object of a Redshift
// delivery (the S3Configuration's naming and compression) and a manifest
// listing it under <Prefix>manifests/, as Firehose does before its COPY.
// It returns the object's s3:// URL.
// recs are the buffer's records after the Lambda processor (buf.recs without one).
func (s *Service) writeIntermediate(ctx context.Context, st *stream, cfg deliveryConfig, buf *buffer, recs [][]byte) (string, error) {
	bucket, _ := s3dest.BucketFromARN(deref(cfg.dest.BucketARN))
	up := s.uploader(cfg.endpoint)
	body := concat(recs, false)
	key, data, err := encodeObject(cfg.dest, cfg.name, cfg.version, buf.arrivals[0], body)
	if err != nil {
		return "", err
	}
	if err := up.Put(ctx, bucket, key, data, s3dest.ContentEncoding(deref(cfg.dest.CompressionFormat))); err != nil {
		return "", fmt.Errorf("intermediate S3 object: %w", err)
	}
	url := "s3://" + bucket + "/" + key
	mkey, mdata, err := manifestObject(cfg, deref(cfg.dest.Prefix)+"manifests/", buf.arrivals[0], []string{url})
	if err != nil {
		return "", err
	}
	if err := up.Put(ctx, bucket, mkey, mdata, ""); err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	st.m.objects.Add(1)
	return url, nil
}

// manifestObject names and encodes a COPY manifest of urls.
func manifestObject(cfg deliveryConfig, prefix string, oldestMs int64, urls []string) (string, []byte, error) {
	type entry struct {
		URL       string `json:"url"`
		Mandatory bool   `json:"mandatory"`
	}
	m := struct {
		Entries []entry `json:"entries"`
	}{}
	for _, u := range urls {
		m.Entries = append(m.Entries, entry{URL: u, Mandatory: true})
	}
	body, err := json.Marshal(m)
	if err != nil {
		return "", nil, err
	}
	plain := &S3Config{CompressionFormat: ptr(s3dest.Uncompressed), CustomTimeZone: cfg.dest.CustomTimeZone}
	key, data, err := encodeObjectAt(plain, prefix, "", cfg.name, cfg.version, oldestMs, body)
	return strings.TrimSuffix(key, ".gz"), data, err
}

// errorManifest is the manifest of a batch that could not be loaded within
// RetryOptions, written under <Prefix>errors/ for a manual backfill.
func (s *Service) errorManifest(cfg deliveryConfig, b *fhdest.Batch) (string, []byte, error) {
	return manifestObject(cfg, deref(cfg.dest.Prefix)+"errors/", b.Records[0].ArrivalMs, b.Objects)
}

// fetchObject reads an s3://bucket/key URL back from the stream's S3 endpoint.
func (s *Service) fetchObject(endpoint string) func(ctx context.Context, url string) ([]byte, error) {
	return func(ctx context.Context, url string) ([]byte, error) {
		bucket, key, ok := strings.Cut(strings.TrimPrefix(url, "s3://"), "/")
		if !ok {
			return nil, fmt.Errorf("bad object URL %s", url)
		}
		return s.uploader(endpoint).Get(ctx, bucket, key)
	}
}
