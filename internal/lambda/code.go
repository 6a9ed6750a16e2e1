package lambda

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/eddy-streams/eddy/internal/awserr"
)

// FunctionCode is AWS's FunctionCode shape.
type FunctionCode struct {
	ZipFile  []byte  `json:"ZipFile"` // base64 on the wire
	S3Bucket *string `json:"S3Bucket"`
	S3Key    *string `json:"S3Key"`
	ImageUri *string `json:"ImageUri"`
}

type codeInfo struct {
	dir   string
	sha   string
	size  int64
	local bool
}

// installCode extracts a zip under Dir/code/NAME/SHA, or accepts a local
// directory (S3Bucket "eddy-local", S3Key its absolute path).
func (s *Service) installCode(name string, c FunctionCode) (codeInfo, error) {
	switch {
	case c.ZipFile != nil:
		return s.extractZip(name, c.ZipFile)
	case c.S3Bucket != nil && *c.S3Bucket == localBucket:
		if c.S3Key == nil || !filepath.IsAbs(*c.S3Key) {
			return codeInfo{}, errInvalid("For local code set S3Bucket to %s and S3Key to an absolute directory path.", localBucket)
		}
		st, err := os.Stat(*c.S3Key)
		if err != nil || !st.IsDir() {
			return codeInfo{}, errInvalid("Local code directory %s does not exist.", *c.S3Key)
		}
		sum := sha256.Sum256([]byte(*c.S3Key))
		return codeInfo{dir: *c.S3Key, sha: base64.StdEncoding.EncodeToString(sum[:]), local: true}, nil
	case c.S3Bucket != nil:
		return codeInfo{}, errInvalid("Eddy does not fetch code from S3: upload a zip (ZipFile) or use S3Bucket %s with S3Key a local directory.", localBucket)
	case c.ImageUri != nil:
		return codeInfo{}, errInvalid("Container images are not supported by Eddy; use a zip with a bootstrap executable.")
	}
	return codeInfo{}, errInvalid("Please provide a source for function code.")
}

func (s *Service) extractZip(name string, b []byte) (codeInfo, error) {
	if len(b) > maxZip {
		return codeInfo{}, awserr.New(tRequestTooLarge, http.StatusRequestEntityTooLarge, "Request must be smaller than 70167211 bytes for the CreateFunction operation")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return codeInfo{}, errInvalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	sum := sha256.Sum256(b)
	var rnd [4]byte
	rand.Read(rnd[:])
	dir := filepath.Join(s.o.Dir, "code", name, hex.EncodeToString(sum[:8])+"-"+hex.EncodeToString(rnd[:]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return codeInfo{}, fmt.Errorf("code dir: %w", err)
	}
	var total int64
	for _, f := range zr.File {
		p := filepath.Clean(f.Name)
		if filepath.IsAbs(p) || p == ".." || strings.HasPrefix(p, ".."+string(filepath.Separator)) {
			os.RemoveAll(dir)
			return codeInfo{}, errInvalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
		}
		dst := filepath.Join(dir, p)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return codeInfo{}, fmt.Errorf("extract %s: %w", p, err)
			}
			continue
		}
		total += int64(f.UncompressedSize64)
		if total > maxUnzipped {
			os.RemoveAll(dir)
			return codeInfo{}, errInvalid("Unzipped size must be smaller than %d bytes", maxUnzipped)
		}
		if err := extractOne(f, dst); err != nil {
			os.RemoveAll(dir)
			return codeInfo{}, err
		}
	}
	return codeInfo{dir: dir, sha: base64.StdEncoding.EncodeToString(sum[:]), size: int64(len(b))}, nil
}

func extractOne(f *zip.File, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("extract %s: %w", f.Name, err)
	}
	mode := f.Mode().Perm()
	if mode&0o400 == 0 {
		mode |= 0o644
	}
	if filepath.Base(dst) == "bootstrap" {
		mode |= 0o755 // Lambda runs bootstrap whatever the zip says
	}
	rc, err := f.Open()
	if err != nil {
		return errInvalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("extract %s: %w", f.Name, err)
	}
	if _, err := io.Copy(out, io.LimitReader(rc, maxUnzipped)); err != nil {
		out.Close()
		return errInvalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
	}
	return out.Close()
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
